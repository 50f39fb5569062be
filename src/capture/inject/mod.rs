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
