//! Readers: bytes in, model values out. Every error names the file, offset and expectation.

pub mod pickle;
pub mod snap;
pub mod source;
pub mod tracemalloc;

pub use source::Source;

/// The kinds of input file leakhunt reads, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A `tracemalloc.Snapshot.dump()` pickle.
    Tracemalloc,
    /// A leakhunt object-graph snapshot (`.snap`).
    Snap,
}

/// The magic bytes that open a `.snap` file.
pub const SNAP_MAGIC: &[u8; 8] = b"LKSNAP\r\n";

/// Tell the input kind from the first bytes; anything that is not a `.snap` is read as a pickle,
/// whose reader then says precisely what it expected.
pub fn detect(bytes: &[u8]) -> InputKind {
    if bytes.starts_with(SNAP_MAGIC) {
        InputKind::Snap
    } else {
        InputKind::Tracemalloc
    }
}
