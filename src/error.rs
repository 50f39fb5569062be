//! The one error type: every failure names the file, the byte offset and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failure while reading or analysing input, rendered as one line.
#[derive(Debug)]
pub struct Error {
    /// The file (or directory) the error is about; empty when none applies.
    pub path: PathBuf,
    /// Byte offset in the file where the problem was found.
    pub offset: Option<u64>,
    /// What leakhunt expected, or what went wrong.
    pub message: String,
}

/// Result with leakhunt's error type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error at a byte offset: "expected X, found Y".
    pub fn expected(path: &Path, offset: u64, expected: &str, found: impl fmt::Display) -> Self {
        Error {
            path: path.to_path_buf(),
            offset: Some(offset),
            message: format!("expected {expected}, found {found}"),
        }
    }

    /// An error at a byte offset with a free-form message.
    pub fn at(path: &Path, offset: u64, message: impl Into<String>) -> Self {
        Error {
            path: path.to_path_buf(),
            offset: Some(offset),
            message: message.into(),
        }
    }

    /// An error about a file as a whole (cannot open, is a directory...).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Error {
            path: path.to_path_buf(),
            offset: None,
            message: message.into(),
        }
    }

    /// An error about the command line rather than a file.
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            path: PathBuf::new(),
            offset: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always: newlines in messages would break "one error, one line".
        let msg = self.message.replace(['\n', '\r'], " ");
        let path = self.path.display().to_string().replace(['\n', '\r'], "?");
        match (path.is_empty(), self.offset) {
            (true, _) => write!(f, "{msg}"),
            (false, Some(off)) => write!(f, "{path}: at byte {off}: {msg}"),
            (false, None) => write!(f, "{path}: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// A parse failure inside a byte buffer, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the problem.
    pub offset: u64,
    /// What went wrong, phrased as "expected X, found Y" where possible.
    pub message: String,
}

impl ParseError {
    /// "expected X, found Y" at an offset.
    pub fn expected(offset: u64, expected: &str, found: impl fmt::Display) -> Self {
        ParseError {
            offset,
            message: format!("expected {expected}, found {found}"),
        }
    }

    /// A free-form message at an offset.
    pub fn at(offset: u64, message: impl Into<String>) -> Self {
        ParseError {
            offset,
            message: message.into(),
        }
    }

    /// Attach the file name, making a full [`Error`].
    pub fn in_file(self, path: &Path) -> Error {
        Error::at(path, self.offset, self.message)
    }
}
