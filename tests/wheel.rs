//! The wheel, as a Python engineer meets it: `pip install leakhunt-*.whl` into a fresh venv
//! of every CPython present puts `leakhunt` on the venv's PATH and the dumper on its
//! `sys.path`; `leakhunt record` then finds a leak in a program run from that venv alone,
//! `python -m leakhunt` runs the same binary, and the pytest plugin is registered.
//! The wheel is built by `.ci/run` (`pip wheel --no-deps -w target/wheels .`); without one
//! the test says SKIP and how to build it.

mod common;

use common::root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The newest wheel under target/wheels, or None with the reason.
fn wheel() -> Option<PathBuf> {
    let dir = root().join("target/wheels");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.starts_with("leakhunt-") && n.ends_with(".whl")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort();
    let w = found.pop().map(|(_, p)| p);
    if w.is_none() {
        eprintln!(
            "SKIP wheel: none in target/wheels (build one: python3 -m pip wheel --no-deps -w target/wheels .)"
        );
    }
    w
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("run");
    assert!(
        o.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

const LEAK: &str = r#"
import time

HISTORY = []


class Order:
    def __init__(self, i):
        self.i = i
        self.lines = bytearray(4096)


for i in range(1500):
    HISTORY.append(Order(i))
    time.sleep(0.002)
"#;

/// Install the wheel into a new venv of `py` and use it from there alone.
fn check(version: &str, py: &Path, whl: &Path) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let venv = tmp.path().join("venv");
    run(Command::new(py).args(["-m", "venv"]).arg(&venv));
    let bin = venv.join("bin");
    run(Command::new(bin.join("python"))
        .args(["-m", "pip", "install", "-q", "--no-index", "--no-deps"])
        .arg(whl));
    // nothing of the checkout leaks in: only the venv's own paths
    let clean = |c: &mut Command| {
        c.env_remove("PYTHONPATH")
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .current_dir(tmp.path());
    };
    let mut c = Command::new("leakhunt");
    clean(&mut c);
    let o = run(c.arg("--version"));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("leakhunt "));
    let mut c = Command::new(bin.join("python"));
    clean(&mut c);
    let o = run(c.args(["-m", "leakhunt", "--version"]));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("leakhunt "));
    // the dumper imports from site-packages, and the plugin is registered for pytest
    let probe = "import importlib.metadata as m, leakhunt, sys; \
                 ep = m.distribution('leakhunt').read_text('entry_points.txt') or ''; \
                 print(leakhunt.__file__); print('pytest11' in ep and 'leakhunt.pytest_plugin' in ep)";
    let mut c = Command::new(bin.join("python"));
    clean(&mut c);
    let o = run(c.args(["-c", probe]));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(said.contains("site-packages"), "{version}: {said}");
    assert!(said.trim_end().ends_with("True"), "{version}: {said}");
    // record a leaking program and report on it, all from the venv
    let prog = tmp.path().join("orders.py");
    std::fs::write(&prog, LEAK).expect("write program");
    let snaps = tmp.path().join("snaps");
    let mut c = Command::new("leakhunt");
    clean(&mut c);
    run(c
        .args(["record", "--every", "1s", "--out"])
        .arg(&snaps)
        .arg("--")
        .arg(bin.join("python"))
        .arg(&prog));
    let mut c = Command::new("leakhunt");
    clean(&mut c);
    let o = run(c.arg("report").arg(&snaps).args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report JSON");
    let top = &v["findings"][0];
    assert_eq!(top["kind"], "unbounded_collection", "{version}: {v:#}");
    assert!(
        top["chain_text"]
            .as_str()
            .is_some_and(|c| c.contains("HISTORY (list)")),
        "{version}: {top:#}"
    );
    assert!(
        top["leaking_type"]
            .as_str()
            .is_some_and(|t| t.ends_with("Order")),
        "{version}: {top:#}"
    );
    eprintln!(
        "CPython {version}: wheel installed and used: {}",
        top["chain_text"]
    );
}

#[test]
fn the_wheel_installs_and_works_from_a_fresh_venv_of_every_cpython() {
    let Some(whl) = wheel() else { return };
    // two at a time: a venv, an install and a recorded run each
    common::two_at_a_time(&common::pythons(), |v, py| check(v, py, &whl));
}
