//! Opening an input file as a read-only memory map.

use crate::error::{Error, Result};
use crate::input::snap::resolve::Resolved;
use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A file's bytes, memory-mapped, with the path kept for error messages (and, for a
/// version-2 `.snap`, the columns the reader built from it).
pub struct Source {
    path: PathBuf,
    map: Option<Mmap>,
    resolved: OnceLock<Resolved>,
}

impl Source {
    /// Open and map `path`; a missing file, a directory or an empty file is an error.
    pub fn open(path: &Path) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            return Err(Error::expected(path, 0, "a snapshot file", "a directory"));
        }
        let file = File::open(path).map_err(|e| io_error(path, &e))?;
        if meta.len() == 0 {
            return Err(Error::expected(
                path,
                0,
                "a tracemalloc dump or a leakhunt snapshot",
                "an empty file",
            ));
        }
        // SAFETY: the map is read-only; leakhunt reads snapshots that are no longer being
        // written. A file truncated underneath us can still fault, as with any mmap reader.
        let map =
            unsafe { MmapOptions::new().populate().map(&file) }.map_err(|e| io_error(path, &e))?;
        Ok(Source {
            path: path.to_path_buf(),
            map: Some(map),
            resolved: OnceLock::new(),
        })
    }

    /// Where the reader keeps the columns it builds from a version-2 `.snap`.
    pub fn resolved(&self) -> &OnceLock<Resolved> {
        &self.resolved
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The path the bytes came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An I/O failure on `path` as a one-line error at byte 0.
pub fn io_error(path: &Path, e: &std::io::Error) -> Error {
    let found = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    Error::expected(path, 0, "a readable snapshot file", found)
}
