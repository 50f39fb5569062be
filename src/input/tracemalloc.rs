//! A `tracemalloc.Snapshot.dump()` file as compact tables: interned file names, frames and
//! tracebacks shared exactly as the pickle memo shares them, and one small record per trace.

use super::Source;
use super::pickle::{self, Class, Heap, Loaded, Value};
use crate::error::{ParseError, Result};
use std::collections::HashMap;

/// One interned frame: a file name id and a line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Index into [`TmSnapshot::filenames`].
    pub file: u32,
    /// Line number.
    pub lineno: u32,
}

/// One live allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace {
    /// Allocated bytes.
    pub size: u64,
    /// Index of its traceback.
    pub tb: u32,
    /// Memory domain.
    pub domain: u32,
}

/// A tracemalloc snapshot, its strings borrowed from the mapped file.
pub struct TmSnapshot<'a> {
    /// `traceback_limit` as written by `tracemalloc.start(n)`.
    pub traceback_limit: i64,
    /// Distinct file names (raw bytes as pickled; may hold surrogate escapes).
    pub filenames: Vec<&'a [u8]>,
    /// Distinct frames.
    pub frames: Vec<Frame>,
    /// Traceback `i` is `tb_frames[tb_offsets[i]..tb_offsets[i+1]]`.
    pub tb_offsets: Vec<u32>,
    /// Frame ids of all tracebacks, most recent frame first (as stored by tracemalloc).
    pub tb_frames: Vec<u32>,
    /// Every trace.
    pub traces: Vec<Trace>,
}

impl<'a> TmSnapshot<'a> {
    /// The frames of traceback `tb`, most recent first.
    pub fn traceback(&self, tb: u32) -> &[u32] {
        let lo = self.tb_offsets[tb as usize] as usize; // ok: tb ids come from this snapshot
        let hi = self.tb_offsets[tb as usize + 1] as usize;
        &self.tb_frames[lo..hi]
    }

    /// Number of distinct tracebacks.
    pub fn traceback_count(&self) -> usize {
        self.tb_offsets.len() - 1
    }

    /// Sum of all trace sizes.
    pub fn total_size(&self) -> u64 {
        self.traces.iter().map(|t| t.size).sum()
    }
}

/// Read a tracemalloc dump from a mapped file.
pub fn load<'a>(source: &'a Source, progress: &mut dyn FnMut(u64)) -> Result<TmSnapshot<'a>> {
    read(source.bytes(), progress).map_err(|e| e.in_file(source.path()))
}

/// Read a tracemalloc dump from bytes.
pub fn read<'a>(
    bytes: &'a [u8],
    progress: &mut dyn FnMut(u64),
) -> std::result::Result<TmSnapshot<'a>, ParseError> {
    let mut loaded = pickle::load(bytes, progress)?;
    let raw = std::mem::take(&mut loaded.heap.traces);
    Builder::new(&loaded).build(raw)
}

struct Builder<'l, 'a> {
    heap: &'l Heap<'a>,
    at: u64,
    out: TmSnapshot<'a>,
    str_ids: Vec<u32>,
    tuple_tbs: Vec<u32>,
    names: HashMap<&'a [u8], u32>,
    frames: HashMap<Frame, u32>,
    tbs: HashMap<Vec<u32>, u32>,
    root: Value,
}

const NONE: u32 = u32::MAX;

impl<'l, 'a> Builder<'l, 'a> {
    fn new(loaded: &'l Loaded<'a>) -> Self {
        let heap = &loaded.heap;
        Builder {
            heap,
            at: loaded.stop_offset,
            out: TmSnapshot {
                traceback_limit: 0,
                filenames: Vec::new(),
                frames: Vec::new(),
                tb_offsets: vec![0],
                tb_frames: Vec::new(),
                traces: Vec::new(),
            },
            str_ids: vec![NONE; heap.strs.len()],
            tuple_tbs: vec![NONE; heap.tuples.len()],
            names: HashMap::new(),
            frames: HashMap::new(),
            tbs: HashMap::new(),
            root: loaded.root,
        }
    }

    fn err(&self, expected: &str, found: impl std::fmt::Display) -> ParseError {
        ParseError::expected(self.at, expected, found)
    }

    fn build(
        mut self,
        raw: Vec<pickle::RawTrace>,
    ) -> std::result::Result<TmSnapshot<'a>, ParseError> {
        let state = self.object_state(self.root, Class::Snapshot, "the pickle's value")?;
        let traces = self.dict_get(state, b"traces", "Snapshot state")?;
        let limit = self.dict_get(state, b"traceback_limit", "Snapshot state")?;
        self.out.traceback_limit = self
            .heap
            .as_int(limit)
            .ok_or_else(|| self.err("an int traceback_limit", limit.type_name()))?;
        let traces_state = self.object_state(traces, Class::Traces, "Snapshot.traces")?;
        let list = match self.dict_get(traces_state, b"_traces", "_Traces state")? {
            Value::List(l) => &self.heap.lists[l as usize],
            v => return Err(self.err("a list in _Traces._traces", v.type_name())),
        };
        let in_order = list.as_trace_range() == Some(raw.len());
        if in_order {
            // The usual case: every trace tuple built once, in list order. Convert in place.
            let mut raw = raw;
            for (i, t) in raw.iter_mut().enumerate() {
                t.frames = self.traceback(t.frames, i)?;
            }
            self.out.traces = raw
                .into_iter()
                .map(|t| Trace {
                    size: t.size,
                    tb: t.frames,
                    domain: t.domain,
                })
                .collect();
            return Ok(self.out);
        }
        self.out.traces.reserve_exact(list.len());
        for (i, item) in list.iter().enumerate() {
            let Value::Trace(t) = item else {
                return Err(self.err(
                    "a (domain, size, frames[, total_nframe]) tuple of non-negative ints",
                    format_args!("{} at traces[{i}]", item.type_name()),
                ));
            };
            let t = raw[t as usize]; // ok: Trace ids index the trace arena
            let tb = self.traceback(t.frames, i)?;
            self.out.traces.push(Trace {
                size: t.size,
                tb,
                domain: t.domain,
            });
        }
        Ok(self.out)
    }

    fn object_state(
        &self,
        v: Value,
        class: Class,
        what: &str,
    ) -> std::result::Result<Value, ParseError> {
        match v {
            Value::Object(o) => {
                let obj = self.heap.objects[o as usize];
                if obj.class != class {
                    return Err(
                        self.err(class.name(), format_args!("{} as {what}", obj.class.name()))
                    );
                }
                obj.state
                    .ok_or_else(|| self.err(&format!("a state for {}", class.name()), "none"))
            }
            other => Err(self.err(
                &format!("a {} object as {what}", class.name()),
                other.type_name(),
            )),
        }
    }

    fn dict_get(
        &self,
        dict: Value,
        key: &[u8],
        what: &str,
    ) -> std::result::Result<Value, ParseError> {
        let Value::Dict(d) = dict else {
            return Err(self.err(&format!("a dict as {what}"), dict.type_name()));
        };
        self.heap.dicts[d as usize]
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Value::Str(s) if self.heap.strs[*s as usize] == key))
            .map(|&(_, v)| v)
            .ok_or_else(|| {
                self.err(
                    &format!("key '{}' in {what}", String::from_utf8_lossy(key)),
                    "it missing",
                )
            })
    }

    /// The interned traceback for a frames tuple, built once per distinct tuple.
    #[inline]
    fn traceback(&mut self, tuple: u32, trace: usize) -> std::result::Result<u32, ParseError> {
        let cached = self.tuple_tbs[tuple as usize];
        if cached != NONE {
            return Ok(cached);
        }
        self.new_traceback(tuple, trace)
    }

    #[cold]
    fn new_traceback(&mut self, tuple: u32, trace: usize) -> std::result::Result<u32, ParseError> {
        let items = self.heap.tuple_items(tuple);
        if items.is_empty() {
            return Err(self.err(
                "at least one frame",
                format_args!("none at traces[{trace}]"),
            ));
        }
        let mut frames = Vec::with_capacity(items.len());
        for item in items {
            frames.push(self.frame(*item, trace)?);
        }
        let id = match self.tbs.get(&frames) {
            Some(&id) => id,
            None => {
                let id = self.out.tb_offsets.len() as u32 - 1;
                self.out.tb_frames.extend_from_slice(&frames);
                self.out.tb_offsets.push(self.out.tb_frames.len() as u32);
                self.tbs.insert(frames, id);
                id
            }
        };
        self.tuple_tbs[tuple as usize] = id;
        Ok(id)
    }

    fn frame(&mut self, item: Value, trace: usize) -> std::result::Result<u32, ParseError> {
        let pair = match item {
            Value::Tuple(t) => self.heap.tuple_items(t),
            v => {
                return Err(self.err(
                    "a (filename, lineno) frame",
                    format_args!("{} in traces[{trace}]", v.type_name()),
                ));
            }
        };
        let (Some(&Value::Str(s)), Some(line), 2) = (
            pair.first(),
            pair.get(1).and_then(|&v| self.heap.as_int(v)),
            pair.len(),
        ) else {
            return Err(self.err(
                "a (filename, lineno) frame",
                format_args!("another tuple in traces[{trace}]"),
            ));
        };
        let lineno = u32::try_from(line).map_err(|_| {
            self.err(
                "a line number in 0..2^32",
                format_args!("{line} in traces[{trace}]"),
            )
        })?;
        let file = self.filename(s);
        let next = self.out.frames.len() as u32;
        let f = Frame { file, lineno };
        let id = *self.frames.entry(f).or_insert(next);
        if id == next {
            self.out.frames.push(f);
        }
        Ok(id)
    }

    fn filename(&mut self, s: u32) -> u32 {
        let cached = self.str_ids[s as usize];
        if cached != NONE {
            return cached;
        }
        let bytes = self.heap.strs[s as usize];
        let next = self.out.filenames.len() as u32;
        let id = *self.names.entry(bytes).or_insert(next);
        if id == next {
            self.out.filenames.push(bytes);
        }
        self.str_ids[s as usize] = id;
        id
    }
}
