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

/// One value on the VM stack or in the memo; containers are indices into [`Heap`] arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// An integer that fits in 64 bits.
    Int(i64),
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
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::Tuple(_) | Value::Trace(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Class(_) => "class",
            Value::Object(_) => "object",
        }
    }
}

/// A `(domain, size, frames[, total_nframe])` tuple, stored compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTrace {
    /// Allocated bytes.
    pub size: u64,
    /// The frames tuple (index into [`Heap::tuples`]), most recent frame first.
    pub frames: u32,
    /// Memory domain (0 for Python's allocators).
    pub domain: u32,
    /// Frames before truncation, or `u32::MAX` when the dump (3.8) has none.
    pub total_nframe: u32,
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
    /// Trace-shaped tuples.
    pub traces: Vec<RawTrace>,
    /// Lists.
    pub lists: Vec<Vec<Value>>,
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

    /// Store a tuple, choosing the compact trace form when the items have its shape.
    pub fn new_tuple(&mut self, items: &[Value]) -> Value {
        if let Some(trace) = as_trace(items) {
            self.traces.push(trace);
            return Value::Trace((self.traces.len() - 1) as u32);
        }
        let start = self.items.len() as u32;
        self.items.extend_from_slice(items);
        self.tuples.push((start, items.len() as u32));
        Value::Tuple((self.tuples.len() - 1) as u32)
    }
}

fn as_trace(items: &[Value]) -> Option<RawTrace> {
    let (domain, size, frames, total) = match *items {
        [Value::Int(d), Value::Int(s), Value::Tuple(f)] => (d, s, f, u32::MAX as i64),
        [Value::Int(d), Value::Int(s), Value::Tuple(f), Value::Int(t)] => (d, s, f, t),
        _ => return None,
    };
    Some(RawTrace {
        domain: u32::try_from(domain).ok()?,
        size: u64::try_from(size).ok()?,
        frames,
        total_nframe: u32::try_from(total).ok()?,
    })
}
