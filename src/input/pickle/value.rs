//! The values a pickle builds, stored in flat arenas: no per-value allocation, no recursion.

/// The only classes a tracemalloc dump may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `tracemalloc.Snapshot`
    Snapshot,
    /// `tracemalloc._Traces`
    Traces,
}

impl Class {
    /// The class's dotted name.
    pub fn name(self) -> &'static str {
        match self {
            Class::Snapshot => "tracemalloc.Snapshot",
            Class::Traces => "tracemalloc._Traces",
        }
    }

    /// The allowed class for a module and name, if it is one.
    pub fn lookup(module: &[u8], name: &[u8]) -> Option<Class> {
        match (module, name) {
            (b"tracemalloc", b"Snapshot") => Some(Class::Snapshot),
            (b"tracemalloc", b"_Traces") => Some(Class::Traces),
            _ => None,
        }
    }
}

/// One value on the VM stack or in the memo (8 bytes); containers and wide integers are
/// indices into [`Heap`] arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// An integer in `0..2^32`.
    Int(u32),
    /// Any other integer that fits in 64 bits: index into [`Heap::ints`].
    WideInt(u32),
    /// A string: index into [`Heap::strs`].
    Str(u32),
    /// A tuple: index into [`Heap::tuples`].
    Tuple(u32),
    /// A tuple shaped like a tracemalloc trace: index into [`Heap::traces`].
    Trace(u32),
    /// A list: index into [`Heap::lists`].
    List(u32),
    /// A dict: index into [`Heap::dicts`].
    Dict(u32),
    /// An allowed class.
    Class(Class),
    /// An instance built by NEWOBJ: index into [`Heap::objects`].
    Object(u32),
}

impl Value {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::WideInt(_) => "int",
            Value::Str(_) => "str",
            Value::Tuple(_) | Value::Trace(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Class(_) => "class",
            Value::Object(_) => "object",
        }
    }
}

/// A `(domain, size, frames[, total_nframe])` tuple, stored compactly (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTrace {
    /// Allocated bytes.
    pub size: u64,
    /// The frames tuple (index into [`Heap::tuples`]), most recent frame first.
    pub frames: u32,
    /// Memory domain (0 for Python's allocators).
    pub domain: u32,
}

/// A list's items; consecutive traces (`Trace(i)`, `Trace(i+1)`, ...) are kept as one run.
#[derive(Default, Debug)]
pub struct List {
    parts: Vec<(Value, u32)>,
    len: usize,
}

impl List {
    /// Append an item.
    pub fn push(&mut self, v: Value) {
        self.len += 1;
        if let (Value::Trace(t), Some((Value::Trace(first), run))) = (v, self.parts.last_mut())
            && first.checked_add(*run) == Some(t)
        {
            *run += 1;
            return;
        }
        self.parts.push((v, 1));
    }

    /// Append items; a batch of consecutive traces is added as one run.
    pub fn extend(&mut self, items: &[Value]) {
        if let Some(&Value::Trace(first)) = items.first() {
            let consecutive = items
                .iter()
                .zip(first..)
                .all(|(v, k)| *v == Value::Trace(k));
            if consecutive && first.checked_add(items.len() as u32 - 1).is_some() {
                self.push(items[0]);
                if let Some((_, run)) = self.parts.last_mut() {
                    *run += items.len() as u32 - 1;
                }
                self.len += items.len() - 1;
                return;
            }
        }
        for &v in items {
            self.push(v);
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// When the list is exactly `Trace(0), Trace(1), ..., Trace(n-1)`, that `n`.
    pub fn as_trace_range(&self) -> Option<usize> {
        match self.parts.as_slice() {
            [] => Some(0),
            [(Value::Trace(0), n)] => Some(*n as usize),
            _ => None,
        }
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = Value> + '_ {
        self.parts.iter().flat_map(|&(v, n)| {
            (0..n).map(move |k| match v {
                Value::Trace(t) => Value::Trace(t + k),
                other => other,
            })
        })
    }
}

/// An instance of an allowed class and the state BUILD gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    /// Its class.
    pub class: Class,
    /// The state set by BUILD, if any.
    pub state: Option<Value>,
}

/// Arenas holding every container a pickle built; strings borrow from the input.
#[derive(Default)]
pub struct Heap<'a> {
    /// String contents as written (UTF-8, or surrogate-escaped bytes).
    pub strs: Vec<&'a [u8]>,
    /// Tuples as (start, len) into `items`.
    pub tuples: Vec<(u32, u32)>,
    /// Items of all tuples, back to back.
    pub items: Vec<Value>,
    /// Trace-shaped tuples one by one (only when `keep_traces`).
    pub traces: Vec<RawTrace>,
    /// Trace-shaped tuples built so far.
    pub trace_count: u32,
    /// Keep every trace in `traces` instead of summing them per frames tuple.
    pub keep_traces: bool,
    /// Without `keep_traces`: `(bytes, traces)` per frames tuple id.
    pub per_frames: Vec<(u64, u64)>,
    /// Integers outside `0..2^32`.
    pub ints: Vec<i64>,
    /// Lists.
    pub lists: Vec<List>,
    /// Dicts as key/value pairs in insertion order.
    pub dicts: Vec<Vec<(Value, Value)>>,
    /// Instances of allowed classes.
    pub objects: Vec<Object>,
}

impl<'a> Heap<'a> {
    /// The items of a tuple value, whichever way it is stored.
    pub fn tuple_items(&self, id: u32) -> &[Value] {
        let (start, len) = self.tuples[id as usize]; // ok: ids come from this heap
        &self.items[start as usize..(start + len) as usize]
    }

    /// An integer value.
    pub fn int(&mut self, v: i64) -> Value {
        match u32::try_from(v) {
            Ok(small) => Value::Int(small),
            Err(_) => {
                self.ints.push(v);
                Value::WideInt((self.ints.len() - 1) as u32)
            }
        }
    }

    /// The integer a value holds, if it is one.
    pub fn as_int(&self, v: Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(i as i64),
            Value::WideInt(i) => Some(self.ints[i as usize]), // ok: ids come from this heap
            _ => None,
        }
    }

    /// Store a tuple, choosing the compact trace form when the items have its shape.
    pub fn new_tuple(&mut self, items: &[Value]) -> Value {
        if let Some(trace) = self.as_trace(items) {
            return self.push_trace(trace);
        }
        let start = self.items.len() as u32;
        self.items.extend_from_slice(items);
        self.tuples.push((start, items.len() as u32));
        Value::Tuple((self.tuples.len() - 1) as u32)
    }

    /// Store a trace-shaped tuple: kept whole, or summed into its frames tuple's totals.
    #[inline(always)]
    pub fn push_trace(&mut self, trace: RawTrace) -> Value {
        let id = self.trace_count;
        self.trace_count += 1;
        if self.keep_traces {
            self.traces.push(trace);
        } else {
            let f = trace.frames as usize;
            if f >= self.per_frames.len() {
                self.grow_per_frames(f);
            }
            let e = &mut self.per_frames[f];
            e.0 = e.0.saturating_add(trace.size);
            e.1 += 1;
        }
        Value::Trace(id)
    }

    #[cold]
    fn grow_per_frames(&mut self, f: usize) {
        self.per_frames.resize(self.tuples.len().max(f + 1), (0, 0));
    }

    /// The trace form of `(domain, size, frames[, total_nframe])` with non-negative ints.
    pub fn as_trace(&self, items: &[Value]) -> Option<RawTrace> {
        let (domain, size, frames) = match *items {
            [d, s, Value::Tuple(f)] => (d, s, f),
            [d, s, Value::Tuple(f), t] => {
                u32::try_from(self.as_int(t)?).ok()?;
                (d, s, f)
            }
            _ => return None,
        };
        Some(RawTrace {
            domain: u32::try_from(self.as_int(domain)?).ok()?,
            size: u64::try_from(self.as_int(size)?).ok()?,
            frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_runs_keep_every_item_in_order() {
        let mut l = List::default();
        let batch1: Vec<Value> = (0..5).map(Value::Trace).collect();
        let batch2 = [
            Value::Trace(5),
            Value::Str(1),
            Value::Trace(6),
            Value::Trace(7),
        ];
        let batch3: Vec<Value> = (8..12).map(Value::Trace).collect();
        l.extend(&batch1);
        l.extend(&batch2);
        l.extend(&batch3);
        l.push(Value::Trace(3));
        let want: Vec<Value> = batch1
            .iter()
            .chain(&batch2)
            .chain(&batch3)
            .copied()
            .chain([Value::Trace(3)])
            .collect();
        assert_eq!(l.iter().collect::<Vec<_>>(), want);
        assert_eq!(l.len(), want.len());
        assert_eq!(l.as_trace_range(), None);
        let mut r = List::default();
        r.extend(&batch1);
        r.extend(&[Value::Trace(5)]);
        r.extend(&batch3[..0]);
        assert_eq!(r.as_trace_range(), Some(6));
    }
}
