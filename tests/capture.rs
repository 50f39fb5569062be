//! Capture without touching the code, end to end on real CPythons: `record` (interval and
//! signal snapshots, exit codes, stdin/stdout, a failing dumper), `attach` (gdb) and
//! `python-path`. The target is testdata/programs/stdin_leaker.py, driven from stdin; every
//! wait below is for a file or a line, with a generous guard against hangs (no timing
//! assertions).

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LEAK_CHAIN: &str = "module __main__ -> _REGISTRY (dict) -> [*] (__main__.Request)";

fn leaker() -> PathBuf {
    testdata("programs/stdin_leaker.py")
}

/// The top finding's chain for the snapshots in `dir`, as `leakhunt report` gives it (the
/// registry program's finding must be an unbounded collection).
fn top_chain(dir: &Path) -> String {
    let out = leakhunt([
        "report".as_ref(),
        dir.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "report {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report json");
    assert_eq!(v["findings"][0]["kind"], "unbounded_collection", "{v:#}");
    v["findings"][0]["chain_text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Poll `done` until it holds; panics after two minutes (a hang, not a slow machine).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let guard = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < guard, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sequence numbers of the snapshots in `dir`, ascending.
fn seqs(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let body = name.strip_prefix("snap-")?.strip_suffix(".snap")?;
            body.split('-').next()?.parse().ok()
        })
        .collect();
    v.sort();
    v
}

fn max_seq(dir: &Path) -> u64 {
    seqs(dir).last().copied().unwrap_or(0)
}

/// A running target: its stdin, its stdout lines, its stderr so far.
struct Target {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    /// The Python process's pid (from its first line)
    pid: i32,
}

impl Target {
    fn start(mut cmd: Command) -> Target {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn target");
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                let mut s = sink.lock().expect("stderr lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut t = Target {
            child,
            stdin,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
            pid: 0,
        };
        let first = t.line();
        t.pid = first
            .strip_prefix("pid ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("first line {first:?}; stderr: {}", t.err()));
        t
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no line from the target; stderr: {}", self.err()))
    }

    /// Send one command and return its answer line.
    fn send(&mut self, cmd: &str) -> String {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{cmd}").expect("write to target");
        stdin.flush().expect("flush");
        self.line()
    }

    fn err(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Send `exit N` (or close stdin) and wait: the exit status code.
    fn finish(mut self, cmd: Option<&str>) -> (Option<i32>, String) {
        if let Some(c) = cmd {
            let stdin = self.stdin.as_mut().expect("stdin open");
            writeln!(stdin, "{c}").expect("write to target");
        }
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        if let Some(r) = self.stderr_reader.take() {
            let _ = r.join();
        }
        (status.code(), self.err())
    }
}

fn record_cmd(py: &Path, out: &Path, options: &[&str], program_args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
    cmd.arg("record")
        .args(options)
        .arg("--out")
        .arg(out)
        .arg("--")
        .arg(py)
        .arg(leaker())
        .args(program_args);
    cmd
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: sending a signal to a process this test started.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill {pid} {sig}");
}

const SIGUSR2: i32 = libc::SIGUSR2;

/// Interval snapshots while the target leaks three times; stdout passes through untouched.
fn record_interval(version: &str) {
    let Some(py) = python(version) else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("snaps");
    let mut t = Target::start(record_cmd(
        &py,
        &out,
        &["--every", "200ms", "--keep", "0"],
        &[],
    ));
    wait_until("the first snapshot", || max_seq(&out) >= 1);
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(t.send("leak"));
        // a snapshot numbered two past the newest one visible now began after the leak
        let m = max_seq(&out);
        wait_until("a snapshot after the leak", || max_seq(&out) >= m + 2);
    }
    assert_eq!(answers, ["ok 100", "ok 200", "ok 300"], "{version}");
    let (code, err) = t.finish(Some("exit 0"));
    assert_eq!(code, Some(0), "{version}: {err}");
    assert!(
        !err.contains("failed") && !err.contains("Traceback"),
        "{version}: {err}"
    );
    assert_eq!(top_chain(&out), LEAK_CHAIN, "{version}");
}

#[test]
fn record_interval_3_8() {
    record_interval("3.8");
}
#[test]
fn record_interval_3_9() {
    record_interval("3.9");
}
#[test]
fn record_interval_3_10() {
    record_interval("3.10");
}
#[test]
fn record_interval_3_11() {
    record_interval("3.11");
}
#[test]
fn record_interval_3_12() {
    record_interval("3.12");
}
#[test]
fn record_interval_3_13() {
    record_interval("3.13");
}

/// SIGUSR2, sent to the Python process and to `record` (which forwards it), one snapshot
/// each; `--keep 3` leaves the newest three; the exit snapshot is the last.
fn record_signal(version: &str) {
    let Some(py) = python(version) else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("snaps");
    let mut t = Target::start(record_cmd(&py, &out, &["--every", "0", "--keep", "3"], &[]));
    let record_pid = t.child.id() as i32;
    for k in 1..=3u64 {
        kill(if k % 2 == 1 { t.pid } else { record_pid }, SIGUSR2);
        wait_until("the signalled snapshot", || max_seq(&out) >= k);
        assert_eq!(t.send("leak"), format!("ok {}", k * 100), "{version}");
    }
    let (code, err) = t.finish(Some("exit 0"));
    assert_eq!(code, Some(0), "{version}: {err}");
    assert_eq!(
        seqs(&out),
        [2, 3, 4],
        "{version}: rotation keeps the newest 3"
    );
    assert_eq!(top_chain(&out), LEAK_CHAIN, "{version}");
}

#[test]
fn record_signal_3_8() {
    record_signal("3.8");
}
#[test]
fn record_signal_3_11() {
    record_signal("3.11");
}
#[test]
fn record_signal_3_13() {
    record_signal("3.13");
}

/// The target's exit status is record's: a code, a signal (128 + n), a missing program.
#[test]
fn record_keeps_exit_codes() {
    for version in ["3.8", "3.11", "3.13"] {
        let Some(py) = python(version) else { continue };
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("snaps");
        let t = Target::start(record_cmd(&py, &out, &["--every", "0"], &[]));
        let (code, err) = t.finish(Some("exit 7"));
        assert_eq!(code, Some(7), "{version}: {err}");
        assert_eq!(seqs(&out), [1], "{version}: the exit snapshot");

        let o = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
            .arg("record")
            .arg("--out")
            .arg(&out)
            .arg("--")
            .arg(&py)
            .args([
                "-c",
                "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
            ])
            .output()
            .expect("record");
        assert_eq!(o.status.code(), Some(128 + 15), "{version}");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = leakhunt([
        "record".as_ref(),
        "--out".as_ref(),
        tmp.path().as_os_str(),
        "--".as_ref(),
        "/nonexistent/python".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(127));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot run /nonexistent/python"), "{err}");
}

/// Stdin reaches the target, its stdout comes back unchanged, and with no snapshot options
/// the program behaves as it does alone (same output, same code).
#[test]
fn record_passes_stdio_through() {
    let Some(py) = python("3.11") else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = |record: bool| {
        let mut cmd = if record {
            let mut c = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
            c.arg("record")
                .arg("--out")
                .arg(tmp.path().join("snaps"))
                .arg("--");
            c.arg(&py);
            c
        } else {
            Command::new(&py)
        };
        cmd.arg("-c")
            .arg("import sys; d = sys.stdin.read(); sys.stdout.write(d.upper()); sys.stdout.flush(); sys.exit(len(d) % 256)")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"hello \xce\xbb\nsecond line\n")
            .expect("write");
        drop(stdin);
        child.wait_with_output().expect("wait")
    };
    let alone = run(false);
    let recorded = run(true);
    assert_eq!(recorded.stdout, alone.stdout);
    assert_eq!(recorded.status.code(), alone.status.code());
    assert_eq!(alone.stdout, "HELLO \u{39b}\nSECOND LINE\n".as_bytes());
}

/// When the snapshot directory stops being writable the target carries on: one error line
/// per failed snapshot, the same answers, the same exit code.
#[test]
fn record_survives_a_failing_dumper() {
    for version in ["3.8", "3.13"] {
        let Some(py) = python(version) else { continue };
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("snaps");
        let out_arg = out.to_string_lossy().to_string();
        let mut t = Target::start(record_cmd(&py, &out, &["--every", "0"], &[&out_arg]));
        assert_eq!(t.send("break"), "ok broken");
        kill(t.pid, SIGUSR2);
        wait_until("the dumper's error line", || {
            t.err().contains("snapshot failed")
        });
        assert_eq!(t.send("leak"), "ok 100", "{version}");
        assert_eq!(t.send("echo still here"), "ok still here", "{version}");
        let (code, err) = t.finish(Some("exit 0"));
        assert_eq!(code, Some(0), "{version}: {err}");
        assert!(!err.contains("Traceback"), "{version}: {err}");
        let failures = err
            .lines()
            .filter(|l| l.starts_with("leakhunt: snapshot failed"))
            .count();
        assert_eq!(
            failures, 2,
            "{version}: the signal and the exit snapshot: {err}"
        );
    }
}

/// Attach to a process that knows nothing of leakhunt, twice, with a leak in between.
#[test]
fn attach_twice_finds_the_leak() {
    for version in ["3.8", "3.11", "3.13"] {
        let Some(py) = python(version) else { continue };
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("snaps");
        let mut cmd = Command::new(&py);
        cmd.arg(leaker());
        let mut t = Target::start(cmd);
        assert_eq!(t.send("leak"), "ok 100");
        let attach = |t: &Target| {
            leakhunt([
                "attach".as_ref(),
                t.pid.to_string().as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ])
        };
        let first = attach(&t);
        let err = String::from_utf8_lossy(&first.stderr).to_string();
        if err.contains("not permitted") || err.contains("gdb is not installed") {
            eprintln!("SKIP attach on CPython {version}: {}", err.trim());
            let _ = t.finish(Some("exit 0"));
            return;
        }
        assert!(first.status.success(), "{version}: {err}");
        assert_eq!(t.send("leak"), "ok 200", "{version}: the target runs on");
        let second = attach(&t);
        assert!(
            second.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&second.stderr)
        );
        let printed = String::from_utf8_lossy(&second.stdout).to_string();
        assert!(printed.contains("snap-000002-"), "{version}: {printed}");
        assert_eq!(seqs(&out), [1, 2], "{version}");
        assert_eq!(t.send("leak"), "ok 300", "{version}");
        let (code, err) = t.finish(Some("exit 0"));
        assert_eq!(code, Some(0), "{version}: {err}");
        assert!(!err.contains("Traceback"), "{version}: {err}");
        assert_eq!(top_chain(&out), LEAK_CHAIN, "{version}");
    }
}

/// While another thread holds the GIL the dump is queued (Py_AddPendingCall) and the main
/// thread takes it when it next runs Python code: here, when a line arrives on its stdin.
#[test]
fn attach_waits_for_a_safe_point() {
    for version in ["3.8", "3.13"] {
        let Some(py) = python(version) else { continue };
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("snaps");
        let mut cmd = Command::new(&py);
        cmd.arg(leaker());
        let mut t = Target::start(cmd);
        assert_eq!(t.send("leak"), "ok 100");
        assert_eq!(t.send("spin"), "ok spinning");
        let mut attach = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
            .args(["attach", &t.pid.to_string()])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("attach");
        let attach_err = Arc::new(Mutex::new(String::new()));
        let sink = attach_err.clone();
        let stderr = attach.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                let mut s = sink.lock().expect("lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        // the main thread stays blocked on stdin (the spinner holds the GIL) until attach
        // says it queued the dump; then each line wakes it to run Python code
        let queued = || {
            attach_err
                .lock()
                .expect("lock")
                .contains("snapshot is queued")
        };
        let mut pokes = 0;
        while attach.try_wait().expect("try_wait").is_none() {
            if queued() {
                assert_eq!(t.send("echo poke"), "ok poke");
                pokes += 1;
                assert!(pokes < 1200, "{version}: attach never finished");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = reader.join();
        let o = attach.wait_with_output().expect("attach output");
        let err = attach_err.lock().expect("lock").clone();
        if err.contains("not permitted") || err.contains("gdb is not installed") {
            eprintln!("SKIP attach on CPython {version}: {}", err.trim());
            let _ = t.finish(Some("exit 0"));
            return;
        }
        assert!(o.status.success(), "{version}: {err}");
        assert!(err.contains("snapshot is queued"), "{version}: {err}");
        assert_eq!(seqs(&out), [1], "{version}");
        let (code, err) = t.finish(Some("exit 0"));
        assert_eq!(code, Some(0), "{version}: {err}");
        assert!(!err.contains("Traceback"), "{version}: {err}");
    }
}

/// Each way attach cannot work is one line and exit code 2.
#[test]
fn attach_refuses_clearly() {
    let one_line = |o: &std::process::Output, want: &str| {
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = leakhunt([
        "attach",
        "2147480000",
        "--out",
        &tmp.path().to_string_lossy(),
    ]);
    one_line(&o, "no process 2147480000");

    let mut sleeper = Command::new("sleep").arg("60").spawn().expect("sleep");
    let o = leakhunt([
        "attach",
        &sleeper.id().to_string(),
        "--out",
        &tmp.path().to_string_lossy(),
    ]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    one_line(&o, "is not CPython");

    if let Some(py) = python("3.11") {
        let mut cmd = Command::new(&py);
        cmd.arg(leaker());
        let t = Target::start(cmd);
        let o = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
            .args(["attach", &t.pid.to_string()])
            .arg("--out")
            .arg(tmp.path())
            .env("PATH", "/nonexistent")
            .output()
            .expect("attach");
        one_line(&o, "gdb is not installed");
        let _ = t.finish(Some("exit 0"));
    }
}

/// `python-path` names a directory from which `import leakhunt` works.
#[test]
fn python_path_is_importable() {
    let o = leakhunt(["python-path"]);
    assert!(o.status.success());
    let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        Path::new(&dir).join("leakhunt/capture.py").is_file(),
        "{dir}"
    );
    assert!(Path::new(&dir).join("sitecustomize.py").is_file(), "{dir}");
    let Some(py) = python("3.13") else { return };
    let o = Command::new(&py)
        .args([
            "-c",
            "import leakhunt; print(leakhunt.__version__, callable(leakhunt.install))",
        ])
        .env("PYTHONPATH", &dir)
        .output()
        .expect("python");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "0.1.0 True",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
