//! Decoding of opcode operands with nom, tracking the byte offset for error messages.

use crate::error::ParseError;
use nom::IResult;
use nom::bytes::complete::{tag, take, take_until};
use nom::number::complete::{le_i32, le_u8, le_u16, le_u32, le_u64};

type NomResult<'a, T> = IResult<&'a [u8], T, nom::error::Error<&'a [u8]>>;

/// A read position in a pickle's bytes.
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// True when every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn run<T>(
        &mut self,
        what: &str,
        parser: impl FnOnce(&'a [u8]) -> NomResult<'a, T>,
    ) -> Result<T, ParseError> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]); // ok: pos never passes len
        match parser(rest) {
            Ok((after, v)) => {
                self.pos = self.data.len() - after.len();
                Ok(v)
            }
            Err(_) => Err(ParseError::expected(self.pos as u64, what, "end of file")),
        }
    }

    /// One byte (an opcode or a 1-byte operand).
    pub fn u8(&mut self, what: &str) -> Result<u8, ParseError> {
        self.run(what, le_u8)
    }

    /// A little-endian u16.
    pub fn u16(&mut self, what: &str) -> Result<u16, ParseError> {
        self.run(what, le_u16)
    }

    /// A little-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32, ParseError> {
        self.run(what, le_u32)
    }

    /// A little-endian i32.
    pub fn i32(&mut self, what: &str) -> Result<i32, ParseError> {
        self.run(what, le_i32)
    }

    /// A little-endian u64.
    pub fn u64(&mut self, what: &str) -> Result<u64, ParseError> {
        self.run(what, le_u64)
    }

    /// `n` raw bytes, borrowed from the input.
    pub fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], ParseError> {
        let remaining = (self.data.len() - self.pos) as u64;
        if n > remaining {
            return Err(ParseError::expected(
                self.pos as u64,
                what,
                format_args!("end of file ({remaining} bytes left, {n} needed)"),
            ));
        }
        self.run(what, |i| take(n as usize)(i))
    }

    /// A newline-terminated text operand (protocol 0 GLOBAL), without the newline.
    pub fn line(&mut self, what: &str) -> Result<&'a [u8], ParseError> {
        self.run(what, |i| {
            let (i, text) = take_until(&b"\n"[..])(i)?;
            let (i, _) = tag(&b"\n"[..])(i)?;
            Ok((i, text))
        })
    }
}

/// A trace tuple recognised in one step: the fused form of
/// `[MARK] int int BINGET|LONG_BINGET [int] TUPLE|TUPLE3 [MEMOIZE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FusedTrace {
    /// The domain int.
    pub domain: i64,
    /// The size int.
    pub size: i64,
    /// Memo index of the frames tuple.
    pub frames_memo: u32,
    /// The total_nframe int (3.9+).
    pub total_nframe: Option<i64>,
    /// Whether a MEMOIZE followed.
    pub memoize: bool,
}

/// Longest fused trace: MARK, three BININTs, LONG_BINGET, TUPLE, MEMOIZE.
const FUSED_MAX: usize = 1 + 5 + 5 + 5 + 5 + 1 + 1;

/// A fixed window of the input for the fused trace path: direct loads, no error values.
struct Window<'a> {
    w: &'a [u8; FUSED_MAX],
    k: usize,
}

impl Window<'_> {
    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let b = *self.w.get(self.k)?;
        self.k += 1;
        Some(b)
    }

    #[inline(always)]
    fn le<const N: usize>(&mut self) -> Option<[u8; N]> {
        let v: [u8; N] = self.w.get(self.k..self.k + N)?.try_into().ok()?;
        self.k += N;
        Some(v)
    }

    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        use super::opcodes::{BININT, BININT1, BININT2};
        match self.byte()? {
            BININT1 => self.byte().map(i64::from),
            BININT2 => self.le::<2>().map(|b| u16::from_le_bytes(b) as i64),
            BININT => self.le::<4>().map(|b| i32::from_le_bytes(b) as i64),
            _ => None,
        }
    }

    #[inline(always)]
    fn memo_get(&mut self) -> Option<u32> {
        use super::opcodes::{BINGET, LONG_BINGET};
        match self.byte()? {
            BINGET => self.byte().map(u32::from),
            LONG_BINGET => self.le::<4>().map(u32::from_le_bytes),
            _ => None,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.w.get(self.k).copied()
    }
}

#[inline(always)]
fn is_int_op(b: u8) -> bool {
    use super::opcodes::{BININT, BININT1, BININT2};
    matches!(b, BININT1 | BININT2 | BININT)
}

/// A trace tuple in one of CPython's two layouts, starting at the first byte of `i`:
/// `MARK int int get [int] TUPLE [MEMOIZE]` (3.9+) or `int int get TUPLE3 [MEMOIZE]` (3.8).
/// Returns the trace and the bytes it used; `None` for anything else (or too few bytes left,
/// where the single opcodes take over).
#[inline]
pub fn fused_trace(i: &[u8]) -> Option<(FusedTrace, usize)> {
    use super::opcodes::{MARK, MEMOIZE, TUPLE, TUPLE3};
    let w: &[u8; FUSED_MAX] = i.get(..FUSED_MAX)?.try_into().ok()?;
    let mut b = Window { w, k: 0 };
    let marked = w[0] == MARK;
    if marked {
        b.k = 1;
    }
    let domain = b.int()?;
    let size = b.int()?;
    let frames_memo = b.memo_get()?;
    let mut total_nframe = None;
    if marked {
        if b.peek().is_some_and(is_int_op) {
            total_nframe = Some(b.int()?);
        }
        if b.byte()? != TUPLE {
            return None;
        }
    } else if b.byte()? != TUPLE3 {
        return None;
    }
    let memoize = b.peek() == Some(MEMOIZE);
    if memoize {
        b.k += 1;
    }
    Some((
        FusedTrace {
            domain,
            size,
            frames_memo,
            total_nframe,
            memoize,
        },
        b.k,
    ))
}

impl<'a> Cursor<'a> {
    /// Go back to an earlier offset returned by [`Cursor::pos`].
    pub fn rewind(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Run a fused decoder at `pos + skip`; advance past what it used only when it succeeds.
    #[inline]
    pub fn try_fused<T>(
        &mut self,
        skip: usize,
        decode: impl FnOnce(&'a [u8]) -> Option<(T, usize)>,
    ) -> Option<T> {
        let rest = self.data.get(self.pos + skip..)?;
        let (v, used) = decode(rest)?;
        self.pos += skip + used;
        Some(v)
    }
}
