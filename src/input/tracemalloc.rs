//! A `tracemalloc.Snapshot.dump()` file as compact tables: interned file names, frames and
//! tracebacks shared exactly as the pickle memo shares them, and the bytes and number of traces
//! per traceback (all that `compare_to` and `statistics` need: a million traces become a few
//! thousand totals).

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
    /// Bytes allocated per traceback.
    pub tb_size: Vec<u64>,
    /// Traces per traceback.
    pub tb_count: Vec<u64>,
    /// Traces in the dump.
    pub trace_count: u64,
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
        self.tb_size.iter().fold(0u64, |a, &b| a.saturating_add(b))
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
    // Fast path: sum traces per frames tuple while unpickling. That is exact when the traces
    // list holds every trace tuple once, in order, as CPython writes it; any other pickle is
    // read again keeping each trace.
    let loaded = pickle::load(bytes, false, progress)?;
    if let Some(snap) = Builder::new(&loaded).build(false)? {
        return Ok(snap);
    }
    let loaded = pickle::load(bytes, true, &mut |_| {})?;
    Builder::new(&loaded).build(true)?.ok_or_else(|| {
        ParseError::expected(loaded.stop_offset, "a list of traces", "another value")
    })
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

/// Which trace a message is about: `traces[i]`, or "a trace" when traces were summed.
#[derive(Clone, Copy)]
struct Where(Option<usize>);

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(i) => write!(f, "traces[{i}]"),
            None => write!(f, "a trace"),
        }
    }
}

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
                tb_size: Vec::new(),
                tb_count: Vec::new(),
                trace_count: 0,
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

    /// The snapshot; `None` when traces were summed but the list is not exactly the traces
    /// in order (then the caller reads again with `kept` traces).
    fn build(mut self, kept: bool) -> std::result::Result<Option<TmSnapshot<'a>>, ParseError> {
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
        self.out.trace_count = list.len() as u64;
        if !kept {
            if list.as_trace_range() != Some(self.heap.trace_count as usize) {
                return Ok(None);
            }
            for (frames, &(size, count)) in self.heap.per_frames.iter().enumerate() {
                if count > 0 {
                    let tb = self.traceback(frames as u32, None)?;
                    self.add(tb, size, count);
                }
            }
            return Ok(Some(self.out));
        }
        for (i, item) in list.iter().enumerate() {
            let t = match item {
                Value::Trace(t) => self.heap.traces.get(t as usize).copied(),
                _ => None,
            };
            let Some(t) = t else {
                return Err(self.err(
                    "a (domain, size, frames[, total_nframe]) tuple of non-negative ints",
                    format_args!("{} at traces[{i}]", item.type_name()),
                ));
            };
            let tb = self.traceback(t.frames, Some(i))?;
            self.add(tb, t.size, 1);
        }
        Ok(Some(self.out))
    }

    fn add(&mut self, tb: u32, size: u64, count: u64) {
        let tb = tb as usize;
        if tb >= self.out.tb_size.len() {
            self.out.tb_size.resize(tb + 1, 0);
            self.out.tb_count.resize(tb + 1, 0);
        }
        self.out.tb_size[tb] = self.out.tb_size[tb].saturating_add(size);
        self.out.tb_count[tb] += count;
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
    fn traceback(
        &mut self,
        tuple: u32,
        trace: Option<usize>,
    ) -> std::result::Result<u32, ParseError> {
        let cached = self.tuple_tbs[tuple as usize];
        if cached != NONE {
            return Ok(cached);
        }
        self.new_traceback(tuple, Where(trace))
    }

    #[cold]
    fn new_traceback(&mut self, tuple: u32, trace: Where) -> std::result::Result<u32, ParseError> {
        let items = self.heap.tuple_items(tuple);
        if items.is_empty() {
            return Err(self.err("at least one frame", format_args!("none at {trace}")));
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

    fn frame(&mut self, item: Value, trace: Where) -> std::result::Result<u32, ParseError> {
        let pair = match item {
            Value::Tuple(t) => self.heap.tuple_items(t),
            v => {
                return Err(self.err(
                    "a (filename, lineno) frame",
                    format_args!("{} in {trace}", v.type_name()),
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
                format_args!("another tuple in {trace}"),
            ));
        };
        let lineno = u32::try_from(line).map_err(|_| {
            self.err(
                "a line number in 0..2^32",
                format_args!("{line} in {trace}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn a_trace_listed_twice_is_counted_twice() {
        // pickle.dumps(tracemalloc.Snapshot([t, u, t], 1), 5) with t = (0, 10, (('a.py', 1),), 1)
        // and u = (0, 5, (('b.py', 2),), 1): the second t is a memo reference, so the summing
        // fast path does not apply and the traces are read one by one.
        let data = hex(
            "80059592000000000000008c0b74726163656d616c6c6f63948c08536e617073686f749493942981947d94288c067472616365739468008c075f5472616365739493942981947d948c075f747261636573945d9428284b004b0a8c04612e7079944b01869485944b017494284b004b058c04622e7079944b02869485944b017494680f6573628c0f74726163656261636b5f6c696d6974944b0175622e",
        );
        let snap = read(&data, &mut |_| {}).unwrap();
        assert_eq!(snap.trace_count, 3);
        assert_eq!(snap.total_size(), 25);
        let a = (0..snap.traceback_count() as u32)
            .find(|&tb| {
                snap.filenames[snap.frames[snap.traceback(tb)[0] as usize].file as usize] == b"a.py"
            })
            .unwrap();
        assert_eq!(
            (snap.tb_size[a as usize], snap.tb_count[a as usize]),
            (20, 2)
        );
    }
}
