//! `leakhunt attach PID`: one or more snapshots of a CPython process that is already running,
//! injected through gdb (`PyGILState_Ensure`, `PyRun_SimpleString`, `PyGILState_Release`).

use super::{duration, embed, snapshots};
use crate::error::{Error, Result};
use clap::Args;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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
}

/// What /proc says about the target before any debugger touches it.
struct Target {
    pid: i32,
    uid: u32,
    gid: u32,
    exe: String,
}

/// Take the snapshots; prints each file written. Exit code 0, or an error line.
pub fn run(a: &AttachArgs) -> Result<i32> {
    let every = duration::seconds("--every", &a.every)?;
    let timeout = Duration::from_secs_f64(duration::seconds("--timeout", &a.timeout)?);
    let target = inspect(a.pid)?;
    let gdb = find_in_path("gdb").ok_or_else(|| {
        Error::usage(
            "attach: gdb is not installed (apt-get install gdb, dnf install gdb, apk add gdb)",
        )
    })?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("leakhunt-attach-{}", a.pid)));
    std::fs::create_dir_all(&out).map_err(|e| Error::file(&out, format!("cannot create: {e}")))?;
    let out = std::fs::canonicalize(&out).map_err(|e| Error::file(&out, e.to_string()))?;
    let pydir = embed::python_dir()?;
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
        let path = one(&gdb, &target, &pydir, &out, !a.no_fork, timeout)?;
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
    Ok(Target { pid, uid, gid, exe })
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

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
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
    gdb: &Path,
    t: &Target,
    pydir: &Path,
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
    let script = pydir
        .parent()
        .unwrap_or(pydir)
        .join(format!("attach-{}-{seq}.gdb", t.pid));
    std::fs::write(&script, gdb_script(&code))
        .map_err(|e| Error::file(&script, format!("cannot write: {e}")))?;
    let log = run_gdb(gdb, t.pid, &script, timeout);
    let _ = std::fs::remove_file(&script);
    let log = log?;
    let pending = log.contains("LEAKHUNT-PENDING");
    if !pending && !log.contains("LEAKHUNT-DIRECT") {
        return Err(gdb_failure(t, &log));
    }
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
        Err(gdb_failure(t, &log))
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
                "leakhunt: a thread of process {pid} holds the GIL: the snapshot is queued \
                 for the main thread's next Python instruction"
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
            .map(py_literal)
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
        label = py_literal(&format!("attach (#{seq})")),
        fork = if fork { "True" } else { "False" },
    );
    // one expression statement: PyRun_SimpleString binds nothing in __main__
    Ok(format!("exec({}, {{}})", py_literal(&body)))
}

/// A Python string literal holding `s`, in printable ASCII only.
fn py_literal(s: &str) -> String {
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

/// The gdb commands. The code goes into a fresh mmap'd page (gdb would otherwise call malloc
/// in the stopped process for a string literal). If no thread holds the GIL, the main thread
/// takes it and runs the code now; if one does, that thread may be anywhere inside the
/// interpreter, so the code is queued with Py_AddPendingCall and the main thread runs it at
/// its next safe point (between two bytecodes, holding the GIL).
fn gdb_script(code: &str) -> String {
    let size = (code.len() + 1).div_ceil(4096) * 4096;
    let c_literal = code.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "set pagination off\n\
         set confirm off\n\
         set unwindonsignal on\n\
         set $leakhunt_buf = (char *) (void *) mmap((void *) 0, (unsigned long) {size}, (int) 3, (int) 34, (int) -1, (long) 0)\n\
         set {{char[{n}]}} $leakhunt_buf = \"{c_literal}\"\n\
         set $leakhunt_held = 0\n\
         thread apply all set $leakhunt_held = $leakhunt_held + (int) PyGILState_Check()\n\
         thread 1\n\
         if $leakhunt_held\n\
         \x20 echo LEAKHUNT-PENDING\\n\n\
         \x20 call (int) Py_AddPendingCall((void *) PyRun_SimpleString, (void *) $leakhunt_buf)\n\
         else\n\
         \x20 echo LEAKHUNT-DIRECT\\n\n\
         \x20 set $leakhunt_gil = (int) PyGILState_Ensure()\n\
         \x20 call (int) PyRun_SimpleString($leakhunt_buf)\n\
         \x20 call (void) PyGILState_Release($leakhunt_gil)\n\
         end\n\
         detach\n\
         quit\n",
        n = code.len() + 1,
    )
}

fn run_gdb(gdb: &Path, pid: i32, script: &Path, timeout: Duration) -> Result<String> {
    let mut child = Command::new(gdb)
        .args(["-nx", "-q", "-batch"])
        .args(["-iex", "set debuginfod enabled off"])
        .args(["-p", &pid.to_string()])
        .arg("-x")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::file(gdb, format!("cannot run gdb: {e}")))?;
    let mut readers = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        readers.push(std::thread::spawn(move || {
            let mut t = String::new();
            let _ = s.read_to_string(&mut t);
            t
        }));
    }
    if let Some(mut s) = child.stderr.take() {
        readers.push(std::thread::spawn(move || {
            let mut t = String::new();
            let _ = s.read_to_string(&mut t);
            t
        }));
    }
    let deadline = Instant::now() + timeout;
    let mut interrupted = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() > deadline => {
                let id = child.id() as libc::pid_t;
                // SAFETY: signalling our own child gdb.
                unsafe {
                    libc::kill(
                        id,
                        if interrupted {
                            libc::SIGKILL
                        } else {
                            libc::SIGINT
                        },
                    );
                }
                if interrupted {
                    let _ = child.wait();
                    return Err(Error::usage(format!(
                        "attach: gdb did not finish within {:?} on process {pid}",
                        timeout
                    )));
                }
                interrupted = true;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Error::file(gdb, e.to_string())),
        }
    }
    Ok(readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Why gdb ran but nothing was injected, from its output.
fn gdb_failure(t: &Target, log: &str) -> Error {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if log.contains("Operation not permitted") {
        return refused(t.pid, ptrace_scope(), root);
    }
    if log.contains("No such process") {
        return Error::usage(format!("attach: process {} exited", t.pid));
    }
    if log.contains("No symbol") {
        return Error::usage(format!(
            "attach: gdb found no Python C API in process {} ({}): is it CPython 3.8-3.13?",
            t.pid, t.exe
        ));
    }
    let last = log
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    Error::usage(format!(
        "attach: the dump did not run in process {} (gdb said: {})",
        t.pid,
        last.trim()
    ))
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
