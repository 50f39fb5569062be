//! A pickle-subset virtual machine: exactly the opcodes of `tracemalloc.Snapshot.dump()`
//! (CPython 3.8–3.13), no import, no call. Any other global or a calling opcode is refused.

pub mod memo;
pub mod opcodes;
pub mod operand;
pub mod value;

use crate::error::ParseError;
use memo::Memo;
use opcodes as op;
use operand::Cursor;
pub use value::{Class, Heap, List, Object, RawTrace, Value};

/// The result of running a pickle: the value STOP returned and the arenas behind it.
pub struct Loaded<'a> {
    /// The unpickled top-level value.
    pub root: Value,
    /// Where every container lives.
    pub heap: Heap<'a>,
    /// Offset of the STOP opcode (for messages about the whole value).
    pub stop_offset: u64,
}

/// Largest pickle accepted: arena indices are u32 and each value costs at least one byte.
pub const MAX_PICKLE_BYTES: u64 = u32::MAX as u64;

/// Run the pickle in `data`, calling `progress(offset)` now and then. Trace-shaped tuples are
/// summed per frames tuple unless `keep_traces` (see [`Heap::push_trace`]).
pub fn load<'a>(
    data: &'a [u8],
    keep_traces: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Loaded<'a>, ParseError> {
    if data.len() as u64 > MAX_PICKLE_BYTES {
        return Err(ParseError::expected(
            0,
            "a tracemalloc dump under 4 GiB",
            format_args!("{} bytes", data.len()),
        ));
    }
    let mut vm = Vm::new(data);
    vm.heap.keep_traces = keep_traces;
    vm.run(progress)
}

struct Vm<'a> {
    cur: Cursor<'a>,
    heap: Heap<'a>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
}

const PROGRESS_EVERY: usize = 1 << 20;

impl<'a> Vm<'a> {
    fn new(data: &'a [u8]) -> Self {
        Vm {
            cur: Cursor::new(data),
            heap: Heap::default(),
            stack: Vec::with_capacity(1024),
            marks: Vec::new(),
            memo: Memo::default(),
        }
    }

    fn run(mut self, progress: &mut dyn FnMut(u64)) -> Result<Loaded<'a>, ParseError> {
        let mut next_tick = PROGRESS_EVERY;
        loop {
            let at = self.cur.pos();
            if at >= next_tick {
                progress(at as u64);
                next_tick = at + PROGRESS_EVERY;
            }
            if self.fused_traces() {
                continue;
            }
            let code = self.cur.u8("a pickle opcode")?;
            if code == op::STOP {
                let root = self.pop(at, "a value before STOP")?;
                progress(self.cur.pos() as u64);
                return Ok(Loaded {
                    root,
                    heap: self.heap,
                    stop_offset: at as u64,
                });
            }
            self.step(code, at)?;
        }
    }

    /// Decode whole trace tuples, one after another, while the bytes have exactly the layout
    /// CPython writes; the result is what the single opcodes would have built. Returns whether
    /// any was decoded (nothing is consumed otherwise).
    fn fused_traces(&mut self) -> bool {
        let mut any = false;
        loop {
            if !matches!(
                self.cur.peek(),
                Some(op::MARK | op::BININT1 | op::BININT2 | op::BININT)
            ) {
                return any;
            }
            let start = self.cur.pos();
            let Some(t) = self.cur.try_fused(0, operand::fused_trace) else {
                return any;
            };
            let trace = match (
                self.memo.get(t.frames_memo as usize),
                u32::try_from(t.domain),
                u64::try_from(t.size),
            ) {
                (Some(Value::Tuple(frames)), Ok(domain), Ok(size))
                    if t.total_nframe.is_none_or(|n| u32::try_from(n).is_ok()) =>
                {
                    RawTrace {
                        size,
                        frames,
                        domain,
                    }
                }
                _ => {
                    // Same bytes, other values: let the single opcodes handle them.
                    self.cur.rewind(start);
                    return any;
                }
            };
            let v = self.heap.push_trace(trace);
            self.stack.push(v);
            if t.memoize {
                self.memo.push(v);
            }
            any = true;
        }
    }

    fn step(&mut self, code: u8, at: usize) -> Result<(), ParseError> {
        match code {
            op::PROTO => {
                let v = self.cur.u8("a protocol number")?;
                if v > 5 {
                    return Err(ParseError::expected(
                        at as u64 + 1,
                        "pickle protocol 0-5",
                        v,
                    ));
                }
            }
            op::FRAME => {
                self.cur.u64("a frame length")?;
            }
            op::MARK => self.marks.push(self.stack.len()),
            op::EMPTY_DICT => {
                self.heap.dicts.push(Vec::new());
                self.stack.push(Value::Dict(last_id(&self.heap.dicts)));
            }
            op::EMPTY_LIST => {
                self.heap.lists.push(List::default());
                self.stack.push(Value::List(last_id(&self.heap.lists)));
            }
            op::EMPTY_TUPLE => {
                let v = self.heap.new_tuple(&[]);
                self.stack.push(v);
            }
            op::TUPLE => {
                let start = self.pop_mark(at)?;
                let v = self.heap.new_tuple(&self.stack[start..]);
                self.stack.truncate(start);
                self.stack.push(v);
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let n = (code - op::TUPLE1 + 1) as usize;
                if self.stack.len() < n + self.floor() {
                    return Err(ParseError::expected(
                        at as u64,
                        "tuple items on the stack",
                        "too few",
                    ));
                }
                let start = self.stack.len() - n;
                let v = self.heap.new_tuple(&self.stack[start..]);
                self.stack.truncate(start);
                self.stack.push(v);
            }
            op::APPEND => {
                let item = self.pop(at, "an item to append")?;
                let list = self.list_at(self.stack.len().checked_sub(1), at)?;
                self.heap.lists[list].push(item);
            }
            op::APPENDS => {
                let start = self.pop_mark(at)?;
                let list = self.list_at(start.checked_sub(1), at)?;
                self.heap.lists[list].extend(&self.stack[start..]);
                self.stack.truncate(start);
            }
            op::SETITEM => {
                let v = self.pop(at, "a dict value")?;
                let k = self.pop(at, "a dict key")?;
                let dict = self.dict_at(self.stack.len().checked_sub(1), at)?;
                self.heap.dicts[dict].push((k, v));
            }
            op::SETITEMS => {
                let start = self.pop_mark(at)?;
                if !(self.stack.len() - start).is_multiple_of(2) {
                    return Err(ParseError::expected(
                        at as u64,
                        "key/value pairs",
                        "an odd number of items",
                    ));
                }
                let dict = self.dict_at(start.checked_sub(1), at)?;
                let pairs = self.stack[start..].chunks_exact(2).map(|p| (p[0], p[1]));
                self.heap.dicts[dict].extend(pairs);
                self.stack.truncate(start);
            }
            op::BININT => {
                let v = self.cur.i32("a 4-byte integer")?;
                let v = self.heap.int(v as i64);
                self.stack.push(v);
            }
            op::BININT1 => {
                let v = self.cur.u8("a 1-byte integer")?;
                self.stack.push(Value::Int(v as u32));
            }
            op::BININT2 => {
                let v = self.cur.u16("a 2-byte integer")?;
                self.stack.push(Value::Int(v as u32));
            }
            op::LONG1 => {
                let n = self.cur.u8("a LONG1 length")?;
                let bytes = self.cur.take(n as u64, "LONG1 integer bytes")?;
                let v = self.heap.int(long_from_le(bytes, at)?);
                self.stack.push(v);
            }
            op::SHORT_BINUNICODE => {
                let n = self.cur.u8("a string length")? as u64;
                self.push_str(n)?;
            }
            op::BINUNICODE => {
                let n = self.cur.u32("a string length")? as u64;
                self.push_str(n)?;
            }
            op::BINUNICODE8 => {
                let n = self.cur.u64("a string length")?;
                self.push_str(n)?;
            }
            op::MEMOIZE => {
                if self.stack.len() <= self.floor() {
                    return Err(ParseError::expected(
                        at as u64,
                        "a value to memoize",
                        "an empty stack",
                    ));
                }
                let top = self.stack[self.stack.len() - 1];
                self.memo.push(top);
            }
            op::BINGET => {
                let i = self.cur.u8("a memo index")? as usize;
                self.push_memo(i, at)?;
            }
            op::LONG_BINGET => {
                let i = self.cur.u32("a memo index")? as usize;
                self.push_memo(i, at)?;
            }
            op::STACK_GLOBAL => {
                let name = self.pop(at, "a global's name")?;
                let module = self.pop(at, "a global's module")?;
                let (Value::Str(m), Value::Str(n)) = (module, name) else {
                    return Err(ParseError::expected(
                        at as u64,
                        "two strings naming a global",
                        "other values",
                    ));
                };
                let class =
                    self.allow_global(self.heap.strs[m as usize], self.heap.strs[n as usize], at)?;
                self.stack.push(Value::Class(class));
            }
            op::GLOBAL => {
                let module = self.cur.line("a module name line")?;
                let name = self.cur.line("a global name line")?;
                let class = self.allow_global(module, name, at)?;
                self.stack.push(Value::Class(class));
            }
            op::NEWOBJ => {
                let args = self.pop(at, "NEWOBJ arguments")?;
                let cls = self.pop(at, "a class")?;
                let Value::Class(class) = cls else {
                    return Err(ParseError::expected(
                        at as u64,
                        "a class for NEWOBJ",
                        cls.type_name(),
                    ));
                };
                if !matches!(args, Value::Tuple(_)) {
                    return Err(ParseError::expected(
                        at as u64,
                        "an argument tuple",
                        args.type_name(),
                    ));
                }
                self.heap.objects.push(Object { class, state: None });
                self.stack.push(Value::Object(last_id(&self.heap.objects)));
            }
            op::BUILD => {
                let state = self.pop(at, "a state for BUILD")?;
                match self.stack.last() {
                    Some(&Value::Object(o)) if self.stack.len() > self.floor() => {
                        self.heap.objects[o as usize].state = Some(state);
                    }
                    Some(v) => {
                        return Err(ParseError::expected(
                            at as u64,
                            "an object to BUILD",
                            v.type_name(),
                        ));
                    }
                    None => {
                        return Err(ParseError::expected(
                            at as u64,
                            "an object to BUILD",
                            "an empty stack",
                        ));
                    }
                }
            }
            other => return Err(refuse(other, at)),
        }
        Ok(())
    }

    /// Stack items below the last mark belong to an outer frame and cannot be popped.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, at: usize, what: &str) -> Result<Value, ParseError> {
        if self.stack.len() <= self.floor() {
            return Err(ParseError::expected(at as u64, what, "an empty stack"));
        }
        self.stack
            .pop()
            .ok_or_else(|| ParseError::expected(at as u64, what, "an empty stack"))
    }

    fn pop_mark(&mut self, at: usize) -> Result<usize, ParseError> {
        self.marks
            .pop()
            .ok_or_else(|| ParseError::expected(at as u64, "a MARK before this opcode", "none"))
    }

    fn list_at(&self, idx: Option<usize>, at: usize) -> Result<usize, ParseError> {
        match idx.and_then(|i| self.stack.get(i)) {
            Some(&Value::List(l)) => Ok(l as usize),
            Some(v) => Err(ParseError::expected(
                at as u64,
                "a list to append to",
                v.type_name(),
            )),
            None => Err(ParseError::expected(
                at as u64,
                "a list to append to",
                "an empty stack",
            )),
        }
    }

    fn dict_at(&self, idx: Option<usize>, at: usize) -> Result<usize, ParseError> {
        match idx.and_then(|i| self.stack.get(i)) {
            Some(&Value::Dict(d)) => Ok(d as usize),
            Some(v) => Err(ParseError::expected(
                at as u64,
                "a dict to set items in",
                v.type_name(),
            )),
            None => Err(ParseError::expected(
                at as u64,
                "a dict to set items in",
                "an empty stack",
            )),
        }
    }

    fn push_str(&mut self, n: u64) -> Result<(), ParseError> {
        let bytes = self.cur.take(n, "string bytes")?;
        self.heap.strs.push(bytes);
        self.stack.push(Value::Str(last_id(&self.heap.strs)));
        Ok(())
    }

    fn push_memo(&mut self, i: usize, at: usize) -> Result<(), ParseError> {
        match self.memo.get(i) {
            Some(v) => {
                self.stack.push(v);
                Ok(())
            }
            None => Err(ParseError::expected(
                at as u64,
                "a memo index that was stored before",
                format_args!("index {i} of {}", self.memo.len()),
            )),
        }
    }

    fn allow_global(&self, module: &[u8], name: &[u8], at: usize) -> Result<Class, ParseError> {
        Class::lookup(module, name).ok_or_else(|| {
            ParseError::at(
                at as u64,
                format!(
                    "refusing pickle global {}.{}: a tracemalloc dump names only tracemalloc.Snapshot and tracemalloc._Traces, and leakhunt never imports or calls",
                    String::from_utf8_lossy(module).escape_debug(),
                    String::from_utf8_lossy(name).escape_debug()
                ),
            )
        })
    }
}

fn last_id<T>(v: &[T]) -> u32 {
    (v.len() - 1) as u32
}

fn refuse(code: u8, at: usize) -> ParseError {
    if let Some((_, name)) = op::CALLING.iter().find(|(c, _)| *c == code) {
        return ParseError::at(
            at as u64,
            format!(
                "refusing pickle opcode {name}: it would call code, and tracemalloc dumps never use it"
            ),
        );
    }
    match op::name(code) {
        Some(name) => ParseError::expected(
            at as u64,
            "an opcode used by tracemalloc dumps",
            format_args!("{name} (0x{code:02x})"),
        ),
        None => ParseError::expected(
            at as u64,
            "a pickle opcode (is this a tracemalloc dump or a leakhunt snapshot?)",
            format_args!("byte 0x{code:02x}"),
        ),
    }
}

fn long_from_le(bytes: &[u8], at: usize) -> Result<i64, ParseError> {
    if bytes.len() > 8 {
        return Err(ParseError::expected(
            at as u64,
            "an integer of at most 64 bits",
            format_args!("{} bytes", bytes.len()),
        ));
    }
    if bytes.is_empty() {
        return Ok(0);
    }
    let negative = bytes[bytes.len() - 1] & 0x80 != 0;
    let mut buf = if negative { [0xffu8; 8] } else { [0u8; 8] };
    buf[..bytes.len()].copy_from_slice(bytes);
    Ok(i64::from_le_bytes(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8]) -> Result<Loaded<'_>, ParseError> {
        load(data, true, &mut |_| {})
    }

    #[test]
    fn long1_sign_extension() {
        assert_eq!(
            long_from_le(&[0xff, 0xff, 0xff, 0xff, 0x00], 0),
            Ok(0xffff_ffff)
        );
        assert_eq!(long_from_le(&[0xff], 0), Ok(-1));
        assert_eq!(long_from_le(&[], 0), Ok(0));
        assert!(long_from_le(&[0; 9], 0).is_err());
    }

    #[test]
    fn refuses_protocol0_global_with_its_name() {
        let e = run(b"cos\nsystem\n(S'x'\ntR.").err().unwrap();
        assert_eq!(e.offset, 0);
        assert!(e.message.contains("os.system"), "{}", e.message);
    }

    #[test]
    fn refuses_reduce() {
        let e = run(b"\x80\x05(tR.").err().unwrap();
        assert!(e.message.contains("REDUCE"), "{}", e.message);
    }

    #[test]
    fn mark_protects_outer_stack() {
        // EMPTY_LIST MARK TUPLE1: TUPLE1 may not reach below the mark.
        let e = run(b"](\x85.").err().unwrap();
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn memo_index_out_of_range() {
        let e = run(b"\x80\x05h\x07.").err().unwrap();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("memo"), "{}", e.message);
    }

    #[test]
    fn truncated_string() {
        let e = run(b"\x80\x05\x8c\x10abc").err().unwrap();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("end of file"), "{}", e.message);
    }

    #[test]
    fn fused_and_single_opcodes_agree() {
        // The same 4-tuple with BININT (not fused: a negative domain) and BININT1 (fused).
        let frames = b"\x80\x05\x8c\x04a.pyK\x03\x86\x85\x94";
        let mut fused = frames.to_vec();
        fused.extend_from_slice(b"(K\x00K8h\x00K\x01t\x94h\x01.");
        let l = run(&fused).unwrap();
        assert_eq!(l.root, Value::Trace(0));
        assert_eq!(
            l.heap.traces[0],
            RawTrace {
                size: 56,
                frames: 1,
                domain: 0
            }
        );
        let mut single = frames.to_vec();
        single.extend_from_slice(b"(J\xff\xff\xff\xffK8h\x00K\x01t\x94h\x01.");
        let l = run(&single).unwrap();
        assert!(
            matches!(l.root, Value::Tuple(_)),
            "negative domain is no trace"
        );
    }

    #[test]
    fn trace_shaped_tuples_are_compact() {
        // (0, 56, (("a.py", 3),), 1)
        let data = b"\x80\x05(K\x00K8\x8c\x04a.pyK\x03\x86\x85K\x01t.";
        let l = run(data).unwrap();
        assert_eq!(l.root, Value::Trace(0));
        assert_eq!(l.heap.traces[0].size, 56);
    }
}
