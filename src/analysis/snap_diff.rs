//! The `.snap` diff: what is new and survives, which old object accumulates it (dominators),
//! by which chain it is reached, and which cycles are kept or leaked.

use super::alloc_sites::{SiteBytes, SiteShare, site_shares, site_text};
use super::chain::{self, Step};
use super::cycles::{self, CycleGroup};
use super::dominators::{Dominators, SUPER_ROOT, of_heap};
use super::identity::match_objects;
use super::paths::shortest_paths;
use super::phase::mark;
use crate::graph::{HeapGraph, NONE};
use crate::memory::prefetch;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Facts about one input snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapInfo {
    /// The file.
    pub path: String,
    /// The dumper's `step`, if given.
    pub step: Option<i64>,
    /// Objects.
    pub objects: u64,
    /// Sum of `sys.getsizeof`.
    pub bytes: u64,
    /// Unix time of the dump.
    pub time: Option<f64>,
    /// The dumper's label, if given.
    pub label: Option<String>,
    /// The process's CPU time (user + system seconds) when the snapshot was taken, less what
    /// leakhunt's own in-process snapshots used.
    pub cpu_seconds: Option<f64>,
    /// Why it was taken: `interval`, `signal`, `exit`, `attach` or `dump`.
    pub reason: Option<String>,
    /// Whether it is the snapshot taken as the process exited.
    pub exit: bool,
    /// The process it was taken in.
    pub pid: Option<i64>,
    /// When that process started (Unix seconds).
    pub process_start: Option<f64>,
    /// Snapshots of this series deleted by rotation before this one was written.
    pub thinned: Option<u64>,
}

/// How one type changed from the first snapshot to the last.
#[derive(Debug, Clone, Serialize)]
pub struct TypeGrowth {
    /// `module.qualname`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Objects in the first snapshot.
    pub count_first: u64,
    /// Objects in the last snapshot.
    pub count_last: u64,
    /// Last minus first.
    pub count_diff: i64,
    /// Bytes, last minus first.
    pub size_diff: i64,
    /// Objects that are new (and, with three or more snapshots, survived).
    pub new: u64,
    /// Their bytes.
    pub new_bytes: u64,
    /// Objects of the first snapshot gone by the last.
    pub freed: u64,
}

/// New objects by the line that allocated them (snapshots taken while tracemalloc traced).
#[derive(Debug, Clone, Serialize)]
pub struct SiteGrowth {
    /// `file:line` of the allocating frame.
    pub site: String,
    /// New objects allocated there.
    pub new: u64,
    /// Their bytes.
    pub new_bytes: u64,
}

/// An old object that accumulates new memory, and what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    /// The accumulating object's type.
    pub retainer_type: String,
    /// Its address in the last snapshot.
    pub retainer_address: String,
    /// Its chain from a root, then the leaking objects (`[*] (Type)`).
    pub chain_text: String,
    /// The chain as steps.
    pub chain: Vec<Step>,
    /// Its dominator path (only the objects every path from a root passes through, `...`
    /// where others were skipped) when that differs from the shortest chain; else `None`.
    pub dominator_chain_text: Option<String>,
    /// The most common type (by bytes) among the new objects it holds.
    pub leaking_type: String,
    /// New objects it dominates (the leaking ones and everything only they hold).
    pub new_objects: u64,
    /// Their bytes: the growth this retainer is responsible for.
    pub retained_growth_bytes: u64,
    /// Allocation site of most of the leaking memory, when recorded.
    pub alloc_site: Option<String>,
    /// The sites that allocated the most of it, largest share first (at most four).
    pub alloc_sites: Vec<SiteShare>,
    /// What its new objects' tracebacks say, to choose the sites from (not serialised).
    #[serde(skip)]
    pub sites: SiteBytes,
    /// Retainers whose chains have this same shape, grouped into this finding.
    pub group_count: u64,
    /// The grouped retainers' ids in the last snapshot, the example first (not serialised).
    #[serde(skip)]
    pub retainers: Vec<u32>,
}

/// The whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct SnapDiff {
    /// The snapshots, oldest first.
    pub snapshots: Vec<SnapInfo>,
    /// New objects in the last snapshot (with three or more: born after the first and alive
    /// in the last two).
    pub new_objects: u64,
    /// Their bytes.
    pub new_bytes: u64,
    /// New objects no root reaches (garbage awaiting collection).
    pub new_unreachable: u64,
    /// Their bytes.
    pub new_unreachable_bytes: u64,
    /// Types by growth, most first.
    pub growth_by_type: Vec<TypeGrowth>,
    /// New objects by allocation site, most bytes first (empty without allocation sites).
    pub growth_by_site: Vec<SiteGrowth>,
    /// Leak suspects, most growth first.
    pub suspects: Vec<Suspect>,
    /// Cycles among new objects.
    pub cycles: Vec<CycleGroup>,
}

/// Describe a snapshot.
pub fn info(path: &std::path::Path, g: &HeapGraph) -> SnapInfo {
    SnapInfo {
        path: path.display().to_string(),
        step: g.meta.get("step").and_then(|v| v.as_i64()),
        objects: g.object_count() as u64,
        bytes: g.total_size(),
        time: g.meta.get("time").and_then(|v| v.as_f64()),
        label: g
            .meta
            .get("label")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        // the work the program did: its CPU time less what leakhunt's own in-process
        // snapshots spent
        cpu_seconds: g.meta.get("cpu_seconds").and_then(|v| v.as_f64()).map(|c| {
            c - g
                .meta
                .get("dumper_cpu_seconds")
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        }),
        reason: g
            .meta
            .get("reason")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        exit: g
            .meta
            .get("exit")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        pid: g.meta.get("pid").and_then(|v| v.as_i64()),
        process_start: g.meta.get("process_start").and_then(|v| v.as_f64()),
        thinned: g.meta.get("thinned").and_then(|v| v.as_u64()),
    }
}

/// Which objects of the last snapshot are new: absent from the first and, with three or
/// more snapshots, present in the one before the last (born early enough to be a leak).
pub fn new_objects(snaps: &[&HeapGraph]) -> Vec<bool> {
    let from_first = match_objects(snaps[0], snaps[snaps.len() - 1]);
    new_given(snaps, &from_first)
}

/// [`new_objects`], given the match of the last snapshot's objects in the first.
pub fn new_given(snaps: &[&HeapGraph], from_first: &[u32]) -> Vec<bool> {
    let last = snaps[snaps.len() - 1];
    let from_prev = (snaps.len() >= 3).then(|| match_objects(snaps[snaps.len() - 2], last));
    new_from(from_first, from_prev.as_deref())
}

/// [`new_objects`], given the last snapshot's matches in the first snapshot and (with three
/// or more snapshots) in the one before the last.
pub fn new_from(from_first: &[u32], from_prev: Option<&[u32]>) -> Vec<bool> {
    match from_prev {
        Some(prev) => from_first
            .iter()
            .zip(prev)
            .map(|(&f, &p)| f == NONE && p != NONE)
            .collect(),
        None => from_first.iter().map(|&f| f == NONE).collect(),
    }
}

/// Diff snapshots of one process, oldest first (two or more).
pub fn diff(paths: &[PathBuf], snaps: &[&HeapGraph], top: usize) -> SnapDiff {
    let last = snaps[snaps.len() - 1];
    let from_first = match_objects(snaps[0], last);
    let is_new = new_given(snaps, &from_first);
    mark("diff: identity");
    let doms = of_heap(last);
    diff_with(paths, snaps, top, (&is_new, &from_first), &doms)
}

/// [`diff`] given which objects of the last snapshot are new, their match in the first
/// snapshot, and the last snapshot's dominators.
pub fn diff_with(
    paths: &[PathBuf],
    snaps: &[&HeapGraph],
    top: usize,
    (is_new, from_first): (&[bool], &[u32]),
    doms: &Dominators,
) -> SnapDiff {
    let first = snaps[0];
    let last = snaps[snaps.len() - 1];
    mark("(diff starts)");
    let growth_by_type = type_growth(first, last, is_new, from_first);
    mark("diff: growth by type");
    let growth_by_site = site_growth(last, is_new);
    mark("diff: growth by site");
    let (mut new_count, mut new_bytes, mut unreachable, mut unreachable_bytes) =
        (0u64, 0u64, 0u64, 0u64);
    for ((&new, &size), &idom) in is_new.iter().zip(last.size).zip(&doms.idom) {
        if new {
            new_count += 1;
            new_bytes += size;
            if idom == NONE {
                unreachable += 1;
                unreachable_bytes += size;
            }
        }
    }
    mark("diff: new and unreachable");
    let suspects = suspects(last, is_new, doms, top);
    mark("diff: suspects");
    let cycles = cycles::cycles(last, is_new, doms);
    mark("diff: cycles");
    SnapDiff {
        snapshots: paths.iter().zip(snaps).map(|(p, g)| info(p, g)).collect(),
        new_objects: new_count,
        new_bytes,
        new_unreachable: unreachable,
        new_unreachable_bytes: unreachable_bytes,
        growth_by_type,
        growth_by_site,
        suspects,
        cycles,
    }
}

fn type_growth(
    first: &HeapGraph,
    last: &HeapGraph,
    is_new: &[bool],
    kept: &[u32],
) -> Vec<TypeGrowth> {
    let mut rows: HashMap<String, TypeGrowth> = HashMap::new();
    fn row(rows: &mut HashMap<String, TypeGrowth>, name: String) -> &mut TypeGrowth {
        rows.entry(name.clone()).or_insert_with(|| TypeGrowth {
            type_name: name,
            count_first: 0,
            count_last: 0,
            count_diff: 0,
            size_diff: 0,
            new: 0,
            new_bytes: 0,
            freed: 0,
        })
    }
    let mut survives = crate::memory::huge_vec(first.object_count(), false);
    for &o in kept {
        if o != NONE {
            survives[o as usize] = true;
        }
    }
    // Summed per type id (count, bytes, freed / new, new bytes), then merged by name.
    let mut per_first = vec![(0u64, 0u64, 0u64); first.type_count()];
    for ((&t, &size), &kept) in first.type_of.iter().zip(first.size).zip(&survives) {
        let r = &mut per_first[t as usize];
        r.0 += 1;
        r.1 += size;
        r.2 += u64::from(!kept);
    }
    drop(survives);
    let mut per_last = vec![(0u64, 0u64, 0u64, 0u64); last.type_count()];
    for ((&t, &size), &new) in last.type_of.iter().zip(last.size).zip(is_new) {
        let r = &mut per_last[t as usize];
        r.0 += 1;
        r.1 += size;
        if new {
            r.2 += 1;
            r.3 += size;
        }
    }
    for (t, &(count, bytes, freed)) in per_first.iter().enumerate() {
        if count > 0 {
            let r = row(&mut rows, first.type_name(t as u32));
            r.count_first += count;
            r.size_diff -= bytes as i64;
            r.freed += freed;
        }
    }
    for (t, &(count, bytes, new, new_bytes)) in per_last.iter().enumerate() {
        if count > 0 {
            let r = row(&mut rows, last.type_name(t as u32));
            r.count_last += count;
            r.size_diff += bytes as i64;
            r.new += new;
            r.new_bytes += new_bytes;
        }
    }
    let mut out: Vec<TypeGrowth> = rows
        .into_values()
        .map(|mut r| {
            r.count_diff = r.count_last as i64 - r.count_first as i64;
            r
        })
        .filter(|r| r.count_diff != 0 || r.size_diff != 0 || r.new != 0)
        .collect();
    out.sort_by(|a, b| {
        b.size_diff
            .cmp(&a.size_diff)
            .then(b.count_diff.cmp(&a.count_diff))
            .then(a.type_name.cmp(&b.type_name))
    });
    out
}

/// Old objects that directly dominate new memory, grouped by chain shape, most bytes first.
fn suspects(g: &HeapGraph, is_new: &[bool], doms: &Dominators, top: usize) -> Vec<Suspect> {
    // New bytes and objects under each position of the dominator tree (preorder space:
    // the passes below then read the tree sequentially).
    let (vertex, idom) = doms.tree();
    let count = vertex.len();
    let mut new_here = crate::memory::huge_vec(count, false);
    let mut new_bytes = crate::memory::huge_vec(count, 0u64);
    let mut new_count = crate::memory::huge_vec(count, 0u32);
    for p in 1..count {
        if let Some(&ahead) = vertex.get(p + 8) {
            prefetch(is_new.as_ptr().wrapping_add(ahead as usize));
            prefetch(g.size.as_ptr().wrapping_add(ahead as usize));
        }
        let v = vertex[p] as usize;
        if is_new[v] {
            new_here[p] = true;
            new_bytes[p] = g.size[v];
            new_count[p] = 1;
        }
    }
    mark("suspects: gathered");
    // Credit each new subtree hanging directly under an old object to that object.
    let mut direct: HashMap<u32, (u64, u64)> = HashMap::new();
    for p in (1..count).rev() {
        let d = idom[p] as usize;
        if d == 0 {
            continue;
        }
        if new_here[p] && !new_here[d] && new_bytes[p] > 0 {
            let e = direct.entry(d as u32).or_insert((0, 0));
            e.0 += new_bytes[p];
            e.1 += new_count[p] as u64;
        }
        new_bytes[d] += new_bytes[p];
        new_count[d] += new_count[p];
    }
    // The counts are done with; their buffer holds each new object's candidate below.
    let mut owner = new_count;
    mark("suspects: credited");
    let mut ranked: Vec<(u32, u64, u64, u32)> = direct
        .into_iter()
        .map(|(p, (b, c))| (vertex[p as usize], b, c, p))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(200);
    if ranked.is_empty() {
        return Vec::new();
    }
    // What each candidate holds directly: types (weighted by the new bytes each child keeps
    // alive) and allocation sites of its new children.
    let slot: HashMap<u32, usize> = ranked.iter().enumerate().map(|(i, r)| (r.3, i)).collect();
    let mut candidate = vec![false; count];
    for r in &ranked {
        candidate[r.3 as usize] = true;
    }
    let mut held_types: Vec<HashMap<u32, u64>> = vec![HashMap::new(); ranked.len()];
    let mut site_bytes: Vec<SiteBytes> = vec![SiteBytes::default(); ranked.len()];
    for p in 1..count {
        let d = idom[p];
        if !new_here[p] || !candidate[d as usize] {
            continue;
        }
        if let Some(&i) = slot.get(&d) {
            let v = vertex[p] as usize;
            *held_types[i].entry(g.type_of[v]).or_insert(0) += new_bytes[p];
            site_bytes[i].held_objects += 1;
            if let Some(&tb) = g.alloc.and_then(|a| a.object_tb.get(v))
                && tb != NONE
            {
                *site_bytes[i].held.entry(tb).or_insert(0) += new_bytes[p];
            }
        }
    }
    // Sites weigh every new object a candidate keeps alive by its own bytes: the line that
    // allocated the payload counts, not only the line that made the small object holding it.
    // Parents come before children in preorder, so each new object takes its parent's slot.
    if let Some(a) = g.alloc {
        owner[0] = NONE;
        for p in 1..count {
            owner[p] = NONE;
            if !new_here[p] {
                continue;
            }
            let d = idom[p] as usize;
            owner[p] = if new_here[d] {
                owner[d]
            } else {
                slot.get(&(d as u32)).map_or(NONE, |&i| i as u32)
            };
            if owner[p] == NONE {
                continue;
            }
            let v = vertex[p] as usize;
            let tb = a.object_tb[v];
            if tb != NONE {
                let sb = &mut site_bytes[owner[p] as usize];
                *sb.bytes.entry(tb).or_insert(0) += g.size[v];
                *sb.counts.entry(tb).or_insert(0) += 1;
                *sb.typed.entry((g.type_of[v], tb)).or_insert(0) += g.size[v];
            }
        }
    }
    drop(owner);
    drop(new_here);
    drop(new_bytes);
    drop(candidate);
    mark("suspects: ranked");
    let paths = shortest_paths(g);
    mark("suspects: shortest paths");
    let mut groups: Vec<(String, Suspect)> = Vec::new();
    for (i, &(v, bytes, count, _)) in ranked.iter().enumerate() {
        let leaking = held_types[i]
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&t, _)| g.type_name(t))
            .unwrap_or_default();
        let hops = paths.path_to(g, v);
        let root = hops
            .first()
            .and_then(|h| paths.root_of.get(&h.object).copied());
        let mut steps = chain::steps(g, &hops, root);
        let mut dom_steps = dominator_set(doms, v)
            .and_then(|set| chain::dominator_steps(g, &hops, root, |x| set.contains(&x)));
        if steps.is_empty() {
            steps.push(Step {
                type_name: g.type_name(g.type_of[v as usize]),
                label: "(unreachable)".into(),
                bytes: g.size[v as usize],
            });
        }
        let held = Step {
            type_name: leaking.clone(),
            label: "[*]".into(),
            bytes: 0, // the group's new bytes, once all its retainers are counted (below)
        };
        if let Some(d) = &mut dom_steps {
            d.push(held.clone());
        }
        steps.push(held);
        let shape = format!("{}|{}", chain::shape(&steps), leaking);
        let sites = std::mem::take(&mut site_bytes[i]);
        if let Some((_, s)) = groups.iter_mut().find(|(k, _)| *k == shape) {
            s.group_count += 1;
            s.new_objects += count;
            s.retained_growth_bytes += bytes;
            s.retainers.push(v);
            s.sites.merge(sites);
            continue;
        }
        groups.push((
            shape,
            Suspect {
                retainer_type: g.type_name(g.type_of[v as usize]),
                retainer_address: format!("0x{:x}", g.addr[v as usize]),
                chain_text: chain::text(&steps),
                dominator_chain_text: dom_steps.map(|d| chain::text(&d)),
                chain: steps,
                leaking_type: leaking,
                new_objects: count,
                retained_growth_bytes: bytes,
                alloc_site: None,
                alloc_sites: Vec::new(),
                sites,
                group_count: 1,
                retainers: vec![v],
            },
        ));
    }
    let mut out: Vec<Suspect> = groups
        .into_iter()
        .map(|(_, mut s)| {
            s.alloc_sites = site_shares(g, &s.sites, s.retained_growth_bytes);
            s.alloc_site = s.alloc_sites.first().map(|x| x.site.clone());
            if let Some(held) = s.chain.last_mut() {
                held.bytes = s.retained_growth_bytes;
            }
            s
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.retained_growth_bytes));
    if top > 0 {
        out.truncate(top);
    }
    out
}

/// The objects dominating `v` (up to the roots), or `None` when `v` is unreachable.
fn dominator_set(doms: &super::dominators::Dominators, v: u32) -> Option<HashSet<u32>> {
    let mut set = HashSet::new();
    let mut d = doms.idom[v as usize];
    if d == NONE {
        return None;
    }
    while d != SUPER_ROOT && d != NONE && set.insert(d) {
        d = doms.idom[d as usize];
    }
    Some(set)
}

fn site_growth(g: &HeapGraph, is_new: &[bool]) -> Vec<SiteGrowth> {
    let Some(a) = g.alloc else { return Vec::new() };
    let mut by_tb: HashMap<u32, (u64, u64)> = HashMap::new();
    for ((&new, &tb), &size) in is_new.iter().zip(a.object_tb).zip(g.size) {
        if new && tb != NONE {
            let e = by_tb.entry(tb).or_insert((0, 0));
            e.0 += 1;
            e.1 += size;
        }
    }
    let mut by_site: HashMap<String, (u64, u64)> = HashMap::new();
    for (tb, (n, b)) in by_tb {
        if let Some(site) = site_text(g, tb) {
            let e = by_site.entry(site).or_insert((0, 0));
            e.0 += n;
            e.1 += b;
        }
    }
    let mut out: Vec<SiteGrowth> = by_site
        .into_iter()
        .map(|(site, (new, new_bytes))| SiteGrowth {
            site,
            new,
            new_bytes,
        })
        .collect();
    out.sort_by(|a, b| b.new_bytes.cmp(&a.new_bytes).then(a.site.cmp(&b.site)));
    out
}
