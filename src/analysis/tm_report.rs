//! The leak report from tracemalloc dumps: allocation sites whose memory keeps growing.
//! tracemalloc records where memory was allocated, not what holds it, so kinds are told from
//! the allocating file and its source line only, with less confidence than from a `.snap`.

use super::alloc_sites::SiteShare;
use super::classify::Verdict;
use super::clock;
use super::leak_report::{LeakReport, NOISE_FLOOR_BYTES, Subject, finding};
use super::snap_diff::SnapInfo;
use super::tm_compare::{self, Catalog, GroupBy, GroupOptions};
use super::tm_filter::TraceFilter;
use crate::input::tracemalloc::TmSnapshot;
use crate::leak_kind::{Confidence, LeakKind};
use crate::text::{display, size};
use std::path::PathBuf;

/// The source line `line` of `file`, found at its recorded path or under `dirs`.
pub fn source_line(file: &str, line: u32, dirs: &[PathBuf]) -> Option<String> {
    let text = std::fs::read_to_string(super::source_join::resolve(file, dirs)?).ok()?;
    text.lines()
        .nth((line as usize).checked_sub(1)?)
        .map(|l| l.trim().to_string())
}

/// A kind from the allocating file's path and line text.
fn kind_of(file: &str, line: Option<&str>) -> (LeakKind, Confidence, String) {
    use Confidence::*;
    use LeakKind::*;
    let f = file.replace('\\', "/");
    let lib = |name: &str| f.contains(&format!("/{name}/")) || f.ends_with(&format!("/{name}.py"));
    if lib("matplotlib") {
        return (
            FigureAccumulation,
            Medium,
            "the memory is allocated inside matplotlib".into(),
        );
    }
    if lib("numpy") || lib("torch") {
        return (
            ArrayAccumulation,
            Medium,
            "the memory is allocated inside numpy/torch".into(),
        );
    }
    if lib("threading") || lib("asyncio") || lib("concurrent") {
        return (
            ThreadTask,
            Medium,
            "the memory is allocated by threading/asyncio".into(),
        );
    }
    if lib("logging") {
        return (
            CacheNoEviction,
            Medium,
            "the memory is allocated inside logging (getLogger with names that never repeat keeps every logger)".into(),
        );
    }
    if lib("warnings") || lib("functools") {
        return (
            CacheNoEviction,
            Medium,
            "the memory is allocated by a stdlib registry or cache (warnings/functools)".into(),
        );
    }
    let Some(l) = line else {
        return (
            UnboundedCollection,
            Low,
            "the source is not readable here: kind told from growth alone".into(),
        );
    };
    let code = l.split('#').next().unwrap_or("");
    if code.contains("+=") && !code.contains(".append") {
        return (
            StringConcat,
            Medium,
            format!("the allocating line concatenates in place: `{l}`"),
        );
    }
    if ["open(", "socket(", "connect(", "Session(", "Popen("]
        .iter()
        .any(|p| code.contains(p))
        && !code.trim_start().starts_with("with ")
    {
        return (
            UnclosedResource,
            Medium,
            format!("the allocating line opens a resource outside `with`: `{l}`"),
        );
    }
    if code.contains("lambda") || code.trim_start().starts_with("def ") {
        return (
            ClosureCapture,
            Low,
            format!("the allocating line creates a function or lambda: `{l}`"),
        );
    }
    if code.contains("cache") || code.contains("memo") {
        return (
            CacheNoEviction,
            Low,
            format!("the allocating line fills a cache: `{l}`"),
        );
    }
    (
        UnboundedCollection,
        Low,
        format!("memory allocated at `{l}` is never freed"),
    )
}

/// Build the report from tracemalloc dumps, oldest first (two or more); allocating lines
/// are read from their recorded paths or under `dirs`.
pub fn from_tracemalloc(paths: &[PathBuf], snaps: &[&TmSnapshot], dirs: &[PathBuf]) -> LeakReport {
    let n = snaps.len();
    let opts = GroupOptions {
        by: GroupBy::Lineno,
        cumulative: false,
        filter: TraceFilter::default(),
    };
    let mut catalog = Catalog::new();
    let ids: Vec<_> = snaps.iter().map(|s| catalog.add(s)).collect();
    let grouped: Vec<_> = snaps
        .iter()
        .zip(&ids)
        .map(|(s, i)| tm_compare::group(s, i, &catalog, &opts))
        .collect();
    let infos: Vec<SnapInfo> = paths
        .iter()
        .zip(snaps)
        .map(|(p, s)| SnapInfo {
            path: p.display().to_string(),
            step: None,
            objects: s.trace_count,
            bytes: s.total_size(),
            // A dump records no time of its own; the file's modification time is when
            // tracemalloc wrote it (unless it was copied without keeping times).
            time: std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64()),
            ..SnapInfo::default()
        })
        .collect();
    let axis = clock::axis(&infos);
    let keys = catalog.key_count(GroupBy::Lineno);
    let mut findings = Vec::new();
    let mut dismissed = 0;
    for key in 0..keys as u32 {
        let bytes: Vec<f64> = grouped
            .iter()
            .map(|g| g.size[key as usize] as f64)
            .collect();
        let counts: Vec<f64> = grouped
            .iter()
            .map(|g| g.count[key as usize] as f64)
            .collect();
        let grown = bytes[n - 1] - bytes[0];
        if grown < NOISE_FLOOR_BYTES as f64 {
            continue;
        }
        let growth = clock::fit(&axis, &bytes, &counts);
        if n >= 3 && !growth.pattern.is_growing() {
            dismissed += 1;
            continue;
        }
        let frames = catalog.key_frames(GroupBy::Lineno, key);
        let Some(&(file, line)) = frames.first() else {
            continue;
        };
        let file = display(file).to_string();
        let site = format!("{file}:{line}");
        let code = source_line(&file, line, dirs);
        let (kind, confidence, why) = kind_of(&file, code.as_deref());
        let v = Verdict {
            kind,
            confidence,
            evidence: vec![
                format!(
                    "{site} holds {} in {} blocks at the last dump, {} more than at the first",
                    size(bytes[n - 1] as i64, false),
                    counts[n - 1],
                    size(grown as i64, false)
                ),
                why,
            ],
        };
        let subject = Subject {
            alloc_sites: vec![SiteShare {
                site: site.clone(),
                bytes: grown as u64,
                share: 1.0,
            }],
            fallback_location: site.clone(),
            leaking_type: "(tracemalloc records no types)".into(),
            retainer_type: "(tracemalloc records no retainers)".into(),
            chain_text: format!("allocated at {site}"),
            chain: Vec::new(),
            new_objects: (counts[n - 1] - counts[0]).max(0.0) as u64,
            growth_bytes: grown as u64,
            group_count: 1,
        };
        findings.push(finding(v, subject, growth));
    }
    findings.sort_by(|a, b| {
        b.growth_bytes
            .cmp(&a.growth_bytes)
            .then(a.location.cmp(&b.location))
    });
    let mut notes = vec![
        "tracemalloc dumps say where memory was allocated, not what keeps it alive: no retention chains, no cycles, and the kinds that need them (event handlers, closures, threads, circular references) are told only from the allocating line; take .snap snapshots (leakhunt.dump) for the full evidence".to_string(),
    ];
    if n == 2 {
        notes.push(
            "two snapshots show what grew but not how: take a third to tell linear from bounded growth".into(),
        );
    }
    let (findings, minor_findings) = super::leak_report::at_the_line(findings);
    LeakReport {
        input: "tracemalloc",
        minor_findings,
        snapshots: infos,
        findings,
        dismissed,
        notes,
    }
}
