//! `leakhunt attach PID`: one or more snapshots of a CPython process that is already running.
//! The injection mechanism (leakhunt's own ptrace calls, or gdb) is first proved on a
//! throwaway process of the same interpreter (`canary`); the target is touched only through
//! one that passed.

use super::canary::{self, Proof};
use super::inject::{self, Fail, Route, Via};
use super::{duration, embed, snapshots};
use crate::error::{Error, Result};
use clap::Args;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `leakhunt attach`.
#[derive(Args)]
pub struct AttachArgs {
    /// The process id of a running CPython 3.8-3.13
    #[arg(value_name = "PID")]
    pid: i32,
    /// Directory for the snapshots (default: leakhunt-attach-PID)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// How many snapshots to take
    #[arg(long, default_value_t = 1, value_name = "N")]
    count: u32,
    /// Time between snapshots with --count
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    every: String,
    /// Walk the heap in the target itself (it stays stopped for the whole walk)
    #[arg(long)]
    no_fork: bool,
    /// Give up on one snapshot after this long
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    timeout: String,
    /// The way in: leakhunt's own ptrace calls or gdb (default: the first that passes the canary)
    #[arg(long, value_enum, value_name = "WAY")]
    via: Option<Via>,
    /// Only prove injection on a throwaway copy of the target's interpreter; touch nothing
    #[arg(long)]
    dry_run: bool,
}

/// What /proc says about the target before anything touches it.
struct Target {
    pid: i32,
    uid: u32,
    gid: u32,
    exe: String,
    /// The libpython it maps, if any
    libpython: Option<String>,
}

/// Take the snapshots; prints each file written. Exit code 0, or an error line.
pub fn run(a: &AttachArgs) -> Result<i32> {
    let every = duration::seconds("--every", &a.every)?;
    let timeout = Duration::from_secs_f64(duration::seconds("--timeout", &a.timeout)?);
    let target = inspect(a.pid)?;
    let pydir = embed::python_dir()?;
    let scratch = pydir.parent().unwrap_or(&pydir).to_path_buf();
    // the canary's verdict holds for the rest of this command (every --count snapshot)
    let (via, proof) = prove(&target, a.via, &scratch)?;
    let proved = format!(
        "leakhunt: injection via {} proved on a throwaway {} ({} call, canary {:.2} s)",
        via.name(),
        target.exe,
        match proof.route {
            Route::Direct => "direct",
            Route::Pending => "queued",
        },
        proof.took.as_secs_f64()
    );
    if a.dry_run {
        println!(
            "{}; process {} was not touched",
            proved.trim_start_matches("leakhunt: "),
            a.pid
        );
        return Ok(0);
    }
    eprintln!("{proved}");
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("leakhunt-attach-{}", a.pid)));
    std::fs::create_dir_all(&out).map_err(|e| Error::file(&out, format!("cannot create: {e}")))?;
    let out = std::fs::canonicalize(&out).map_err(|e| Error::file(&out, e.to_string()))?;
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    if target.uid != me {
        // the target (another user) imports the dumper and writes the snapshots itself
        embed::share_with_others(&pydir)?;
        chown(&out, target.uid, target.gid)?;
    }
    for i in 0..a.count.max(1) {
        if i > 0 {
            std::thread::sleep(Duration::from_secs_f64(every));
        }
        let path = one(via, &target, &pydir, &scratch, &out, !a.no_fork, timeout)?;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", path.display()).and_then(|_| stdout.flush());
    }
    eprintln!(
        "leakhunt: snapshots of {} in {} (leakhunt report {})",
        a.pid,
        out.display(),
        out.display()
    );
    Ok(0)
}

/// Run the canary for each way in (or the one asked for) until one passes; when none does,
/// the one refusal line says what failed, that the target was not touched, and what to do.
fn prove(t: &Target, asked: Option<Via>, scratch: &Path) -> Result<(Via, Proof)> {
    let ways = match asked {
        Some(v) => vec![v],
        None => vec![Via::Ptrace, Via::Gdb],
    };
    let python = canary::interpreter(&t.exe, t.libpython.as_deref())
        .map_err(|why| refusal(t.pid, &format!("no canary can be run ({why})")))?;
    let mut failed = Vec::new();
    for via in ways {
        match canary::prove(&python, via, scratch) {
            Ok(proof) => return Ok((via, proof)),
            Err(why) => failed.push(format!("{}: {why}", via.name())),
        }
    }
    Err(refusal(
        t.pid,
        &format!(
            "injection failed its canary on a throwaway {} ({})",
            python.display(),
            failed.join("; ")
        ),
    ))
}

/// "attach: refused, process N was not touched: WHY; instead, ..."
fn refusal(pid: i32, why: &str) -> Error {
    Error::usage(format!(
        "attach: refused, process {pid} was not touched: {why}; instead run the program under \
         `leakhunt record`, or call `import leakhunt; leakhunt.install(out=...)` in it (its \
         signal, SIGUSR2 by default, then takes a snapshot), or another debugger (--via)"
    ))
}

fn inspect(pid: i32) -> Result<Target> {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let status = std::fs::read_to_string(proc_dir.join("status")).map_err(|_| {
        Error::usage(format!(
            "attach: no process {pid} (check the pid: ps -p {pid})"
        ))
    })?;
    if pid as u32 == std::process::id() {
        return Err(Error::usage("attach: that is leakhunt itself"));
    }
    let field = |name: &str| -> u32 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (uid, gid) = (field("Uid:"), field("Gid:"));
    let tracer: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if tracer != 0 {
        return Err(Error::usage(format!(
            "attach: process {pid} is already traced by process {tracer} (a debugger or \
             strace); detach that first"
        )));
    }
    let scope = ptrace_scope();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if scope == Some(3) {
        return Err(Error::usage(
            "attach: ptrace is disabled on this machine (kernel.yama.ptrace_scope=3, until reboot); \
             use `leakhunt record` or leakhunt.install() instead",
        ));
    }
    let exe = std::fs::read_link(proc_dir.join("exe"));
    let maps = std::fs::read_to_string(proc_dir.join("maps"));
    let (exe, maps) = match (exe, maps) {
        (Ok(e), Ok(m)) => (e.display().to_string(), m),
        _ => return Err(refused(pid, scope, root)),
    };
    let lib = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| file_name(p).starts_with("libpython3."));
    let name = file_name(lib.unwrap_or(&exe)).to_string();
    let cpython = lib.is_some() || name.starts_with("python") || has_python_symbols(&exe);
    if !cpython {
        return Err(Error::usage(format!(
            "attach: process {pid} ({exe}) is not CPython (no libpython, no Python C API symbols); \
             attach works on CPython 3.8-3.13"
        )));
    }
    if let Some(minor) = minor_version(&name).filter(|&m| m < 8) {
        return Err(Error::usage(format!(
            "attach: process {pid} runs CPython 3.{minor}; leakhunt supports 3.8-3.13"
        )));
    }
    let libpython = lib.map(str::to_string);
    Ok(Target {
        pid,
        uid,
        gid,
        exe,
        libpython,
    })
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// 11 from `python3.11`, `libpython3.11.so.1.0`, `libpython3.11d.so`.
fn minor_version(name: &str) -> Option<u32> {
    let rest = name.split("python3.").nth(1)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Whether an executable exports the C API (an embedding binary such as uwsgi).
fn has_python_symbols(exe: &str) -> bool {
    let Ok(mut f) = std::fs::File::open(exe) else {
        return false;
    };
    let mut bytes = Vec::new();
    if f.read_to_end(&mut bytes).is_err() {
        return false;
    }
    let needle = b"PyGILState_Ensure\0";
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'P')
        .any(|(i, _)| bytes[i..].starts_with(needle))
}

fn ptrace_scope() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// The one line for "the kernel will not let us trace it".
fn refused(pid: i32, scope: Option<u32>, root: bool) -> Error {
    let why = match scope {
        Some(1) if !root => {
            " (kernel.yama.ptrace_scope=1: only a parent process or root may trace); \
             run leakhunt with sudo, or `sudo sysctl kernel.yama.ptrace_scope=0`"
        }
        Some(2) if !root => {
            " (kernel.yama.ptrace_scope=2: only root may trace); run leakhunt with sudo"
        }
        _ if !root => "; run leakhunt as the process's user or with sudo",
        _ => {
            "; in a container, start it with --cap-add=SYS_PTRACE (docker) or the SYS_PTRACE capability (kubernetes)"
        }
    };
    Error::usage(format!("attach: not permitted to trace process {pid}{why}"))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| Error::file(path, format!("cannot give to uid {uid}: {e}")))
}

/// One snapshot: inject, then wait for the status line and the file. Returns its path.
fn one(
    via: Via,
    t: &Target,
    pydir: &Path,
    scratch: &Path,
    out: &Path,
    fork: bool,
    timeout: Duration,
) -> Result<PathBuf> {
    let seq = snapshots(out).last().map_or(0, |s| s.0) + 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = out.join(format!("snap-{seq:06}-{now}.snap"));
    let status = out.join(format!(".leakhunt-attach-{seq}.status"));
    let _ = std::fs::remove_file(&status);
    let code = injected_code(pydir, &path, &status, seq, fork)?;
    let route = inject::run(via, t.pid, &code, scratch, timeout).map_err(|f| failure(t, via, f))?;
    let pending = route == Route::Pending;
    let line = wait_for_status(t.pid, &status, pending, timeout)?;
    if let Some(child) = line.strip_prefix("started ") {
        let child: i32 = child.trim().parse().unwrap_or(0);
        wait_for_child(t.pid, child, &path, timeout)?;
        Ok(path)
    } else if line.starts_with("done ") {
        Ok(path)
    } else if let Some(why) = line.strip_prefix("failed ") {
        Err(Error::file(
            &path,
            format!("the dump failed inside process {}: {why}", t.pid),
        ))
    } else {
        Err(Error::usage(format!(
            "attach: the dump did not run in process {} ({} reported success, but the \
             injected code wrote no status)",
            t.pid,
            via.name()
        )))
    }
}

/// The one line for an injection into the target that did not happen.
fn failure(t: &Target, via: Via, f: Fail) -> Error {
    match f {
        Fail::NotPermitted => {
            // SAFETY: geteuid has no preconditions.
            let root = unsafe { libc::geteuid() } == 0;
            refused(t.pid, ptrace_scope(), root)
        }
        Fail::Gone => Error::usage(format!("attach: process {} exited", t.pid)),
        Fail::Other(why) => Error::usage(format!(
            "attach: the dump did not run in process {} ({}: {why})",
            t.pid,
            via.name()
        )),
    }
}

/// The status line the injected code writes; with a pending call, the main thread writes it
/// when it next runs Python code.
fn wait_for_status(pid: i32, status: &Path, pending: bool, timeout: Duration) -> Result<String> {
    let started = Instant::now();
    let mut told = false;
    loop {
        if let Ok(text) = std::fs::read_to_string(status)
            && text.ends_with('\n')
        {
            let _ = std::fs::remove_file(status);
            return Ok(text.trim().to_string());
        }
        if !pending {
            // a direct call has finished by the time gdb returns
            return Ok(String::new());
        }
        if !told {
            eprintln!(
                "leakhunt: no thread of process {pid} can take the snapshot now (one holds \
                 the GIL, or every thread waits on a lock): the snapshot is queued for the \
                 main thread's next Python instruction"
            );
            told = true;
        }
        if started.elapsed() > timeout {
            return Err(Error::usage(format!(
                "attach: the main thread of process {pid} ran no Python code within {timeout:?}; \
                 the snapshot stays queued and is written when it does"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The Python run in the target: our own package (unless one is imported already), a
/// private namespace (nothing lands in `__main__`), every error caught into the status file.
fn injected_code(pydir: &Path, path: &Path, status: &Path, seq: u64, fork: bool) -> Result<String> {
    let lit = |p: &Path| -> Result<String> {
        p.to_str()
            .map(inject::py_literal)
            .ok_or_else(|| Error::file(p, "attach needs a UTF-8 path"))
    };
    let body = format!(
        "import sys\n\
         S = {status}\n\
         try:\n\
         \x20   if sys.version_info < (3, 8):\n\
         \x20       raise RuntimeError('CPython %d.%d is too old (3.8+)' % sys.version_info[:2])\n\
         \x20   m = sys.modules.get('leakhunt.capture')\n\
         \x20   if m is None or not hasattr(m, 'attach_dump'):\n\
         \x20       if 'leakhunt' in sys.modules:\n\
         \x20           raise ImportError('another leakhunt is imported here: %s' % getattr(sys.modules['leakhunt'], '__file__', '?'))\n\
         \x20       sys.path.insert(0, {pydir})\n\
         \x20       try:\n\
         \x20           import leakhunt.capture, leakhunt.forkdump, leakhunt.dumper, leakhunt.roots\n\
         \x20       finally:\n\
         \x20           sys.path.remove({pydir})\n\
         \x20       m = sys.modules['leakhunt.capture']\n\
         \x20   m.attach_dump({path}, S, {seq}, {label}, {fork})\n\
         except BaseException as e:\n\
         \x20   try:\n\
         \x20       with open(S, 'w') as f:\n\
         \x20           f.write('failed %s: %s\\n' % (type(e).__name__, e))\n\
         \x20   except BaseException:\n\
         \x20       pass\n",
        status = lit(status)?,
        pydir = lit(pydir)?,
        path = lit(path)?,
        label = inject::py_literal(&format!("attach (#{seq})")),
        fork = if fork { "True" } else { "False" },
    );
    // one expression statement: PyRun_SimpleString binds nothing in __main__
    Ok(format!("exec({}, {{}})", inject::py_literal(&body)))
}

/// Wait until the fork child of `pid` has renamed its file into place, or died.
fn wait_for_child(pid: i32, child: i32, path: &Path, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if path.is_file() {
            return Ok(());
        }
        let state = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        // the state letter follows the parenthesised command name
        let gone = state.is_empty()
            || state
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if gone {
            return if path.is_file() {
                Ok(())
            } else {
                Err(Error::file(
                    path,
                    format!(
                        "the snapshot child {child} of process {pid} ended without writing it (its reason is on that process's stderr)"
                    ),
                ))
            };
        }
        if Instant::now() > deadline {
            return Err(Error::file(path, format!("not written after {timeout:?}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
