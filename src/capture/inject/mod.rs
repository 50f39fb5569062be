//! Ways to run a line of Python inside a CPython process that is already running: leakhunt's
//! own ptrace calls (Linux x86-64) or gdb. Each is proved on a throwaway process first
//! (`capture::canary`) before it touches a real one.

pub mod elf;
pub mod gdb;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod ptrace;

use std::path::Path;
use std::time::Duration;

/// An injection mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// leakhunt's own ptrace calls; needs no debugger
    Ptrace,
    /// gdb's inferior calls
    Gdb,
}

impl Via {
    /// The mechanism's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Via::Ptrace => "ptrace",
            Via::Gdb => "gdb",
        }
    }

    /// Why this mechanism cannot run on this machine at all, or `None` when it may.
    pub fn unavailable(self) -> Option<String> {
        match self {
            Via::Ptrace if cfg!(all(target_os = "linux", target_arch = "x86_64")) => None,
            Via::Ptrace => Some("leakhunt's own injector exists only for Linux x86-64".into()),
            Via::Gdb => gdb::find().err(),
        }
    }
}

/// How the code was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// On the main thread, now, with the GIL taken for it
    Direct,
    /// Queued (`Py_AddPendingCall`) for the main thread's next safe point
    Pending,
}

/// Why an injection did not happen.
#[derive(Debug)]
pub enum Fail {
    /// The kernel refused to let leakhunt trace the process
    NotPermitted,
    /// The process (or its main thread) exited
    Gone,
    /// Anything else, said in words
    Other(String),
}

impl Fail {
    /// The failure in words.
    pub fn text(&self) -> String {
        match self {
            Fail::NotPermitted => "not permitted to trace it".into(),
            Fail::Gone => "the process exited".into(),
            Fail::Other(s) => s.clone(),
        }
    }
}

/// An executable file named `name` in a directory of PATH.
pub fn on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

/// A Python string literal holding `s`, in printable ASCII only.
pub fn py_literal(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            ' '..='~' => out.push(c),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('\'');
    out
}

/// Run `code` (Python source, one C string) in process `pid` through `via`.
pub fn run(
    via: Via,
    pid: i32,
    code: &str,
    scratch: &Path,
    timeout: Duration,
) -> Result<Route, Fail> {
    match via {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        Via::Ptrace => ptrace::inject(pid, code, timeout),
        #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
        Via::Ptrace => Err(Fail::Other(Via::Ptrace.unavailable().unwrap_or_default())),
        Via::Gdb => gdb::inject(pid, code, scratch, timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::py_literal;

    #[test]
    fn literals_are_ascii() {
        assert_eq!(py_literal("a'b\\c\n"), "'a\\'b\\\\c\\n'");
        assert_eq!(py_literal("é"), "'\\u00e9'");
    }
}
