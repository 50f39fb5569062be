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

    fn run<T>(&mut self, what: &str, parser: impl FnOnce(&'a [u8]) -> NomResult<'a, T>) -> Result<T, ParseError> {
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
