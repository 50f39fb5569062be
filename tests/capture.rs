//! Capture without touching the code, end to end on real CPythons: `record` (interval and
//! signal snapshots, exit codes, stdin/stdout, a failing dumper) and `python-path`
//! (`attach` is tested in tests/attach.rs). The target is testdata/programs/stdin_leaker.py, driven from stdin; every
//! wait below is for a file or a line, with a generous guard against hangs (no timing
//! assertions).

mod common;

use common::target::*;
use common::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Poll `done` until it holds; panics after two minutes (a hang, not a slow machine).
fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_or_explain(what, done, String::new);
}

/// [`wait_until`], and on giving up say what `explain` finds (the target's state).
fn wait_or_explain(what: &str, mut done: impl FnMut() -> bool, explain: impl Fn() -> String) {
    let guard = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(
            Instant::now() < guard,
            "gave up waiting for {what}\n{}",
            explain()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a stuck target looks like: its snapshot directory, each thread's signal masks
/// (pending, blocked, caught) and state, and what it printed on stderr.
fn target_state(t: &Target, out: &Path) -> String {
    let mut s = format!("snapshots: {:?}\n", seqs(out));
    for pid in [t.pid, t.child.id() as i32] {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
            let keep: Vec<&str> = status
                .lines()
                .filter(|l| {
                    ["Name", "State", "SigPnd", "ShdPnd", "SigBlk", "SigCgt"]
                        .iter()
                        .any(|k| l.starts_with(k))
                })
                .collect();
            let read = |f: &str| std::fs::read_to_string(task.path().join(f)).unwrap_or_default();
            s.push_str(&format!(
                "{pid}/{}: {} | wchan {} | syscall {} | children {}\n",
                task.file_name().to_string_lossy(),
                keep.join(" | "),
                read("wchan"),
                read("syscall").trim(),
                read("children").trim()
            ));
        }
    }
    s.push_str(&format!("stderr: {}", t.err()));
    s
}

fn max_seq(dir: &Path) -> u64 {
    seqs(dir).last().copied().unwrap_or(0)
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

/// The main thread of `pid` sleeps in a read (the syscall when /proc lets us see it, else
/// a sleeping state seen three times in a row).
fn blocked_in_read(pid: i32) -> bool {
    let task = format!("/proc/{pid}/task/{pid}");
    let sleeping = || {
        std::fs::read_to_string(format!("{task}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('S')))
            .unwrap_or(false)
    };
    if let Ok(sys) = std::fs::read_to_string(format!("{task}/syscall")) {
        // read(2) is 0 on x86_64 and 63 on aarch64
        let read_nr = if cfg!(target_arch = "aarch64") {
            "63"
        } else {
            "0"
        };
        if sys
            .split_whitespace()
            .next()
            .is_some_and(|n| n != "running")
        {
            return sleeping() && sys.split_whitespace().next() == Some(read_nr);
        }
    }
    (0..3).all(|_| {
        std::thread::sleep(Duration::from_millis(20));
        sleeping()
    })
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
/// each; `--keep 3` leaves the first, the newest and one between; the exit snapshot is the last.
fn record_signal(version: &str) {
    let Some(py) = python(version) else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("snaps");
    let mut t = Target::start(record_cmd(&py, &out, &["--every", "0", "--keep", "3"], &[]));
    let record_pid = t.child.id() as i32;
    for k in 1..=3u64 {
        // CPython runs a Python signal handler in the main thread between bytecodes: a
        // signal that lands after its last check and before it blocks in read() waits for
        // the next line. A user's signal comes at a random moment; this test's would come
        // right at that edge (just after the answer was written), so it waits for the read
        wait_until("the target to block in its read", || blocked_in_read(t.pid));
        kill(if k % 2 == 1 { t.pid } else { record_pid }, SIGUSR2);
        wait_or_explain(
            &format!("signalled snapshot {k}"),
            || max_seq(&out) >= k,
            || target_state(&t, &out),
        );
        assert_eq!(t.send("leak"), format!("ok {}", k * 100), "{version}");
    }
    let (code, err) = t.finish(Some("exit 0"));
    assert_eq!(code, Some(0), "{version}: {err}");
    // rotation keeps the baseline and the newest, and thins the middle
    let kept = seqs(&out);
    assert_eq!(kept.len(), 3, "{version}: {kept:?}");
    assert_eq!(
        (kept[0], kept[2]),
        (1, 4),
        "{version}: the first and the newest stay: {kept:?}"
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
