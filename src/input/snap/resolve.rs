//! Version 2 files name objects by address (`formats/snap.md` §12): the dumper never looks an
//! object up, the reader does. [`resolve`] checks such a file and builds the columns that
//! differ from what a version-1 file holds: edge targets as object numbers, INDEX labels
//! numbered, flags with their type's bits and IMMORTAL, the roots (with the objects held
//! from outside found from the refcounts) and the type records. The other columns are
//! viewed in the file as they are, unless duplicate records had to be merged or edges to
//! objects the snapshot does not hold dropped (both counted in META).
//!
//! Every check runs on the file's own bytes, so an error names a byte of the file.

use super::columns::view;
use super::layout::{self, Section, Trailer, id};
use super::validate;
use crate::error::ParseError;
use crate::graph::{AllocSites, NONE, flag, kind, root_kind};
use crate::memory::prefetch;
use serde_json::Value as Json;

/// Refcounts at or above this are immortal (3.12+) or static objects.
const IMMORTAL_REFCOUNT: u32 = 999_999_999;
/// How far ahead address lookups prefetch their slot.
const AHEAD: usize = 16;

/// The columns a version-2 file's reader builds; `None` where the file's own is used.
#[derive(Default)]
pub struct Resolved {
    pub(crate) types: Vec<[u32; 4]>,
    pub(crate) flags: Vec<u8>,
    pub(crate) edge_target: Vec<u32>,
    pub(crate) edge_label: Vec<u32>,
    pub(crate) roots: Vec<[u32; 4]>,
    pub(crate) edge_offsets: Vec<u64>,
    pub(crate) addr: Option<Vec<u64>>,
    pub(crate) type_of: Option<Vec<u32>>,
    pub(crate) size: Option<Vec<u64>>,
    pub(crate) edge_kind: Option<Vec<u8>>,
    pub(crate) object_tb: Option<Vec<u32>>,
    pub(crate) values: Option<Vec<[u32; 2]>>,
}

/// The validated views of a version-2 file.
pub struct Views<'a> {
    pub(crate) meta: Json,
    pub(crate) strings: crate::graph::Strings<'a>,
    pub(crate) addr: &'a [u64],
    pub(crate) type_of: &'a [u32],
    pub(crate) size: &'a [u64],
    pub(crate) edge_kind: &'a [u8],
    pub(crate) alloc: Option<AllocSites<'a>>,
    pub(crate) values: &'a [[u32; 2]],
}

/// An address → object number table (open addressing, linear probing, one slot per line).
struct AddressMap {
    slots: Vec<(u64, u32)>,
    shift: u32,
    mask: usize,
}

impl AddressMap {
    fn with_capacity(n: usize) -> Self {
        let len = (n.max(1) * 2).next_power_of_two();
        AddressMap {
            slots: vec![(0, NONE); len],
            shift: 64 - len.trailing_zeros(),
            mask: len - 1,
        }
    }

    #[inline]
    fn slot(&self, addr: u64) -> usize {
        ((addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn touch(&self, addr: u64) {
        prefetch(self.slots.as_ptr().wrapping_add(self.slot(addr)));
    }

    /// Insert `addr → i` unless present; returns the number it maps to.
    fn insert(&mut self, addr: u64, i: u32) -> u32 {
        let mut s = self.slot(addr);
        loop {
            let (k, v) = self.slots[s];
            if v == NONE {
                self.slots[s] = (addr, i);
                return i;
            }
            if k == addr {
                return v;
            }
            s = (s + 1) & self.mask;
        }
    }

    #[inline]
    fn get(&self, addr: u64) -> u32 {
        let mut s = self.slot(addr);
        loop {
            let (k, v) = self.slots[s];
            if v == NONE || k == addr {
                return v;
            }
            s = (s + 1) & self.mask;
        }
    }
}

fn count_is(s: &Section, want: u64, name: &str) -> Result<(), ParseError> {
    if s.count != want {
        return Err(ParseError::expected(
            s.entry_at + 16,
            &format!("{want} entries in {name}"),
            s.count,
        ));
    }
    Ok(())
}

/// Check a version-2 file (header and directory already checked; the caller checks the
/// checksum) and build its resolved columns.
pub fn resolve<'a>(
    data: &'a [u8],
    dir: &[Section],
    trailer: &Trailer,
) -> Result<(Views<'a>, Resolved), ParseError> {
    let section = super::required;
    let meta_s = section(dir, id::META)?;
    let str_off_s = section(dir, id::STR_OFFSETS)?;
    let str_data_s = section(dir, id::STR_DATA)?;
    let strings = validate::strings(
        view(data, str_off_s)?,
        str_off_s,
        view(data, str_data_s)?,
        str_data_s,
    )?;
    let n_strings = strings.len() as u64;
    let addr_s = section(dir, id::OBJ_ADDR)?;
    let addr: &[u64] = view(data, addr_s)?;
    let n = addr.len() as u64;
    let target_s = section(dir, id::EDGE_TARGET_ADDR)?;
    let target: &[u64] = view(data, target_s)?;
    let m = target.len() as u64;
    validate::counts(dir, n, m, trailer)?;
    count_is(section(dir, id::OBJ_REFCOUNT)?, n, "OBJ_REFCOUNT")?;
    count_is(section(dir, id::EDGE_COUNTS)?, n, "EDGE_COUNTS")?;
    let mut meta = validate::meta(view(data, meta_s)?, meta_s, n, m, layout::VERSION_ADDR)?;
    let baseline = meta
        .get("refcount_baseline")
        .and_then(Json::as_u64)
        .ok_or_else(|| {
            ParseError::expected(
                meta_s.offset,
                "META key \"refcount_baseline\" (an integer)",
                "none",
            )
        })?;
    let types_s = section(dir, id::TYPES)?;
    let types: &[[u32; 4]] = view(data, types_s)?;
    validate::types(types, types_s, n_strings, n)?;
    let type_addr_s = section(dir, id::TYPE_ADDR)?;
    let type_addr: &[u64] = view(data, type_addr_s)?;
    count_is(type_addr_s, types.len() as u64, "TYPE_ADDR")?;
    let type_s = section(dir, id::OBJ_TYPE)?;
    let type_of: &[u32] = view(data, type_s)?;
    validate::below(
        type_of,
        types.len() as u64,
        type_s,
        "a type index below the type count",
    )?;
    let size: &[u64] = view(data, section(dir, id::OBJ_SIZE)?)?;
    let flags: &[u8] = view(data, section(dir, id::OBJ_FLAGS)?)?;
    let refcount: &[u32] = view(data, section(dir, id::OBJ_REFCOUNT)?)?;
    let counts_s = section(dir, id::EDGE_COUNTS)?;
    let counts: &[u32] = view(data, counts_s)?;
    let mut offsets = Vec::with_capacity(counts.len() + 1);
    offsets.push(0u64);
    let mut total = 0u64;
    for &c in counts {
        total += c as u64;
        offsets.push(total);
    }
    if total != m {
        return Err(ParseError::expected(
            counts_s.offset,
            &format!("EDGE_COUNTS adding up to the {m} edges"),
            total,
        ));
    }
    let kind_s = section(dir, id::EDGE_KIND)?;
    let label_s = section(dir, id::EDGE_LABEL)?;
    let kinds: &[u8] = view(data, kind_s)?;
    let labels: &[u32] = view(data, label_s)?;
    validate::labels(kinds, labels, label_s, n_strings)?;
    let roots_s = section(dir, id::ROOTS)?;
    let roots: &[[u32; 4]] = view(data, roots_s)?;
    if let Some(i) = roots.iter().position(|r| r[2] as u64 >= n_strings) {
        return Err(ParseError::expected(
            roots_s.offset + 16 * i as u64,
            "a root naming an existing string",
            format_args!("{:?}", roots[i]),
        ));
    }
    let root_addr_s = section(dir, id::ROOT_ADDR)?;
    let root_addr: &[u64] = view(data, root_addr_s)?;
    count_is(root_addr_s, roots.len() as u64, "ROOT_ADDR")?;
    let alloc = match dir.iter().find(|s| s.id == id::FRAMES) {
        None => None,
        Some(frames_s) => {
            let parts = [
                frames_s,
                section(dir, id::TB_OFFSETS)?,
                section(dir, id::TB_FRAMES)?,
                section(dir, id::OBJ_TRACEBACK)?,
            ];
            let sites = AllocSites {
                frames: view(data, parts[0])?,
                tb_offsets: view(data, parts[1])?,
                tb_frames: view(data, parts[2])?,
                object_tb: view(data, parts[3])?,
            };
            validate::alloc(&sites, parts, n, n_strings)?;
            Some(sites)
        }
    };
    let values: &[[u32; 2]] = match dir.iter().find(|s| s.id == id::VALUES) {
        None => &[],
        Some(s) => {
            let v = view(data, s)?;
            validate::values(v, s, n, n_strings)?;
            v
        }
    };

    // Object numbers: the first record of each address; later ones merge into it.
    let mut map = AddressMap::with_capacity(addr.len());
    let mut duplicates = 0u64;
    for (i, &a) in addr.iter().enumerate() {
        if let Some(&ahead) = addr.get(i + AHEAD) {
            map.touch(ahead);
        }
        if map.insert(a, i as u32) != i as u32 {
            duplicates += 1;
        }
    }
    // Without duplicates record i is object i; with them, the kept records are renumbered.
    let renumber: Option<Vec<u32>> = (duplicates > 0).then(|| {
        let mut next = 0u32;
        addr.iter()
            .enumerate()
            .map(|(i, &a)| {
                if map.get(a) == i as u32 {
                    next += 1;
                    next - 1
                } else {
                    NONE
                }
            })
            .collect()
    });
    let number = |record: u32| match &renumber {
        None => record,
        Some(r) => r[record as usize],
    };
    let kept = |i: usize| renumber.as_ref().is_none_or(|r| r[i] != NONE);

    // Edge targets (NONE: not an object of the snapshot), looked up on two threads.
    let mut resolved = vec![NONE; target.len()];
    let half = target.len() / 2;
    let (lo, hi) = resolved.split_at_mut(half);
    std::thread::scope(|s| {
        let map = &map;
        s.spawn(move || lookup(map, &target[..half], lo));
        lookup(map, &target[half..], hi);
    });
    if let Some(r) = &renumber {
        for t in resolved.iter_mut().filter(|t| **t != NONE) {
            *t = r[*t as usize];
        }
    }
    let dangling = resolved.iter().filter(|&&t| t == NONE).count() as u64;

    // Rows of the kept records: targets, labels (INDEX numbered), kinds and offsets when
    // something was dropped.
    let rebuild = duplicates > 0 || dangling > 0;
    let mut out = Resolved {
        edge_target: Vec::with_capacity(target.len() - dangling as usize),
        edge_label: Vec::with_capacity(target.len() - dangling as usize),
        ..Default::default()
    };
    let mut e_kind = Vec::new();
    let mut e_off = Vec::new();
    if rebuild {
        e_kind.reserve(target.len());
        e_off.reserve(addr.len() + 1);
        e_off.push(0u64);
    }
    for i in 0..addr.len() {
        if !kept(i) {
            continue;
        }
        let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
        let mut index = 0u32;
        for e in a..b {
            let k = kinds[e];
            let mut label = labels[e];
            if k == kind::INDEX {
                if label == NONE {
                    label = index;
                }
                index += 1;
            }
            let t = resolved[e];
            if t == NONE {
                continue;
            }
            out.edge_target.push(t);
            out.edge_label.push(label);
            if rebuild {
                e_kind.push(k);
            }
        }
        if rebuild {
            e_off.push(out.edge_target.len() as u64);
        }
    }
    drop(resolved);

    // Flags get their type's bits and IMMORTAL; columns of merged records are dropped.
    let n1 = addr.len() - duplicates as usize;
    out.flags = Vec::with_capacity(n1);
    for i in (0..addr.len()).filter(|&i| kept(i)) {
        let mut f = (flags[i] | types[type_of[i] as usize][3] as u8) & 0x7f;
        if refcount[i] >= IMMORTAL_REFCOUNT {
            f |= flag::IMMORTAL;
        }
        out.flags.push(f);
    }
    if duplicates > 0 {
        let pick = |i: &usize| kept(*i);
        out.addr = Some((0..addr.len()).filter(pick).map(|i| addr[i]).collect());
        out.type_of = Some((0..addr.len()).filter(pick).map(|i| type_of[i]).collect());
        out.size = Some((0..addr.len()).filter(pick).map(|i| size[i]).collect());
        if let Some(a) = &alloc {
            out.object_tb = Some(
                (0..addr.len())
                    .filter(pick)
                    .map(|i| a.object_tb[i])
                    .collect(),
            );
        }
        out.values = Some(
            values
                .iter()
                .filter(|v| kept(v[0] as usize))
                .map(|v| [number(v[0]), v[1]])
                .collect(),
        );
    }
    if rebuild {
        out.edge_kind = Some(e_kind);
        out.edge_offsets = e_off;
    } else {
        out.edge_offsets = offsets;
    }

    // Roots by address, then the objects whose refcount exceeds their strong in-degree.
    let find = |a: u64| match map.get(a) {
        NONE => None,
        i => Some(number(i)),
    };
    let mut unresolved_roots = 0u64;
    for (r, &a) in roots.iter().zip(root_addr) {
        match find(a) {
            Some(i) => out.roots.push([i, r[1], r[2], r[3]]),
            None => unresolved_roots += 1,
        }
    }
    let mut indeg = vec![0u32; n1];
    let kinds_now: &[u8] = out.edge_kind.as_deref().unwrap_or(kinds);
    for (&t, &k) in out.edge_target.iter().zip(kinds_now) {
        if k != kind::WEAK {
            indeg[t as usize] = indeg[t as usize].saturating_add(1);
        }
    }
    for (j, i) in (0..addr.len()).filter(|&i| kept(i)).enumerate() {
        let f = out.flags[j];
        let extra = refcount[i] as i64 - baseline as i64 - indeg[j] as i64;
        if f & (flag::IMMORTAL | flag::IS_FRAME) == 0 && extra > 0 {
            let extra = extra.min(NONE as i64 - 1) as u32;
            out.roots
                .push([j as u32, root_kind::HELD_FROM_OUTSIDE, 0, extra]);
        }
    }
    drop(indeg);

    out.types = types
        .iter()
        .zip(type_addr)
        .map(|(t, &a)| [t[0], t[1], find(a).unwrap_or(NONE), 0])
        .collect();

    if let Some(o) = meta.as_object_mut() {
        o.insert("format_version".into(), Json::from(layout::VERSION));
        o.insert(
            "file_format_version".into(),
            Json::from(layout::VERSION_ADDR),
        );
        o.insert("objects".into(), Json::from(n1));
        o.insert("edges".into(), Json::from(out.edge_target.len()));
        o.insert("dangling_edges".into(), Json::from(dangling));
        o.insert("duplicate_objects".into(), Json::from(duplicates));
        o.insert("unresolved_roots".into(), Json::from(unresolved_roots));
    }
    let views = Views {
        meta,
        strings,
        addr,
        type_of,
        size,
        edge_kind: kinds,
        alloc,
        values,
    };
    Ok((views, out))
}

/// `out[e]` = the first record at address `targets[e]`, or NONE.
fn lookup(map: &AddressMap, targets: &[u64], out: &mut [u32]) {
    for (e, (&a, o)) in targets.iter().zip(out.iter_mut()).enumerate() {
        if let Some(&ahead) = targets.get(e + AHEAD) {
            map.touch(ahead);
        }
        *o = map.get(a);
    }
}
