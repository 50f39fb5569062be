//! The canary: before `attach` touches a real process, the same injection is done on a
//! throwaway process of the same interpreter whose threads sit in the blocking calls a
//! service sits in (`read`, `select`, `sleep`, a timed lock wait). It passes only when the
//! injected code ran, every one of those calls went on as if nothing happened, and the
//! process ended cleanly; otherwise the mechanism is not used on the target.

use super::inject::{self, Fail, Route, Via};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The throwaway program: argv[1] is the status file the injected code writes.
const PROGRAM: &str = r#"
import os, select, socket, sys, threading, time
status = sys.argv[1]
r, w = socket.socketpair()
done = threading.Event()
bad = []
def sleeper():
    try:
        while not done.is_set():
            time.sleep(0.005)
    except BaseException as e:
        bad.append('time.sleep raised %r' % (e,))
def selector():
    try:
        if not select.select([r], [], [], 30)[0]:
            bad.append('select returned early')
    except BaseException as e:
        bad.append('select raised %r' % (e,))
def waiter():
    try:
        if not done.wait(30):
            bad.append('Event.wait returned early')
    except BaseException as e:
        bad.append('Event.wait raised %r' % (e,))
threads = [threading.Thread(target=f) for f in (sleeper, selector, waiter)]
for t in threads:
    t.start()
print('ready', flush=True)
try:
    got = os.read(0, 1)
    if got != b'x':
        bad.append('read returned %r' % (got,))
except BaseException as e:
    bad.append('read raised %r' % (e,))
for _ in range(400):
    if os.path.exists(status):
        break
    time.sleep(0.005)
done.set()
w.send(b'x')
for t in threads:
    t.join(10)
print('harmed: ' + '; '.join(bad) if bad else 'unharmed', flush=True)
"#;

/// A mechanism that passed: how the canary's code ran and what it cost.
#[derive(Debug, Clone, Copy)]
pub struct Proof {
    /// Direct or queued, in the canary
    pub route: Route,
    /// The canary's whole cost, start to exit
    pub took: Duration,
}

/// Prove `via` on a throwaway run of `python`; the error says what failed.
pub fn prove(python: &Path, via: Via, scratch: &Path) -> Result<Proof, String> {
    if let Some(why) = via.unavailable() {
        return Err(why);
    }
    let started = Instant::now();
    let status = scratch.join(format!(
        ".canary-{}-{}.status",
        std::process::id(),
        via.name()
    ));
    let _ = std::fs::remove_file(&status);
    let mut child = Command::new(python)
        .args(["-I", "-S", "-c", PROGRAM])
        .arg(&status)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let result = check(&mut child, via, &status, scratch);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&status);
    result.map(|route| Proof {
        route,
        took: started.elapsed(),
    })
}

fn check(child: &mut Child, via: Via, status: &Path, scratch: &Path) -> Result<Route, String> {
    let pid = child.id() as i32;
    let (tx, lines) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut t = String::new();
            let _ = e.read_to_string(&mut t);
            t
        })
    });
    let line = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("the canary process printed no {what} line"))
    };
    let ready = line("ready")?;
    if ready != "ready" {
        return Err(format!("the canary process said {ready:?}"));
    }
    settle(pid);
    let code = format!(
        "exec({}, {{}})",
        inject::py_literal(&format!(
            "with open({}, 'w') as f:\n    f.write('done canary\\n')\n",
            inject::py_literal(&status.display().to_string())
        ))
    );
    let route =
        inject::run(via, pid, &code, scratch, Duration::from_secs(10)).map_err(|f| match f {
            Fail::Gone => format!(
                "the canary process died while {} was in it (its state was not put back)",
                via.name()
            ),
            other => other.text(),
        })?;
    if let Some(stdin) = child.stdin.as_mut() {
        stdin
            .write_all(b"x")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("the canary process stopped reading its input ({e})"))?;
    }
    let verdict = line("result");
    let exit = wait_exit(child);
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let verdict = verdict.map_err(|e| format!("{e} (stderr: {})", first_line(&err)))?;
    if verdict != "unharmed" {
        return Err(format!("the canary process was {verdict}"));
    }
    match exit {
        Some(0) => {}
        other => {
            return Err(format!(
                "the canary process exited with {other:?} ({})",
                first_line(&err)
            ));
        }
    }
    if !err.trim().is_empty() {
        return Err(format!(
            "the canary process wrote to stderr: {}",
            first_line(&err)
        ));
    }
    match std::fs::read_to_string(status) {
        Ok(t) if t == "done canary\n" => Ok(route),
        _ => Err(format!(
            "the injected code did not run ({} returned, the canary's status file was not written)",
            via.name()
        )),
    }
}

/// Wait (up to a second) until every thread of `pid` sleeps in the kernel.
fn settle(pid: i32) {
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        let states: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path().join("stat")).unwrap_or_default())
            .collect();
        let asleep = states.iter().all(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
        });
        if states.len() >= 4 && asleep {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(Some(s)) = child.try_wait() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn first_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// The interpreter to run the canary on for a target: its own executable when that is a
/// Python interpreter, else a `python3.X` beside its libpython or on PATH.
pub fn interpreter(exe: &str, libpython: Option<&str>) -> Result<PathBuf, String> {
    let name = exe.rsplit('/').next().unwrap_or(exe);
    if name.starts_with("python") && Path::new(exe).is_file() {
        return Ok(PathBuf::from(exe));
    }
    let Some(lib) = libpython else {
        return Err(format!(
            "{exe} is not a Python interpreter and maps no libpython to find one by"
        ));
    };
    let lib_name = lib.rsplit('/').next().unwrap_or(lib);
    let version = lib_name
        .strip_prefix("lib")
        .and_then(|n| n.split(".so").next())
        .unwrap_or("python3");
    let beside = Path::new(lib)
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("bin").join(version));
    beside
        .filter(|p| p.is_file())
        .or_else(|| inject::on_path(version))
        .ok_or_else(|| format!("no {version} interpreter to run the canary on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedding_program_needs_a_libpython() {
        let e = interpreter("/usr/bin/uwsgi-nonexistent", None).unwrap_err();
        assert!(e.contains("maps no libpython"), "{e}");
    }
}
