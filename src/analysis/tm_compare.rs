//! `Snapshot.compare_to` and `Snapshot.statistics`, with CPython's numbers and order.

use super::tm_filter::TraceFilter;
use crate::input::tracemalloc::{Frame, TmSnapshot};
use std::cmp::Ordering;
use std::collections::HashMap;

/// What traces are grouped by, as tracemalloc's `key_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The most recent frame's file and line.
    Lineno,
    /// The most recent frame's file.
    Filename,
    /// The whole traceback.
    Traceback,
}

impl GroupBy {
    /// tracemalloc's name for the key.
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Lineno => "lineno",
            GroupBy::Filename => "filename",
            GroupBy::Traceback => "traceback",
        }
    }
}

/// File names, frames and tracebacks interned across every snapshot of one comparison.
#[derive(Default)]
pub struct Catalog<'a> {
    /// Distinct file names.
    pub filenames: Vec<&'a [u8]>,
    /// Distinct frames (file ids index `filenames`).
    pub frames: Vec<Frame>,
    tb_offsets: Vec<u32>,
    tb_frames: Vec<u32>,
    names: HashMap<&'a [u8], u32>,
    frame_ids: HashMap<Frame, u32>,
    tb_ids: HashMap<Vec<u32>, u32>,
}

/// How one snapshot's local ids map onto a [`Catalog`].
pub struct LocalIds {
    /// Local traceback id to catalog traceback id.
    pub tracebacks: Vec<u32>,
}

impl<'a> Catalog<'a> {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog {
            tb_offsets: vec![0],
            ..Default::default()
        }
    }

    /// Intern everything `snap` names; return the mapping of its tracebacks.
    pub fn add(&mut self, snap: &TmSnapshot<'a>) -> LocalIds {
        let files: Vec<u32> = snap.filenames.iter().map(|n| self.filename(n)).collect();
        let frames: Vec<u32> = snap
            .frames
            .iter()
            .map(|f| {
                self.frame(Frame {
                    file: files[f.file as usize],
                    lineno: f.lineno,
                })
            })
            .collect();
        let tracebacks = (0..snap.traceback_count() as u32)
            .map(|tb| {
                let global: Vec<u32> = snap
                    .traceback(tb)
                    .iter()
                    .map(|&f| frames[f as usize])
                    .collect();
                self.traceback(global)
            })
            .collect();
        LocalIds { tracebacks }
    }

    fn filename(&mut self, name: &'a [u8]) -> u32 {
        let next = self.filenames.len() as u32;
        let id = *self.names.entry(name).or_insert(next);
        if id == next {
            self.filenames.push(name);
        }
        id
    }

    fn frame(&mut self, f: Frame) -> u32 {
        let next = self.frames.len() as u32;
        let id = *self.frame_ids.entry(f).or_insert(next);
        if id == next {
            self.frames.push(f);
        }
        id
    }

    fn traceback(&mut self, frames: Vec<u32>) -> u32 {
        if let Some(&id) = self.tb_ids.get(&frames) {
            return id;
        }
        let id = (self.tb_offsets.len() - 1) as u32;
        self.tb_frames.extend_from_slice(&frames);
        self.tb_offsets.push(self.tb_frames.len() as u32);
        self.tb_ids.insert(frames, id);
        id
    }

    /// Frames of a catalog traceback, most recent first.
    pub fn traceback_frames(&self, tb: u32) -> &[u32] {
        let lo = self.tb_offsets[tb as usize] as usize; // ok: ids come from this catalog
        let hi = self.tb_offsets[tb as usize + 1] as usize;
        &self.tb_frames[lo..hi]
    }

    /// Number of distinct keys of a kind.
    pub fn key_count(&self, by: GroupBy) -> usize {
        match by {
            GroupBy::Lineno => self.frames.len(),
            GroupBy::Filename => self.filenames.len(),
            GroupBy::Traceback => self.tb_offsets.len() - 1,
        }
    }

    /// A key's frames, oldest first, as `(file name, line)`; `filename` keys have line 0,
    /// exactly like the `Traceback` CPython builds for them.
    pub fn key_frames(&self, by: GroupBy, key: u32) -> Vec<(&'a [u8], u32)> {
        match by {
            GroupBy::Lineno => {
                let f = self.frames[key as usize];
                vec![(self.filenames[f.file as usize], f.lineno)]
            }
            GroupBy::Filename => vec![(self.filenames[key as usize], 0)],
            GroupBy::Traceback => self
                .traceback_frames(key)
                .iter()
                .rev()
                .map(|&f| {
                    let fr = self.frames[f as usize];
                    (self.filenames[fr.file as usize], fr.lineno)
                })
                .collect(),
        }
    }

    /// CPython's `Traceback.__lt__` order between two keys: frames oldest first, compared as
    /// `(filename, lineno)` tuples.
    pub fn cmp_keys(&self, by: GroupBy, a: u32, b: u32) -> Ordering {
        match by {
            GroupBy::Lineno => self.cmp_frames(a, b),
            GroupBy::Filename => self.filenames[a as usize].cmp(self.filenames[b as usize]),
            GroupBy::Traceback => {
                let fa = self.traceback_frames(a).iter().rev();
                let fb = self.traceback_frames(b).iter().rev();
                for (x, y) in fa.clone().zip(fb.clone()) {
                    match self.cmp_frames(*x, *y) {
                        Ordering::Equal => continue,
                        o => return o,
                    }
                }
                fa.len().cmp(&fb.len())
            }
        }
    }

    fn cmp_frames(&self, a: u32, b: u32) -> Ordering {
        let (fa, fb) = (self.frames[a as usize], self.frames[b as usize]);
        self.filenames[fa.file as usize]
            .cmp(self.filenames[fb.file as usize])
            .then(fa.lineno.cmp(&fb.lineno))
    }
}

/// Per-key totals of one snapshot.
pub struct Grouped {
    /// Bytes per key.
    pub size: Vec<i64>,
    /// Traces per key (cumulative mode counts a trace once per frame, as CPython does).
    pub count: Vec<i64>,
    /// Bytes in the traces that passed the filter.
    pub total_size: i64,
    /// Traces that passed the filter.
    pub total_count: i64,
}

/// Options shared by `compare` and `statistics`.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    /// Grouping key.
    pub by: GroupBy,
    /// Count every frame of each traceback, not only the most recent one.
    pub cumulative: bool,
    /// Traces to keep.
    pub filter: TraceFilter,
}

/// Group one snapshot's traces by key.
pub fn group(snap: &TmSnapshot, ids: &LocalIds, cat: &Catalog, opts: &GroupOptions) -> Grouped {
    let n_tb = snap.traceback_count();
    let tb_size = |tb: usize| snap.tb_size.get(tb).map_or(0, |&s| s as i64);
    let tb_count = |tb: usize| snap.tb_count.get(tb).map_or(0, |&c| c as i64);
    let keys = cat.key_count(opts.by);
    let mut out = Grouped {
        size: vec![0; keys],
        count: vec![0; keys],
        total_size: 0,
        total_count: 0,
    };
    let mut files: Vec<&[u8]> = Vec::new();
    for tb in 0..n_tb {
        if tb_count(tb) == 0 {
            continue;
        }
        let global = ids.tracebacks[tb];
        let frames = cat.traceback_frames(global);
        if !opts.filter.is_empty() {
            files.clear();
            files.extend(
                frames
                    .iter()
                    .map(|&f| cat.filenames[cat.frames[f as usize].file as usize]),
            );
            if !opts.filter.keeps(&files) {
                continue;
            }
        }
        let (size, count) = (tb_size(tb), tb_count(tb));
        out.total_size += size;
        out.total_count += count;
        let mut add = |k: u32| {
            out.size[k as usize] += size;
            out.count[k as usize] += count;
        };
        let key_of = |f: u32| match opts.by {
            GroupBy::Filename => cat.frames[f as usize].file,
            _ => f,
        };
        match (opts.by, opts.cumulative) {
            (GroupBy::Traceback, _) => add(global),
            (_, false) => add(key_of(frames[0])),
            (_, true) => frames.iter().for_each(|&f| add(key_of(f))),
        }
    }
    out
}

/// One row of a comparison, as CPython's `StatisticDiff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatRow {
    /// Key id in the catalog's key space for the grouping.
    pub key: u32,
    /// Bytes in the new snapshot.
    pub size: i64,
    /// New minus old bytes.
    pub size_diff: i64,
    /// Traces in the new snapshot.
    pub count: i64,
    /// New minus old traces.
    pub count_diff: i64,
}

/// `new.compare_to(old, key, cumulative)`: every key present in either, CPython's order.
pub fn compare(old: &Grouped, new: &Grouped, cat: &Catalog, by: GroupBy) -> Vec<StatRow> {
    let mut rows: Vec<StatRow> = (0..new.count.len())
        .filter(|&k| new.count[k] > 0 || old.count[k] > 0)
        .map(|k| StatRow {
            key: k as u32,
            size: new.size[k],
            size_diff: new.size[k] - old.size[k],
            count: new.count[k],
            count_diff: new.count[k] - old.count[k],
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        // CPython sorts by (|size_diff|, size, |count_diff|, count, traceback), descending.
        (b.size_diff.abs(), b.size, b.count_diff.abs(), b.count)
            .cmp(&(a.size_diff.abs(), a.size, a.count_diff.abs(), a.count))
            .then_with(|| cat.cmp_keys(by, b.key, a.key))
    });
    rows
}

/// `snapshot.statistics(key, cumulative)`: keys present, sorted by (size, count, key) descending.
pub fn statistics(g: &Grouped, cat: &Catalog, by: GroupBy) -> Vec<StatRow> {
    let mut rows: Vec<StatRow> = (0..g.count.len())
        .filter(|&k| g.count[k] > 0)
        .map(|k| StatRow {
            key: k as u32,
            size: g.size[k],
            size_diff: g.size[k],
            count: g.count[k],
            count_diff: g.count[k],
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        (b.size, b.count)
            .cmp(&(a.size, a.count))
            .then_with(|| cat.cmp_keys(by, b.key, a.key))
    });
    rows
}
