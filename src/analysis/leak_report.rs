//! The leak report: findings of the ten kinds, each with its retainer, chain, growth fit,
//! cost per step, evidence and fix, built from `.snap` diffs (full evidence) or from
//! tracemalloc dumps (allocation sites only).

use super::alloc_sites::{self, SiteShare};
use super::classify::{Verdict, classify};
use super::clock;
use super::dominators::{Dominators, SUPER_ROOT, of_heap};
use super::evidence::Context;
use super::growth::Growth;
use super::identity::match_objects;
use super::paths::shortest_paths;
use super::snap_diff::{self, SnapInfo};
use super::source_join::{self, CodeRef};
use super::str_slots::growing_slots;
use super::{chain, tm_report};
use crate::graph::{HeapGraph, NONE};
use crate::leak_kind::{Confidence, LeakKind};
use crate::text::size;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// Findings smaller than this are noise of the interpreter, not leaks.
pub const NOISE_FLOOR_BYTES: u64 = 2048;

/// One leak finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The kind.
    pub kind: LeakKind,
    /// The kind's human title.
    pub title: &'static str,
    /// How sure.
    pub confidence: Confidence,
    /// `file:line` where the leaking memory is allocated, or where its retainer lives.
    pub location: String,
    /// Allocation site of most of the leaking memory, when recorded.
    pub alloc_site: Option<String>,
    /// The sites that allocated the most of it, with their shares, largest first.
    pub alloc_sites: Vec<SiteShare>,
    /// The type that accumulates.
    pub leaking_type: String,
    /// The old object that holds it.
    pub retainer_type: String,
    /// Chain from a root to the leaking objects.
    pub chain_text: String,
    /// The same chain as steps, each with its object's size (empty for garbage cycles).
    pub chain: Vec<chain::Step>,
    /// New objects held.
    pub new_objects: u64,
    /// Their bytes at the last snapshot: what `--min-growth` compares.
    pub growth_bytes: u64,
    /// Retainers of the same shape grouped here.
    pub group_count: u64,
    /// Growth over the snapshots.
    pub growth: Growth,
    /// The facts that decided the kind.
    pub evidence: Vec<String>,
    /// How to fix it.
    pub fix: String,
    /// A leak-free example for the kind.
    pub fix_example: String,
    /// A tracemalloc snippet that confirms it.
    pub detection: String,
    /// The source lines around the allocation site, when the file is readable here.
    pub code: Option<String>,
    /// Where the retainer is defined (`self.history = []`, `_cache = {}`), when found.
    pub retainer_definition: Option<CodeRef>,
    /// What `leakhunt scan` says at the allocation site and the retainer's definition.
    pub static_findings: Vec<StaticRef>,
}

/// A source-scan finding at a heap finding's code.
#[derive(Debug, Clone, Serialize)]
pub struct StaticRef {
    /// Its kind.
    pub kind: LeakKind,
    /// `file:line:col`.
    pub site: String,
    /// The scan rule that made it.
    pub rule: &'static str,
    /// Its one-sentence reason.
    pub why: String,
    /// Whether it names the same kind as the heap finding.
    pub agrees: bool,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct LeakReport {
    /// `snap` or `tracemalloc`.
    pub input: &'static str,
    /// The snapshots, oldest first.
    pub snapshots: Vec<SnapInfo>,
    /// Findings above the line, most growth first.
    pub findings: Vec<Finding>,
    /// Findings below the line: a poor fit, or small beside the largest (`--all` shows them).
    pub minor_findings: Vec<Finding>,
    /// Candidates dropped: not growing, or below the noise floor.
    pub dismissed: u64,
    /// What the report could not tell, and why.
    pub notes: Vec<String>,
}

/// Growth fitted worse than this (r², three or more snapshots) goes below the line.
pub const MIN_FIT: f64 = 0.7;

/// A finding holding less than this percentage of the largest one's growth goes below the line.
pub const MIN_SHARE_PERCENT: u64 = 5;

/// Split findings at the line, each side most growth first. One growth gives one finding:
/// two that start from the same root object and hold the same bytes (within 3%) are the same growth
/// seen from two retainers, and the one nearer the leaking objects stays. Below the line go
/// those fitted poorly over three or more snapshots, and those holding under 5% of what the
/// largest one above holds.
pub fn at_the_line(mut findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
    findings.sort_by(by_growth);
    let (fitted, mut minor): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.growth.x.len() < 3 || f.growth.fit >= MIN_FIT);
    let mut major: Vec<Finding> = Vec::new();
    for f in fitted {
        match major.iter().position(|m| same_growth(m, &f)) {
            Some(i) if depth(&f) > depth(&major[i]) => {
                minor.push(std::mem::replace(&mut major[i], f));
            }
            Some(_) => minor.push(f),
            None => major.push(f),
        }
    }
    let largest = major.iter().map(|f| f.growth_bytes).max().unwrap_or(0);
    let (mut major, small): (Vec<Finding>, Vec<Finding>) = major
        .into_iter()
        .partition(|f| f.growth_bytes * 100 >= MIN_SHARE_PERCENT * largest);
    minor.extend(small);
    major.sort_by(by_growth);
    minor.sort_by(by_growth);
    (major, minor)
}

/// Most growth first; chains break ties, so the order is the same on every run. The sort is
/// stable: findings equal on both keep the order they came in.
fn by_growth(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.growth_bytes
        .cmp(&a.growth_bytes)
        .then(a.chain_text.cmp(&b.chain_text))
}

/// Hops in a finding's chain.
fn depth(f: &Finding) -> usize {
    f.chain_text.matches(" -> ").count()
}

/// Whether two findings are one growth: the same first two hops, the same bytes within 3%.
fn same_growth(a: &Finding, b: &Finding) -> bool {
    let root = |f: &Finding| {
        f.chain_text
            .split(" -> ")
            .take(2)
            .collect::<Vec<&str>>()
            .join(" -> ")
    };
    let (x, y) = (a.growth_bytes, b.growth_bytes);
    depth(a) >= 1 && depth(b) >= 1 && root(a) == root(b) && x.abs_diff(y) * 100 <= 3 * x.max(y)
}

/// Bring the findings below the line back among the others (`report --all`).
pub fn show_all(r: &mut LeakReport) {
    r.findings.append(&mut r.minor_findings);
    r.findings.sort_by(by_growth);
}

/// The tracemalloc snippet that confirms a finding at `site`.
pub fn detection(site: Option<&str>) -> String {
    let filter = match site.and_then(|s| s.rsplit_once(':')) {
        Some((file, _)) => format!(
            "\nstats = [s for s in stats if s.traceback[0].filename == {:?}]",
            file
        ),
        None => String::new(),
    };
    format!(
        "import tracemalloc\ntracemalloc.start(25)\nbefore = tracemalloc.take_snapshot()\n# ... run the suspected code for a while ...\nafter = tracemalloc.take_snapshot()\nstats = after.compare_to(before, 'lineno'){filter}\nfor s in stats[:10]:\n    print(s)"
    )
}

/// The type to blame: the user's own class standing behind what the retainer holds. When it
/// holds plain containers (lists, tuples, dicts, sets, deques) or bound methods, the class
/// with the most new bytes among what those keep alive is named (a bound method's
/// `__self__`, a list's records); otherwise, or when no such class is there, the held type.
fn blamed_type(held: &str, facts: &super::evidence::Facts, kind: LeakKind) -> String {
    let wrapper = wrapper_type;
    // A closure or partial: what its cells or bound arguments keep alive.
    if kind == LeakKind::ClosureCapture
        && let Some(t) = facts
            .captured
            .iter()
            .find(|t| !wrapper(&t.name))
            .or(facts.captured.first())
    {
        return t.name.clone();
    }
    // Figures: the Figure itself, not its manager, canvas or the arrays it draws.
    if kind == LeakKind::FigureAccumulation
        && let Some(t) = facts
            .subtree
            .iter()
            .filter(|t| t.name.starts_with("matplotlib.") && t.name.ends_with(".Figure"))
            .max_by(|a, b| a.count.cmp(&b.count).then(b.name.cmp(&a.name)))
    {
        return t.name.clone();
    }
    // Callbacks: the instance each bound method keeps alive through `__self__`.
    if kind == LeakKind::EventHandler
        && wrapper(held)
        && let Some(t) = facts.method_self_types.first()
    {
        return t.clone();
    }
    if !wrapper(held) {
        return held.to_string();
    }
    facts
        .subtree
        .iter()
        .filter(|t| !wrapper(&t.name))
        .max_by(|a, b| a.bytes.cmp(&b.bytes).then(b.name.cmp(&a.name)))
        .map_or_else(|| held.to_string(), |t| t.name.clone())
}

/// What the new garbage of a snapshot is made of.
struct GarbageParts {
    /// The user's class with the most new unreachable bytes, when there is one.
    blamed: Option<String>,
    /// Where those bytes were allocated.
    sites: Vec<SiteShare>,
}

/// The new objects no root reaches in `g`: the class to blame and the sites.
fn garbage_parts(g: &HeapGraph, is_new: &[bool], doms: &Dominators) -> GarbageParts {
    let mut by_type: HashMap<u32, u64> = HashMap::new();
    let mut by_tb: HashMap<u32, u64> = HashMap::new();
    let mut total = 0u64;
    for (v, &i) in doms.idom.iter().enumerate() {
        if i != NONE || !is_new[v] {
            continue;
        }
        let b = g.size[v];
        total += b;
        *by_type.entry(g.type_of[v]).or_insert(0) += b;
        if let Some(a) = g.alloc
            && let Some(&tb) = a.object_tb.get(v)
            && tb != NONE
        {
            *by_tb.entry(tb).or_insert(0) += b;
        }
    }
    let blamed = by_type
        .iter()
        .map(|(&t, &b)| (g.type_name(t), b))
        .filter(|(name, _)| !wrapper_type(name))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(name, _)| name);
    GarbageParts {
        blamed,
        sites: alloc_sites::site_shares(
            g,
            &alloc_sites::SiteBytes {
                bytes: by_tb,
                ..Default::default()
            },
            total,
        ),
    }
}

/// Whether a type only wraps or points at what a user would blame: builtins (containers,
/// bound methods, cells, strings) and the `collections`/`weakref`/`functools` wrappers.
fn wrapper_type(t: &str) -> bool {
    !t.contains('.')
        || [
            "collections.",
            "_collections.",
            "weakref.",
            "_weakref.",
            "functools.",
        ]
        .iter()
        .any(|p| t.starts_with(p))
}

/// Retained bytes and object counts of every object.
fn retained_counts(doms: &Dominators, size: &[u64]) -> (Vec<u64>, Vec<u32>) {
    let n = doms.idom.len();
    let (mut b, mut c) = (vec![0u64; n], vec![0u32; n]);
    for &v in doms.preorder() {
        b[v as usize] = size[v as usize];
        c[v as usize] = 1;
    }
    for &v in doms.preorder().iter().rev() {
        let d = doms.idom[v as usize];
        if d != SUPER_ROOT {
            b[d as usize] += b[v as usize];
            c[d as usize] += c[v as usize];
        }
    }
    (b, c)
}

/// Dominators of every snapshot, two at a time.
fn all_dominators(snaps: &[&HeapGraph]) -> Vec<Dominators> {
    let mut out: Vec<Option<Dominators>> = (0..snaps.len()).map(|_| None).collect();
    for (pair, slots) in snaps.chunks(2).zip(out.chunks_mut(2)) {
        std::thread::scope(|s| {
            let mut handles = Vec::new();
            for (g, slot) in pair.iter().zip(slots.iter_mut()) {
                handles.push(s.spawn(move || *slot = Some(of_heap(g))));
            }
            for h in handles {
                let _ = h.join();
            }
        });
    }
    out.into_iter()
        .zip(snaps)
        .map(|(d, g)| d.unwrap_or_else(|| of_heap(g)))
        .collect()
}

/// What a finding is about, before its kind is decided.
pub struct Subject {
    /// The sites that allocated its new memory, largest share first (empty when none was
    /// recorded).
    pub alloc_sites: Vec<SiteShare>,
    /// The location to show when no allocation site was recorded.
    pub fallback_location: String,
    /// The type that accumulates.
    pub leaking_type: String,
    /// The type that holds it.
    pub retainer_type: String,
    /// The retention chain.
    pub chain_text: String,
    /// The retention chain as steps.
    pub chain: Vec<chain::Step>,
    /// New objects held.
    pub new_objects: u64,
    /// Their bytes.
    pub growth_bytes: u64,
    /// Retainers grouped.
    pub group_count: u64,
}

/// A finding from its verdict, subject and growth.
pub fn finding(v: Verdict, s: Subject, growth: Growth) -> Finding {
    let alloc_site = s.alloc_sites.first().map(|x| x.site.clone());
    Finding {
        kind: v.kind,
        title: v.kind.title(),
        confidence: v.confidence,
        location: alloc_site.clone().unwrap_or(s.fallback_location),
        detection: detection(alloc_site.as_deref()),
        code: None,
        retainer_definition: None,
        static_findings: Vec::new(),
        alloc_site,
        alloc_sites: s.alloc_sites,
        leaking_type: s.leaking_type,
        retainer_type: s.retainer_type,
        chain_text: s.chain_text,
        chain: s.chain,
        new_objects: s.new_objects,
        growth_bytes: s.growth_bytes,
        group_count: s.group_count,
        growth,
        evidence: v.evidence,
        fix: v.kind.fix().to_string(),
        fix_example: v.kind.fix_example().to_string(),
    }
}

/// `file:line` of an object's recorded allocation site.
fn object_site(g: &HeapGraph, v: u32) -> Option<String> {
    let tb = *g.alloc?.object_tb.get(v as usize)?;
    if tb == NONE {
        return None;
    }
    alloc_sites::site_text(g, tb)
}

/// Where a retainer is defined when no allocation site was recorded: the module (for
/// `__main__`, the script) and the global that starts its chain.
fn retainer_location(g: &HeapGraph, chain_text: &str) -> String {
    let mut parts = chain_text.split(" -> ");
    let root = parts.next().unwrap_or("");
    let name = parts
        .next()
        .and_then(|p| p.split(" (").next())
        .unwrap_or("");
    let place = match root.strip_prefix("module ") {
        Some("__main__") => g
            .meta
            .get("argv")
            .and_then(|a| a.get(0))
            .and_then(|a| a.as_str())
            .filter(|a| !a.is_empty())
            .map_or("__main__".to_string(), str::to_string),
        Some(module) => format!("module {module}"),
        None => root.to_string(),
    };
    format!("{place}: {name} (no allocation site recorded)")
}

/// Build the report from `.snap` snapshots of one process, oldest first.
pub fn from_snaps(paths: &[PathBuf], snaps: &[&HeapGraph]) -> LeakReport {
    let n = snaps.len();
    // The snapshot taken as the process exits comes after the program's own shutdown has
    // begun (a server's graceful stop, and with an older recorder its atexit teardown:
    // figures closed, registries cleared): it can read as everything let go at once. With
    // three snapshots before it, the series is judged on those.
    let last_info = snap_diff::info(&paths[n - 1], snaps[n - 1]);
    let at_exit = last_info.exit
        || last_info.reason.as_deref() == Some("exit")
        || last_info
            .label
            .as_deref()
            .is_some_and(|l| l.starts_with("at exit"));
    if at_exit && n >= 4 {
        let mut r = from_snaps(&paths[..n - 1], &snaps[..n - 1]);
        r.notes.push(format!(
            "{} was taken as the process exited, after its shutdown began: it was left out of the fit",
            paths[n - 1].display()
        ));
        return r;
    }
    let last = snaps[n - 1];
    let maps: Vec<Vec<u32>> = snaps[..n - 1]
        .iter()
        .map(|s| match_objects(s, last))
        .collect();
    // The matches in the first and the second-to-last snapshot are already in `maps`.
    let is_new = snap_diff::new_from(&maps[0], (n >= 3).then(|| &maps[n - 2][..]));
    let doms = all_dominators(snaps);
    let d = snap_diff::diff_with(paths, snaps, 0, (&is_new, &maps[0]), &doms[n - 1]);
    let axis = clock::axis(&d.snapshots);
    let retained: Vec<(Vec<u64>, Vec<u32>)> = doms
        .iter()
        .zip(snaps)
        .map(|(dm, g)| retained_counts(dm, g.size))
        .collect();
    let series = |objs: &[u32]| {
        let mut bytes = Vec::with_capacity(n);
        let mut counts = Vec::with_capacity(n);
        for k in 0..n {
            let (mut b, mut c) = (0u64, 0u64);
            for &r in objs {
                let o = if k == n - 1 { r } else { maps[k][r as usize] };
                if o != NONE {
                    b += retained[k].0[o as usize];
                    c += retained[k].1[o as usize] as u64;
                }
            }
            bytes.push(b as f64);
            counts.push(c as f64);
        }
        clock::fit(&axis, &bytes, &counts)
    };
    let ctx = Context::new(last, &is_new, &doms[n - 1], &retained[n - 1].0);
    let slots = growing_slots(snaps, &maps);
    let mut findings = Vec::new();
    let mut dismissed = 0u64;
    let keep = |growth: &Growth, bytes: u64| {
        bytes >= NOISE_FLOOR_BYTES && (n < 3 || growth.pattern.is_growing())
    };
    let mut judged = Vec::new();
    for s in &d.suspects {
        // A string slot seen growing is reported once, as such.
        if s.leaking_type == "str"
            && s.retainers
                .iter()
                .any(|r| slots.iter().any(|x| x.owner == *r))
        {
            continue;
        }
        // leakhunt's own dumper modules are not the application's memory.
        if s.chain_text.starts_with("module leakhunt") {
            continue;
        }
        let growth = series(&s.retainers);
        if !keep(&growth, s.retained_growth_bytes) {
            dismissed += 1;
            continue;
        }
        let facts = ctx.facts(s);
        // Weak references that pile up only mirror objects kept alive elsewhere (a WeakSet
        // of live threads): the leak is reported where those objects are held.
        let weak = facts.held_count(|t| {
            t == "weakref" || t.starts_with("weakref.") || t.starts_with("_weakref")
        });
        if weak * 10 >= facts.held_total() * 9 && weak > 0 {
            dismissed += 1;
            continue;
        }
        let verdict = classify(&facts);
        judged.push((s, facts, verdict, growth));
    }
    // A retainer that holds none of its new objects itself reaches them only through the old
    // objects below it (a dict of sets of callbacks whose instances point at each other): the
    // growth is the same leak as the one those hold, so it takes that one's kind.
    let under = |r: u32, a: u32| {
        let mut d = doms[n - 1].idom[r as usize];
        for _ in 0..4 {
            if d == a {
                return true;
            }
            if d == NONE || d == SUPER_ROOT {
                return false;
            }
            d = doms[n - 1].idom[d as usize];
        }
        false
    };
    let mut absorbed = vec![false; judged.len()];
    for i in 0..judged.len() {
        if judged[i].1.held_total() > 0 {
            continue;
        }
        let a = judged[i].0.retainers[0];
        let by = (0..judged.len()).find(|&j| {
            j != i
                && judged[j].1.held_total() > 0
                && judged[j].0.retainers.iter().take(64).any(|&r| under(r, a))
        });
        if let Some(j) = by {
            let (kind, confidence) = (judged[j].2.kind, judged[j].2.confidence);
            let line = format!(
                "its new objects are reached only through what it holds below it: {} ({})",
                judged[j].0.chain_text,
                kind.as_str()
            );
            let mut ev = judged[j].2.evidence.clone();
            ev.insert(0, line);
            let (_, facts_j, _, _) = &judged[j];
            let self_types = facts_j.method_self_types.clone();
            let v = &mut judged[i].2;
            v.kind = kind;
            v.confidence = confidence;
            v.evidence.extend(ev);
            if judged[i].1.method_self_types.is_empty() {
                judged[i].1.method_self_types = self_types;
            }
            absorbed[j] = true;
        }
    }
    for (k, (s, facts, verdict, growth)) in judged.into_iter().enumerate() {
        if absorbed[k] {
            dismissed += 1;
            continue;
        }
        // A figure, file or socket is born where the library call made it; the lines that
        // later filled it (plots, buffers, dict slots) come after.
        let leaking_type = blamed_type(&s.leaking_type, &facts, verdict.kind);
        let sites = match verdict.kind {
            LeakKind::FigureAccumulation | LeakKind::UnclosedResource => {
                alloc_sites::made_first(last, &s.sites, &leaking_type, s.retained_growth_bytes)
            }
            _ => s.alloc_sites.clone(),
        };
        let subject = Subject {
            alloc_sites: sites,
            fallback_location: retainer_location(last, &s.chain_text),
            leaking_type,
            retainer_type: s.retainer_type.clone(),
            chain_text: s.chain_text.clone(),
            chain: s.chain.clone(),
            new_objects: s.new_objects,
            growth_bytes: s.retained_growth_bytes,
            group_count: s.group_count,
        };
        findings.push(finding(verdict, subject, growth));
    }
    // Strings that grow in place.
    if !slots.is_empty() {
        let paths_last = shortest_paths(last);
        for slot in slots.iter().take(20) {
            let grown = slot.sizes[n - 1] - slot.sizes[0];
            let bytes: Vec<f64> = slot.sizes.iter().map(|&b| b as f64).collect();
            let ones = vec![1.0; n];
            let growth = clock::fit(&axis, &bytes, &ones);
            if !keep(&growth, grown) {
                dismissed += 1;
                continue;
            }
            let hops = paths_last.path_to(last, slot.owner);
            let root = hops
                .first()
                .and_then(|h| paths_last.root_of.get(&h.object).copied());
            let mut steps = chain::steps(last, &hops, root);
            // A slot of an instance's or module's __dict__ reads as the owner's attribute.
            if steps.len() > 1 && steps.last().is_some_and(|s| s.label == "__dict__") {
                steps.pop();
            }
            let owner_type = last.type_name(last.type_of[slot.owner as usize]);
            let label = slot.label.trim_matches('\'').to_string();
            steps.push(chain::Step {
                type_name: slot.type_name.clone(),
                label: label.clone(),
                bytes: slot.sizes[n - 1],
            });
            let chain_text = chain::text(&steps);
            let sizes: Vec<String> = slot.sizes.iter().map(|&b| size(b as i64, false)).collect();
            let v = Verdict {
                kind: LeakKind::StringConcat,
                confidence: Confidence::High,
                evidence: vec![
                    format!(
                        "`{label}` of a long-lived {owner_type} holds a new, larger {} in every snapshot: {}",
                        slot.type_name,
                        sizes.join(" -> ")
                    ),
                    "each `+=` builds a new string and copies the old one: the slot grows without bound and the copying is quadratic".into(),
                ],
            };
            let subject = Subject {
                alloc_sites: object_site(last, slot.object)
                    .map(|site| SiteShare {
                        site,
                        bytes: slot.sizes[n - 1],
                        share: 1.0,
                    })
                    .into_iter()
                    .collect(),
                fallback_location: retainer_location(last, &chain_text),
                leaking_type: slot.type_name.clone(),
                retainer_type: owner_type,
                chain_text,
                chain: steps,
                new_objects: 1,
                growth_bytes: slot.sizes[n - 1],
                group_count: 1,
            };
            findings.push(finding(v, subject, growth));
        }
    }
    // Garbage cycles: new objects in cycles no root reaches, left for a collection that has
    // not come.
    let garbage_series = {
        let bytes: Vec<f64> = (0..n)
            .map(|k| {
                snaps[k]
                    .size
                    .iter()
                    .zip(&doms[k].idom)
                    .filter(|(_, i)| **i == NONE)
                    .map(|(s, _)| *s as f64)
                    .sum()
            })
            .collect();
        let counts: Vec<f64> = (0..n)
            .map(|k| doms[k].idom.iter().filter(|i| **i == NONE).count() as f64)
            .collect();
        clock::fit(&axis, &bytes, &counts)
    };
    // A first-generation threshold of 0 switches automatic collection off as gc.disable()
    // does (gc.set_threshold(0)).
    let threshold = last
        .meta
        .get("gc_threshold")
        .and_then(|t| t.get(0))
        .and_then(|t| t.as_u64());
    let gc_enabled = match last.meta.get("gc_enabled").and_then(|v| v.as_bool()) {
        Some(true) if threshold == Some(0) => Some(false),
        e => e,
    };
    let heap_bytes = last.total_size();
    let garbage = garbage_parts(last, &is_new, &doms[n - 1]);
    for c in d.cycles.iter().filter(|c| c.status == "garbage") {
        // With the collector running, a little garbage waits for its next pass: cycles
        // under 1% of the heap are that, not a leak.
        let pending = gc_enabled != Some(false) && c.bytes * 100 < heap_bytes;
        if pending || !keep(&garbage_series, c.bytes) {
            dismissed += 1;
            continue;
        }
        let leaking = garbage.blamed.clone().unwrap_or_else(|| {
            c.signature
                .split(" -> ")
                .nth(1)
                .and_then(|t| t.split(',').next())
                .unwrap_or("object")
                .to_string()
        });
        let why = match gc_enabled {
            Some(false) if threshold == Some(0) => {
                "automatic collection was switched off in the process (gc.set_threshold(0)): nothing frees them"
            }
            Some(false) => {
                "the cyclic GC was disabled in the process (gc.disable()): nothing frees them"
            }
            _ => {
                "the cyclic GC has not collected them yet: its thresholds are not reached, or collection is too rare for the allocation rate"
            }
        };
        let v = Verdict {
            kind: LeakKind::CircularReference,
            confidence: Confidence::High,
            evidence: vec![
                format!(
                    "{} reference cycles of the same shape ({} objects, {}) that no root reaches: {}",
                    c.count,
                    c.objects,
                    size(c.bytes as i64, false),
                    c.signature
                ),
                why.to_string(),
                format!("example: {}", c.example),
            ],
        };
        let subject = Subject {
            alloc_sites: garbage.sites.clone(),
            fallback_location: "unknown (garbage: unreachable from every root)".into(),
            leaking_type: leaking,
            retainer_type: "(none: unreachable)".into(),
            chain_text: format!("(unreachable) cycle: {}", c.signature),
            chain: Vec::new(),
            new_objects: c.objects,
            growth_bytes: c.bytes,
            group_count: c.count,
        };
        findings.push(finding(v, subject, garbage_series.clone()));
    }
    let mut notes = Vec::new();
    if n == 2 {
        notes.push(
            "two snapshots show what grew but not how: take a third to tell linear from bounded growth and to drop churn".into(),
        );
    }
    let thinned = d
        .snapshots
        .iter()
        .filter_map(|i| i.thinned)
        .max()
        .unwrap_or(0);
    if thinned > 0 {
        notes.push(format!(
            "ran on a thinned series: rotation deleted {thinned} snapshots between the baseline and the newest ones (--keep, --max-disk); the fit uses those left"
        ));
    }
    // Only a recorded series needs CPU time; a program's own dumps with steps are measured
    // against those steps.
    let recorded = d.snapshots.iter().any(|i| {
        i.reason.as_deref().is_some_and(|r| r != "dump")
            || i.label.as_deref().is_some_and(|l| {
                ["interval (#", "signal ", "at exit", "attach (#"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
    });
    if n >= 3 && recorded && axis.unit != "cpu_second" && axis.unit != "step" {
        notes.push(format!(
            "the snapshots carry no CPU time (an older leakhunt recorded them): growth is fitted against {}s, so memory that grew under load and held once the load stopped can read as a plateau",
            axis.unit
        ));
    }
    if last.alloc.is_none() {
        notes.push(
            "no allocation sites recorded: dump with tracemalloc tracing (tracemalloc.start(25)) to get File:line for each finding".into(),
        );
    }
    let (findings, minor_findings) = at_the_line(findings);
    LeakReport {
        input: "snap",
        snapshots: d.snapshots,
        findings,
        minor_findings,
        dismissed,
        notes,
    }
}

pub use tm_report::from_tracemalloc;

/// Join findings with the source: the code around each allocation site and where each
/// retainer is defined, the files found at their recorded paths or under `dirs`, and what
/// the source scan finds there; a scan finding of the same kind raises the confidence.
/// `main_file` is the script that ran as `__main__`, when known.
pub fn join_source(r: &mut LeakReport, dirs: &[PathBuf], main_file: Option<&str>) {
    let mut scans: HashMap<PathBuf, Vec<crate::scan::StaticFinding>> = HashMap::new();
    let opts = crate::scan::ScanOptions::default();
    for f in &mut r.findings {
        let mut places: Vec<(PathBuf, usize)> = Vec::new();
        if let Some((path, line, c)) = f
            .alloc_site
            .as_deref()
            .and_then(|s| source_join::code_at(s, dirs))
        {
            f.code = Some(c.code);
            places.push((path, line));
        }
        // The other sites' lines: what the scan says where the wrappers were made.
        for s in f.alloc_sites.iter().skip(1) {
            if let Some((path, line, _)) = source_join::code_at(&s.site, dirs)
                && !places.contains(&(path.clone(), line))
            {
                places.push((path, line));
            }
        }
        let module_file = match source_join::root_module(&f.chain_text) {
            Some("__main__") => main_file.and_then(|m| source_join::resolve(m, dirs)),
            Some(m) => {
                let rel = m.replace('.', "/");
                source_join::resolve(&format!("{rel}.py"), dirs)
                    .or_else(|| source_join::resolve(&format!("{rel}/__init__.py"), dirs))
            }
            None => None,
        };
        if let Some(path) = module_file
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            let def = source_join::retainer_line(&text, &f.chain_text)
                .and_then(|line| Some((line, source_join::excerpt(&text, line)?)));
            if let Some((line, code)) = def {
                let site = format!("{}:{line}", path.display());
                if f.alloc_site.is_none() {
                    f.location = site.clone();
                }
                f.retainer_definition = Some(CodeRef { site, code });
                places.push((path, line));
            }
        }
        // Scan findings near those lines, or about the same container by name in its file
        // (`self.history.append(...)` for a chain ending in `history (list)`).
        let name = source_join::retainer_name(&f.chain_text).map(str::to_string);
        for (k, (path, line)) in places.iter().enumerate() {
            let found = scans.entry(path.clone()).or_insert_with(|| {
                crate::scan::scan_file(path, &opts)
                    .map(|s| s.findings)
                    .unwrap_or_default()
            });
            let line = *line as u32;
            let is_definition = f.retainer_definition.is_some() && k + 1 == places.len();
            let names_it = |s: &crate::scan::StaticFinding| {
                is_definition && name.as_deref().is_some_and(|n| mentions(&s.code, n))
            };
            for s in found
                .iter()
                .filter(|s| (s.line <= line + 2 && line <= s.end_line + 2) || names_it(s))
            {
                let site = format!("{}:{}:{}", s.file.display(), s.line, s.col);
                if f.static_findings
                    .iter()
                    .any(|x| x.site == site && x.kind == s.kind)
                {
                    continue;
                }
                let agrees = s.kind == f.kind;
                f.static_findings.push(StaticRef {
                    kind: s.kind,
                    site: site.clone(),
                    rule: s.rule,
                    why: s.why.clone(),
                    agrees,
                });
                if agrees
                    && !f
                        .evidence
                        .iter()
                        .any(|e| e.starts_with("the source agrees"))
                {
                    f.confidence = f.confidence.raised();
                    f.evidence.push(format!(
                        "the source agrees: leakhunt scan finds {} at {site} ({}), confidence raised",
                        s.kind, s.why
                    ));
                }
            }
        }
    }
}

/// Whether `code` uses `name` as a whole identifier.
fn mentions(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}
