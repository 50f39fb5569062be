//! Version 2 files name objects by address (`formats/snap.md` §12): the dumper never looks an
//! object up, the reader does. This turns such a file into the version-1 image the rest of
//! the reader views in place: every address resolved to an object number, duplicate records
//! merged, edges to objects the snapshot does not hold dropped (counted in META), INDEX
//! labels numbered, type flag bits and IMMORTAL set, and the objects held from outside
//! found from the refcounts.
//!
//! Everything is checked against the version-2 file first, so an error names a byte of the
//! file the user has.

use super::columns::view;
use super::layout::{self, Section, id};
use super::validate;
use crate::error::ParseError;
use crate::graph::{AllocSites, NONE, flag, kind, root_kind};
use serde_json::Value as Json;

/// Refcounts at or above this are immortal (3.12+) or static objects.
const IMMORTAL_REFCOUNT: u32 = 999_999_999;

/// A byte buffer that starts on an 8-byte boundary, so its sections can be viewed in place.
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    fn from_bytes(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_ne_bytes(b);
        }
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `words` owns at least `len` initialised bytes; u8 has no alignment or
        // validity requirements.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }
}

/// An address → first object number table (open addressing, linear probing).
struct AddressMap {
    keys: Vec<u64>,
    vals: Vec<u32>,
    mask: usize,
}

impl AddressMap {
    fn with_capacity(n: usize) -> Self {
        let slots = (n.max(1) * 2).next_power_of_two();
        AddressMap {
            keys: vec![0; slots],
            vals: vec![NONE; slots],
            mask: slots - 1,
        }
    }

    fn slot(&self, addr: u64) -> usize {
        ((addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    /// Insert `addr → i` unless present; returns the number it maps to.
    fn insert(&mut self, addr: u64, i: u32) -> u32 {
        let mut s = self.slot(addr);
        loop {
            if self.vals[s] == NONE {
                self.keys[s] = addr;
                self.vals[s] = i;
                return i;
            }
            if self.keys[s] == addr {
                return self.vals[s];
            }
            s = (s + 1) & self.mask;
        }
    }

    fn get(&self, addr: u64) -> Option<u32> {
        let mut s = self.slot(addr);
        loop {
            match self.vals[s] {
                NONE => return None,
                v if self.keys[s] == addr => return Some(v),
                _ => s = (s + 1) & self.mask,
            }
        }
    }
}

fn section<'d>(dir: &'d [Section], sid: u32) -> Result<&'d Section, ParseError> {
    dir.iter().find(|s| s.id == sid).ok_or_else(|| {
        ParseError::expected(layout::HEADER_SIZE, "all required sections", "one missing")
    })
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

fn le32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le64(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le4(v: &[[u32; 4]]) -> Vec<u8> {
    v.iter().flatten().flat_map(|x| x.to_le_bytes()).collect()
}

/// The version-1 image of a version-2 file whose header, directory and checksum were
/// checked by the caller.
pub fn to_v1(data: &[u8], dir: &[Section]) -> Result<AlignedBytes, ParseError> {
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
    if n >= NONE as u64 {
        return Err(ParseError::expected(0, "fewer than 2^32-1 objects", n));
    }
    let target_s = section(dir, id::EDGE_TARGET_ADDR)?;
    let target: &[u64] = view(data, target_s)?;
    let m = target.len() as u64;
    for (sid, want, name) in [
        (id::OBJ_TYPE, n, "OBJ_TYPE"),
        (id::OBJ_SIZE, n, "OBJ_SIZE"),
        (id::OBJ_FLAGS, n, "OBJ_FLAGS"),
        (id::OBJ_REFCOUNT, n, "OBJ_REFCOUNT"),
        (id::EDGE_OFFSETS, n + 1, "EDGE_OFFSETS"),
        (id::EDGE_KIND, m, "EDGE_KIND"),
        (id::EDGE_LABEL, m, "EDGE_LABEL"),
        (id::OBJ_TRACEBACK, n, "OBJ_TRACEBACK"),
    ] {
        if let Some(s) = dir.iter().find(|s| s.id == sid) {
            count_is(s, want, name)?;
        }
    }
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
    let off_s = section(dir, id::EDGE_OFFSETS)?;
    let offsets: &[u64] = view(data, off_s)?;
    validate::offsets(offsets, off_s, m, "EDGE_OFFSETS")?;
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

    // Object numbers: the first record of each address; later ones are merged into it.
    let mut map = AddressMap::with_capacity(addr.len());
    let mut new_index = vec![NONE; addr.len()];
    let mut kept = 0u32;
    let mut duplicates = 0u64;
    for (i, &a) in addr.iter().enumerate() {
        let first = map.insert(a, i as u32);
        if first == i as u32 {
            new_index[i] = kept;
            kept += 1;
        } else {
            duplicates += 1;
        }
    }
    let resolve = |a: u64| map.get(a).map(|i| new_index[i as usize]);

    // Edges of the kept records, targets resolved, INDEX labels numbered.
    let mut e_off = Vec::with_capacity(kept as usize + 1);
    let mut e_target = Vec::with_capacity(target.len());
    let mut e_kind = Vec::with_capacity(target.len());
    let mut e_label = Vec::with_capacity(target.len());
    let mut dangling = 0u64;
    e_off.push(0u64);
    for i in 0..addr.len() {
        if new_index[i] == NONE {
            continue;
        }
        let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
        let mut index = 0u32;
        for e in a..b {
            let Some(t) = resolve(target[e]) else {
                dangling += 1;
                if kinds[e] == kind::INDEX {
                    index += 1;
                }
                continue;
            };
            let mut label = labels[e];
            if kinds[e] == kind::INDEX {
                if label == NONE {
                    label = index;
                }
                index += 1;
            }
            e_target.push(t);
            e_kind.push(kinds[e]);
            e_label.push(label);
        }
        e_off.push(e_target.len() as u64);
    }

    // Object columns of the kept records; flags get their type's bits and IMMORTAL.
    let keep = |i: &usize| new_index[*i] != NONE;
    let all = 0..addr.len();
    let o_addr: Vec<u64> = all.clone().filter(keep).map(|i| addr[i]).collect();
    let o_type: Vec<u32> = all.clone().filter(keep).map(|i| type_of[i]).collect();
    let o_size: Vec<u64> = all.clone().filter(keep).map(|i| size[i]).collect();
    let o_rc: Vec<u32> = all.clone().filter(keep).map(|i| refcount[i]).collect();
    let mut o_flags: Vec<u8> = all
        .clone()
        .filter(keep)
        .map(|i| {
            let mut f = flags[i] | (types[type_of[i] as usize][3] & 0xff) as u8;
            if refcount[i] >= IMMORTAL_REFCOUNT {
                f |= flag::IMMORTAL;
            }
            f
        })
        .collect();
    o_flags.iter_mut().for_each(|f| *f &= 0x7f);

    // Roots by address, then the objects whose refcount exceeds their strong in-degree.
    let mut o_roots: Vec<[u32; 4]> = Vec::with_capacity(roots.len());
    let mut unresolved_roots = 0u64;
    for (r, &a) in roots.iter().zip(root_addr) {
        match resolve(a) {
            Some(i) => o_roots.push([i, r[1], r[2], r[3]]),
            None => unresolved_roots += 1,
        }
    }
    let mut indeg = vec![0u32; kept as usize];
    for (&t, &k) in e_target.iter().zip(&e_kind) {
        if k != kind::WEAK {
            indeg[t as usize] = indeg[t as usize].saturating_add(1);
        }
    }
    for (i, (&rc, &d)) in o_rc.iter().zip(&indeg).enumerate() {
        if o_flags[i] & (flag::IMMORTAL | flag::IS_FRAME) != 0 {
            continue;
        }
        let extra = rc as u64 as i64 - baseline as i64 - d as i64;
        if extra > 0 {
            let extra = extra.min(NONE as i64 - 1) as u32;
            o_roots.push([i as u32, root_kind::HELD_FROM_OUTSIDE, 0, extra]);
        }
    }

    let o_types: Vec<[u32; 4]> = types
        .iter()
        .zip(type_addr)
        .map(|(t, &a)| [t[0], t[1], resolve(a).unwrap_or(NONE), 0])
        .collect();

    let (n1, m1) = (kept as u64, e_target.len() as u64);
    if let Some(o) = meta.as_object_mut() {
        o.insert("format_version".into(), Json::from(layout::VERSION));
        o.insert(
            "file_format_version".into(),
            Json::from(layout::VERSION_ADDR),
        );
        o.insert("objects".into(), Json::from(n1));
        o.insert("edges".into(), Json::from(m1));
        o.insert("dangling_edges".into(), Json::from(dangling));
        o.insert("duplicate_objects".into(), Json::from(duplicates));
        o.insert("unresolved_roots".into(), Json::from(unresolved_roots));
    }
    let meta_bytes = serde_json::to_vec(&meta)
        .map_err(|e| ParseError::expected(meta_s.offset, "META that can be written again", e))?;
    let mut sections: Vec<(u32, u32, Vec<u8>)> = vec![
        (id::META, 1, meta_bytes),
        (id::STR_OFFSETS, 8, view::<u8>(data, str_off_s)?.to_vec()),
        (id::STR_DATA, 1, view::<u8>(data, str_data_s)?.to_vec()),
        (id::TYPES, 16, le4(&o_types)),
        (id::OBJ_ADDR, 8, le64(&o_addr)),
        (id::OBJ_TYPE, 4, le32(&o_type)),
        (id::OBJ_SIZE, 8, le64(&o_size)),
        (id::OBJ_FLAGS, 1, o_flags),
        (id::EDGE_OFFSETS, 8, le64(&e_off)),
        (id::EDGE_TARGET, 4, le32(&e_target)),
        (id::EDGE_KIND, 1, e_kind),
        (id::EDGE_LABEL, 4, le32(&e_label)),
        (id::ROOTS, 16, le4(&o_roots)),
    ];
    if let Some(a) = alloc {
        let obj_tb: Vec<u32> = all.clone().filter(keep).map(|i| a.object_tb[i]).collect();
        let frames: Vec<u32> = a.frames.iter().flatten().copied().collect();
        sections.push((id::FRAMES, 8, le32(&frames)));
        sections.push((id::TB_OFFSETS, 4, le32(a.tb_offsets)));
        sections.push((id::TB_FRAMES, 4, le32(a.tb_frames)));
        sections.push((id::OBJ_TRACEBACK, 4, le32(&obj_tb)));
    }
    if !values.is_empty() {
        let mut rows: Vec<u32> = Vec::with_capacity(values.len() * 2);
        for v in values {
            let i = new_index[v[0] as usize];
            if i != NONE {
                rows.extend([i, v[1]]);
            }
        }
        sections.push((id::VALUES, 8, le32(&rows)));
    }
    Ok(AlignedBytes::from_bytes(&super::writer::assemble(
        &sections, n1, m1,
    )))
}
