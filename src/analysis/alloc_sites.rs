//! Where a finding's bytes were born: the allocation sites of the new objects it keeps alive,
//! weighed by their bytes, from the tracebacks tracemalloc recorded for each object.

use crate::graph::HeapGraph;
use serde::Serialize;
use std::collections::HashMap;

/// One allocation site's part of a finding's new memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteShare {
    /// `file:line` of the allocating frame.
    pub site: String,
    /// New bytes allocated there, or in the calls made from that line.
    pub bytes: u64,
    /// Those bytes over all the new bytes the finding holds (0..=1).
    pub share: f64,
}

/// New bytes and objects by recorded traceback under one finding, to choose its sites from.
#[derive(Debug, Clone, Default)]
pub struct SiteBytes {
    /// New bytes per traceback of everything the finding keeps alive.
    pub bytes: HashMap<u32, u64>,
    /// The same for the objects held directly, each weighed by what it keeps alive.
    pub held: HashMap<u32, u64>,
    /// New objects per traceback of everything it keeps alive.
    pub counts: HashMap<u32, u64>,
    /// Objects held directly.
    pub held_objects: u64,
    /// New bytes per (type, traceback) of everything it keeps alive.
    pub typed: HashMap<(u32, u32), u64>,
}

impl SiteBytes {
    /// Add another retainer's figures (a grouped finding).
    pub fn merge(&mut self, other: SiteBytes) {
        for (tb, b) in other.bytes {
            *self.bytes.entry(tb).or_insert(0) += b;
        }
        for (tb, b) in other.held {
            *self.held.entry(tb).or_insert(0) += b;
        }
        for (tb, c) in other.counts {
            *self.counts.entry(tb).or_insert(0) += c;
        }
        self.held_objects += other.held_objects;
        for (k, b) in other.typed {
            *self.typed.entry(k).or_insert(0) += b;
        }
    }
}

/// Sites shown per finding.
pub const SITES_SHOWN: usize = 4;

/// Whether a file belongs to the standard library or an installed package, not the program.
fn library_file(file: &str) -> bool {
    let f = file.replace('\\', "/");
    f.starts_with("<frozen ")
        || f.contains("/site-packages/")
        || f.contains("/dist-packages/")
        || f.contains("/lib/python3.")
        || f.contains("/lib/python2.")
}

/// Whether a file is one of leakhunt's own dumper modules: what they allocate (a 3.11
/// instance's `__dict__`, made when the walk reads it) was made by the snapshot, not by the
/// program.
fn dumper_file(file: &str) -> bool {
    const OWN: [&str; 14] = [
        "__init__.py",
        "addresses.py",
        "allocsites.py",
        "capture.py",
        "dumper.py",
        "forkdump.py",
        "metajson.py",
        "roots.py",
        "snapformat.py",
        "strings.py",
        "tracelimit.py",
        "typeplans.py",
        "walk.py",
        "writer.py",
    ];
    let f = file.replace('\\', "/");
    f.rsplit_once("/leakhunt/")
        .is_some_and(|(_, name)| OWN.contains(&name))
}

/// The frames of a recorded traceback, outermost first.
fn frames<'g>(g: &'g HeapGraph, tb: u32) -> &'g [u32] {
    let Some(a) = g.alloc else { return &[] };
    let (Some(&lo), Some(&hi)) = (
        a.tb_offsets.get(tb as usize),
        a.tb_offsets.get(tb as usize + 1),
    ) else {
        return &[];
    };
    a.tb_frames.get(lo as usize..hi as usize).unwrap_or(&[])
}

/// `file:line` of one frame, and whether it is in the program's own code.
fn frame_text(g: &HeapGraph, f: u32) -> Option<(String, bool)> {
    let fr = g.alloc?.frames.get(f as usize)?;
    let file = g.strings.get(fr[0]);
    Some((format!("{}:{}", file, fr[1]), !library_file(file)))
}

/// The allocating frame of a traceback: the most recent frame in the program's own code, or
/// the most recent frame when every frame is in a library; none when leakhunt's dumper made
/// the object.
fn allocating_frame(g: &HeapGraph, tb: u32) -> Option<u32> {
    let fs = frames(g, tb);
    let made_by_dumper = fs.iter().any(|&f| {
        g.alloc
            .and_then(|a| a.frames.get(f as usize))
            .is_some_and(|fr| dumper_file(g.strings.get(fr[0])))
    });
    if made_by_dumper {
        return None;
    }
    fs.iter()
        .rev()
        .copied()
        .find(|&f| frame_text(g, f).is_some_and(|(_, own)| own))
        .or_else(|| fs.last().copied())
}

/// `file:line` of a recorded traceback's allocating frame.
pub fn site_text(g: &HeapGraph, tb: u32) -> Option<String> {
    frame_text(g, allocating_frame(g, tb)?).map(|(t, _)| t)
}

/// The sites of a finding, from its new bytes per traceback and those of the objects it
/// holds directly (each weighed by what it keeps alive), out of `total`: the allocating lines with their shares, largest first. When the largest line
/// made under two thirds of the bytes and runs inside a call from the line that made the
/// held objects (a record's constructor making its parts), that line comes first instead,
/// its share what was allocated under it (`Node(parent)`, not `self.children = []`).
pub fn site_shares(g: &HeapGraph, sb: &SiteBytes, total: u64) -> Vec<SiteShare> {
    let (by_tb, held_tb) = (&sb.bytes, &sb.held);
    let mut out = ranked(g, by_tb, total);
    let sited: u64 = by_tb.values().sum();
    if let (Some(top), Some(h)) = (out.first(), held_frame(g, held_tb))
        && top.bytes * 3 < sited * 2
        && let Some((held_site, _)) = frame_text(g, h)
        && held_site != top.site
    {
        // Bytes allocated under the held objects' line, and whether the top line's are.
        // A part of each record (one object per held object at most), not a payload of many.
        let (mut under, mut top_under, mut top_all, mut top_objects) = (0u64, 0u64, 0u64, 0u64);
        for (&tb, &b) in by_tb {
            let nested = frames(g, tb).contains(&h);
            let is_top = allocating_frame(g, tb)
                .and_then(|f| frame_text(g, f))
                .is_some_and(|(t, _)| t == top.site);
            under += if nested { b } else { 0 };
            if is_top {
                top_all += b;
                top_under += if nested { b } else { 0 };
                top_objects += sb.counts.get(&tb).copied().unwrap_or(0);
            }
        }
        if under * 3 >= sited * 2 && top_under * 2 > top_all && top_objects <= sb.held_objects {
            lead_with(&mut out, held_site, under, total);
        }
    }
    out.truncate(SITES_SHOWN);
    out
}

/// Put `site` first in `out`, with `bytes` as what it covers.
fn lead_with(out: &mut Vec<SiteShare>, site: String, bytes: u64, total: u64) {
    out.retain(|s| s.site != site);
    out.insert(
        0,
        SiteShare {
            site,
            bytes,
            share: fraction(bytes, total),
        },
    );
}

/// The sites with the line that made the objects of type `leaking` first (a figure, a file,
/// a socket: the call that made the object, not the lines that later filled it, nor the
/// tuple it was stored in), else the line that made the held objects; then the others.
pub fn made_first(g: &HeapGraph, sb: &SiteBytes, leaking: &str, total: u64) -> Vec<SiteShare> {
    let by_tb = &sb.bytes;
    let mut out = ranked(g, by_tb, total);
    let of_type: HashMap<u32, u64> = sb
        .typed
        .iter()
        .filter(|&(&(t, _), _)| g.type_name(t) == leaking)
        .map(|(&(_, tb), &b)| (tb, b))
        .collect();
    let made = if of_type.is_empty() {
        &sb.held
    } else {
        &of_type
    };
    if let Some(h) = held_frame(g, made)
        && let Some((site, _)) = frame_text(g, h)
    {
        // What was allocated at that line or in the calls it made (the figure's parts).
        let bytes: u64 = by_tb
            .iter()
            .filter(|&(&tb, _)| frames(g, tb).contains(&h))
            .map(|(_, &b)| b)
            .sum();
        lead_with(&mut out, site, bytes, total);
    }
    out.truncate(SITES_SHOWN);
    out
}

fn fraction(b: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (b as f64 / total as f64).min(1.0)
    }
}

/// Allocating lines by the bytes they made, largest first.
fn ranked(g: &HeapGraph, by_tb: &HashMap<u32, u64>, total: u64) -> Vec<SiteShare> {
    let mut by_site: HashMap<String, u64> = HashMap::new();
    for (f, b) in by_frame(g, by_tb) {
        if let Some((site, _)) = frame_text(g, f) {
            *by_site.entry(site).or_insert(0) += b;
        }
    }
    let mut out: Vec<SiteShare> = by_site
        .into_iter()
        .map(|(site, bytes)| SiteShare {
            site,
            bytes,
            share: fraction(bytes, total),
        })
        .collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.site.cmp(&b.site)));
    out
}

/// Bytes per allocating frame, from bytes per traceback.
fn by_frame(g: &HeapGraph, by_tb: &HashMap<u32, u64>) -> HashMap<u32, u64> {
    let mut out: HashMap<u32, u64> = HashMap::new();
    for (&tb, &b) in by_tb {
        if let Some(f) = allocating_frame(g, tb) {
            *out.entry(f).or_insert(0) += b;
        }
    }
    out
}

/// The allocating frame of the held objects that keep the most bytes alive.
fn held_frame(g: &HeapGraph, held_tb: &HashMap<u32, u64>) -> Option<u32> {
    by_frame(g, held_tb)
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(f, _)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dumpers_own_frames_are_known_wherever_it_runs_from() {
        assert!(dumper_file(
            "/tmp/leakhunt-0/py-0.1.0-db7bd0c4/leakhunt/dumper.py"
        ));
        assert!(dumper_file(
            "/venv/lib/python3.12/site-packages/leakhunt/walk.py"
        ));
        assert!(!dumper_file("/srv/app/leakhunt/views.py"));
        assert!(!dumper_file("/srv/app/dumper.py"));
    }
}
