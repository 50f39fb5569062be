//! Zero-copy views of section payloads as typed slices of the mapped file.

use super::layout::Section;
use crate::error::ParseError;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
    impl Sealed for [u32; 2] {}
    impl Sealed for [u32; 4] {}
}

/// Plain little-endian integer element types a section may be viewed as.
pub trait Plain: sealed::Sealed + Copy {}
impl Plain for u8 {}
impl Plain for u32 {}
impl Plain for u64 {}
impl Plain for [u32; 2] {}
impl Plain for [u32; 4] {}

/// A section's payload as `&[T]`; the directory checks guarantee bounds and 8-byte offsets,
/// and the map starts on a page boundary, so the cast needs no copy.
pub fn view<'a, T: Plain>(data: &'a [u8], s: &Section) -> Result<&'a [T], ParseError> {
    let bytes = data
        .get(s.offset as usize..(s.offset + s.byte_len) as usize)
        .ok_or_else(|| {
            ParseError::expected(s.entry_at + 8, "a section inside the file", s.offset)
        })?;
    // SAFETY: T is one of the sealed plain integer types (any bit pattern is a valid value,
    // no padding, no drop); `align_to` only yields a middle part that is properly aligned.
    let (head, body, tail) = unsafe { bytes.align_to::<T>() };
    if !head.is_empty() || !tail.is_empty() {
        return Err(ParseError::expected(
            s.offset,
            "a section aligned in memory",
            "a misaligned one",
        ));
    }
    Ok(body)
}
