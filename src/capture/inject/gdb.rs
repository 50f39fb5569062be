//! Injection through gdb's inferior calls (`PyGILState_Ensure`, `PyRun_SimpleString`,
//! `PyGILState_Release`, or `Py_AddPendingCall` while a thread holds the GIL).

use super::{Fail, Route};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// gdb on PATH, or why not.
pub fn find() -> Result<PathBuf, String> {
    super::on_path("gdb")
        .ok_or_else(|| "gdb is not installed (apt-get install gdb, dnf install gdb)".to_string())
}

/// What gdb prints when it could not put a thread back as it was: the target may then see
/// an interrupted system call fail (`OSError: [Errno 514]`) or worse.
const BROKEN_RESTORE: [&str; 4] = [
    "Couldn't write",
    "Couldn't get",
    "Cannot access memory",
    "Error restoring",
];

/// Run `code` in process `pid` with gdb.
pub fn inject(pid: i32, code: &str, scratch: &Path, timeout: Duration) -> Result<Route, Fail> {
    let gdb = find().map_err(Fail::Other)?;
    let script = scratch.join(format!("attach-{pid}-{}.gdb", std::process::id()));
    std::fs::write(&script, script_text(code))
        .map_err(|e| Fail::Other(format!("cannot write {}: {e}", script.display())))?;
    let log = run(&gdb, pid, &script, timeout);
    let _ = std::fs::remove_file(&script);
    let log = log?;
    if let Some(line) = log
        .lines()
        .find(|l| BROKEN_RESTORE.iter().any(|b| l.contains(b)))
    {
        return Err(Fail::Other(format!("gdb said: {}", line.trim())));
    }
    if log.contains("Operation not permitted") {
        return Err(Fail::NotPermitted);
    }
    if log.contains("No such process") {
        return Err(Fail::Gone);
    }
    if log.contains("LEAKHUNT-PENDING") {
        return Ok(Route::Pending);
    }
    if log.contains("LEAKHUNT-DIRECT") {
        return Ok(Route::Direct);
    }
    if log.contains("No symbol") {
        return Err(Fail::Other(
            "gdb found no Python C API symbols in the process".into(),
        ));
    }
    let last = log
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    Err(Fail::Other(format!("gdb said: {}", last.trim())))
}

/// The gdb commands. The code goes into a fresh mmap'd page (gdb would otherwise call malloc
/// in the stopped process for a string literal). If no thread holds the GIL, a thread that
/// waits in the kernel for something other than a lock (the main thread first) takes it and
/// runs the code now: a thread stopped in a futex wait may be inside the GIL's own wait,
/// which entering again would wedge. Otherwise the code is queued with Py_AddPendingCall and
/// the main thread runs it at its next safe point (between two bytecodes, holding the GIL).
fn script_text(code: &str) -> String {
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
         set $leakhunt_pick = 0\n\
         define leakhunt_consider\n\
         \x20 if $leakhunt_pick == 0 && (long) $orig_rax >= 0 && (long) $orig_rax != {futex} && (long) $orig_rax != {futex_waitv}\n\
         \x20   set $leakhunt_pick = $_thread\n\
         \x20 end\n\
         end\n\
         thread 1\n\
         leakhunt_consider\n\
         thread apply all leakhunt_consider\n\
         if $leakhunt_held || $leakhunt_pick == 0\n\
         \x20 thread 1\n\
         \x20 echo LEAKHUNT-PENDING\\n\n\
         \x20 call (int) Py_AddPendingCall((void *) PyRun_SimpleString, (void *) $leakhunt_buf)\n\
         else\n\
         \x20 eval \"thread %d\", $leakhunt_pick\n\
         \x20 echo LEAKHUNT-DIRECT\\n\n\
         \x20 set $leakhunt_gil = (int) PyGILState_Ensure()\n\
         \x20 call (int) PyRun_SimpleString($leakhunt_buf)\n\
         \x20 call (void) PyGILState_Release($leakhunt_gil)\n\
         end\n\
         detach\n\
         quit\n",
        n = code.len() + 1,
        futex = libc::SYS_futex,
        futex_waitv = libc::SYS_futex_waitv,
    )
}

fn run(gdb: &Path, pid: i32, script: &Path, timeout: Duration) -> Result<String, Fail> {
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
        .map_err(|e| Fail::Other(format!("cannot run {}: {e}", gdb.display())))?;
    let mut readers = Vec::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        readers.push(std::thread::spawn(move || {
            let mut t = String::new();
            let _ = pipe.read_to_string(&mut t);
            t
        }));
    }
    let deadline = Instant::now() + timeout;
    let mut told = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if !told && Instant::now() > deadline => {
                // interrupting gdb in the middle of an inferior call would leave the
                // target returning into gdb's breakpoint with no debugger: wait instead
                eprintln!(
                    "leakhunt: gdb is still working in process {pid} after {timeout:?}; \
                     waiting for it (stopping it now would crash the target)"
                );
                told = true;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Fail::Other(format!("waiting for gdb: {e}"))),
        }
    }
    Ok(readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n"))
}
