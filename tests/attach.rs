//! `leakhunt attach` on real CPythons, with its own harness so that what this machine cannot
//! do is counted as skipped, not passed: the canary (`attach --dry-run`) runs first for each
//! CPython present, and a test that needs injection is ignored, with the canary's reason
//! printed, where it failed. The refusal tests run everywhere: they need no injection.
//!
//! Targets: testdata/programs/stdin_leaker.py (a leak driven from stdin) and
//! testdata/programs/attach_target.py (a program whose output must not change: it sleeps,
//! selects, receives or hashes in C while it is attached to).

mod common;

use common::target::*;
use common::*;
use libtest_mimic::{Arguments, Failed, Trial};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let mut can: Vec<(&str, PathBuf, Result<String, String>)> = Vec::new();
    for v in VERSIONS {
        let Some(py) = python(v) else { continue };
        let verdict = canary(&py, None);
        match &verdict {
            Ok(line) => eprintln!("canary on CPython {v}: {line}"),
            Err(why) => eprintln!("SKIP attach tests on CPython {v}: {why}"),
        }
        can.push((v, py, verdict));
    }
    let pick = |wanted: &[&str]| {
        can.iter()
            .filter(|(v, _, _)| wanted.contains(v))
            .map(|(v, py, verdict)| (v.to_string(), py.clone(), verdict.is_err()))
            .collect::<Vec<_>>()
    };
    for (v, py, skip) in pick(&["3.8", "3.11", "3.13"]) {
        trials.push(
            Trial::test(format!("attach_twice_finds_the_leak/{v}"), move || {
                twice_finds_the_leak(&py, None)
            })
            .with_ignored_flag(skip),
        );
    }
    for (v, py, skip) in pick(&["3.8", "3.13"]) {
        trials.push(
            Trial::test(format!("attach_waits_for_a_safe_point/{v}"), move || {
                waits_for_a_safe_point(&py)
            })
            .with_ignored_flag(skip),
        );
    }
    for (v, py, _) in pick(&["3.11"]) {
        let verdict = canary(&py, Some("gdb"));
        if let Err(why) = &verdict {
            eprintln!("SKIP attach --via gdb on CPython {v}: {why}");
        }
        trials.push(
            Trial::test(format!("attach_via_gdb_finds_the_leak/{v}"), move || {
                twice_finds_the_leak(&py, Some("gdb"))
            })
            .with_ignored_flag(verdict.is_err()),
        );
    }
    for mode in ["sleep", "select", "recv", "busy"] {
        for (v, py, skip) in pick(&["3.8", "3.11", "3.13"]) {
            trials.push(
                Trial::test(
                    format!("attach_leaves_the_target_as_it_was/{mode}/{v}"),
                    move || leaves_the_target_as_it_was(&py, mode),
                )
                .with_ignored_flag(skip),
            );
        }
    }
    if let Some((_, py, _)) = can.iter().find(|(v, _, _)| *v == "3.11").or(can.first()) {
        let py = py.clone();
        trials.push(Trial::test(
            "attach_refuses_untouched_when_the_canary_fails",
            move || refuses_untouched_when_the_canary_fails(&py),
        ));
    }
    let py = can.first().map(|(_, py, _)| py.clone());
    trials.push(Trial::test("attach_refuses_clearly", move || {
        refuses_clearly(py.as_deref())
    }));
    libtest_mimic::run(&args, trials).exit();
}

/// `attach --dry-run` on a throwaway process of `py`: its line, or why injection is unsafe.
fn canary(py: &Path, via: Option<&str>) -> Result<String, String> {
    let mut idle = Command::new(py)
        .args(["-c", "import sys; sys.stdin.read()"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", py.display()))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
    cmd.args(["attach", &idle.id().to_string(), "--dry-run"]);
    if let Some(v) = via {
        cmd.args(["--via", v]);
    }
    let o = cmd
        .output()
        .map_err(|e| format!("cannot run leakhunt: {e}"));
    drop(idle.stdin.take());
    let _ = idle.wait();
    let o = o?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(msg().into()) }
}

fn attach(pid: i32, out: &Path, via: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
    cmd.args(["attach", &pid.to_string()]).arg("--out").arg(out);
    if let Some(v) = via {
        cmd.args(["--via", v]);
    }
    cmd.output().expect("run leakhunt attach")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Attach to a process that knows nothing of leakhunt, twice, with a leak in between.
fn twice_finds_the_leak(py: &Path, via: Option<&str>) -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("snaps");
    let mut cmd = Command::new(py);
    cmd.arg(leaker());
    let mut t = Target::start(cmd);
    check(t.send("leak") == "ok 100", || "first leak".into())?;
    let first = attach(t.pid, &out, via);
    check(first.status.success(), || stderr(&first))?;
    check(t.send("leak") == "ok 200", || "the target runs on".into())?;
    let second = attach(t.pid, &out, via);
    check(second.status.success(), || stderr(&second))?;
    let printed = String::from_utf8_lossy(&second.stdout).to_string();
    check(printed.contains("snap-000002-"), || printed.clone())?;
    check(seqs(&out) == [1, 2], || format!("{:?}", seqs(&out)))?;
    check(t.send("leak") == "ok 300", || "the target runs on".into())?;
    let (code, err) = t.finish(Some("exit 0"));
    check(code == Some(0) && !err.contains("Traceback"), || {
        err.clone()
    })?;
    let chain = top_chain(&out);
    check(chain == LEAK_CHAIN, || chain.clone())
}

/// While another thread holds the GIL the dump is queued (Py_AddPendingCall) and the main
/// thread takes it when it next runs Python code: here, when a line arrives on its stdin.
fn waits_for_a_safe_point(py: &Path) -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("snaps");
    let mut cmd = Command::new(py);
    cmd.arg(leaker());
    let mut t = Target::start(cmd);
    check(t.send("leak") == "ok 100", || "leak".into())?;
    check(t.send("spin") == "ok spinning", || "spin".into())?;
    let mut attach = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["attach", &t.pid.to_string()])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let attach_err = Arc::new(Mutex::new(String::new()));
    let sink = attach_err.clone();
    let pipe = attach.stderr.take().ok_or("no stderr")?;
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(|l| l.ok()) {
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
    while attach.try_wait()?.is_none() {
        if queued() {
            check(t.send("echo poke") == "ok poke", || "poke".into())?;
            pokes += 1;
            check(pokes < 1200, || "attach never finished".into())?;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = reader.join();
    let o = attach.wait_with_output()?;
    let err = attach_err.lock().expect("lock").clone();
    check(o.status.success(), || err.clone())?;
    check(err.contains("snapshot is queued"), || err.clone())?;
    check(seqs(&out) == [1], || format!("{:?}", seqs(&out)))?;
    let (code, err) = t.finish(Some("exit 0"));
    check(code == Some(0) && !err.contains("Traceback"), || {
        err.clone()
    })
}

/// A directory holding a `gdb` that fails the way gdb 13 fails on CPUs whose extended state
/// it does not know, and logs each call's arguments to `calls.log` beside it.
fn broken_gdb(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let gdb = bin.join("gdb");
    std::fs::write(
        &gdb,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\necho \"Couldn't write extended state status: Bad address.\" >&2\nexit 1\n",
            dir.join("calls.log").display()
        ),
    )
    .expect("write fake gdb");
    std::fs::set_permissions(&gdb, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

fn with_path_first(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("PATH")
}

/// The target's own output is the same after an attach that worked and after one that was
/// refused, whatever blocking call its main thread sat in.
fn leaves_the_target_as_it_was(py: &Path, mode: &str) -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("snaps");
    let mut cmd = Command::new(py);
    cmd.arg(testdata("programs/attach_target.py")).arg(mode);
    let mut t = Target::start(cmd);
    check(t.line() == "ready", || "ready".into())?;
    check(t.send("a") == "ok a", || "a".into())?;
    let worked = attach(t.pid, &out, None);
    check(worked.status.success(), || stderr(&worked))?;
    check(t.send("b") == "ok b", || {
        format!("{mode}: after attach: {}", t.err())
    })?;
    let bin = broken_gdb(tmp.path());
    let refused = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["attach", &t.pid.to_string(), "--via", "gdb"])
        .arg("--out")
        .arg(&out)
        .env("PATH", with_path_first(&bin))
        .output()?;
    check(refused.status.code() == Some(2), || stderr(&refused))?;
    check(t.send("c") == "ok c", || {
        format!("{mode}: after refusal: {}", t.err())
    })?;
    let stats = leakhunt(["stats".as_ref(), out.join(first_snap(&out)?).as_os_str()]);
    check(stats.status.success(), || stderr(&stats))?;
    check(t.send("exit") == "bye", || "bye".into())?;
    let (code, err) = t.finish(None);
    check(code == Some(0), || format!("{mode}: exit {code:?}: {err}"))?;
    check(err.is_empty(), || {
        format!("{mode}: the target wrote to stderr: {err}")
    })
}

fn first_snap(dir: &Path) -> Result<String, Failed> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".snap"))
        .collect();
    names.sort();
    names.into_iter().next().ok_or_else(|| "no snapshot".into())
}

/// When the canary fails, attach says so in one line, exits 2, and never runs the
/// mechanism on the target: the broken gdb is called for the canary only.
fn refuses_untouched_when_the_canary_fails(py: &Path) -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let bin = broken_gdb(tmp.path());
    let mut cmd = Command::new(py);
    cmd.arg(testdata("programs/attach_target.py")).arg("sleep");
    let mut t = Target::start(cmd);
    check(t.line() == "ready", || "ready".into())?;
    let o = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["attach", &t.pid.to_string(), "--via", "gdb"])
        .arg("--out")
        .arg(tmp.path().join("snaps"))
        .env("PATH", with_path_first(&bin))
        .output()?;
    let err = stderr(&o);
    check(o.status.code() == Some(2), || err.clone())?;
    check(err.lines().count() == 1, || err.clone())?;
    for want in [
        "refused",
        &format!("process {} was not touched", t.pid),
        "canary",
        "Couldn't write extended state status",
        "leakhunt record",
        "leakhunt.install",
    ] {
        check(err.contains(want), || format!("{want:?} not in {err}"))?;
    }
    let calls = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap_or_default();
    check(calls.lines().count() == 1, || calls.clone())?;
    check(!calls.contains(&format!("-p {} ", t.pid)), || calls.clone())?;
    check(!tmp.path().join("snaps").exists(), || {
        "an output directory was made".into()
    })?;
    check(t.send("a") == "ok a", || t.err())?;
    check(t.send("exit") == "bye", || "bye".into())?;
    let (code, err) = t.finish(None);
    check(code == Some(0) && err.is_empty(), || {
        format!("{code:?} {err}")
    })
}

/// Each way attach cannot work is one line and exit code 2.
fn refuses_clearly(py: Option<&Path>) -> Result<(), Failed> {
    let one_line = |o: &Output, want: &str| {
        let err = stderr(o);
        check(
            o.status.code() == Some(2) && err.lines().count() == 1 && err.contains(want),
            || format!("wanted one line with {want:?}, got {:?}: {err}", o.status),
        )
    };
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().to_string_lossy().to_string();
    one_line(
        &leakhunt(["attach", "2147480000", "--out", &dir]),
        "no process 2147480000",
    )?;
    let mut sleeper = Command::new("sleep").arg("60").spawn()?;
    let o = leakhunt(["attach", &sleeper.id().to_string(), "--out", &dir]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    one_line(&o, "is not CPython")?;
    let Some(py) = py else { return Ok(()) };
    let mut cmd = Command::new(py);
    cmd.arg(leaker());
    let t = Target::start(cmd);
    let o = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["attach", &t.pid.to_string(), "--via", "gdb"])
        .arg("--out")
        .arg(tmp.path())
        .env("PATH", "/nonexistent")
        .output()?;
    let (_, err) = t.finish(Some("exit 0"));
    one_line(&o, "gdb is not installed")?;
    check(!err.contains("Traceback"), || err.clone())
}
