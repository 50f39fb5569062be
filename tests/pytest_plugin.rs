//! The pytest plugin (`python/leakhunt/pytest_plugin.py`) under pytest's own `pytester`, on
//! every CPython present that has pytest (`.ci/run` installs it; a version without it says
//! SKIP): leaking marked tests fail with the finding, clean ones stay green, `--leakhunt-all`
//! checks every test, and a machine where the check cannot run skips it with the reason
//! (`python/plugin_tests/`).

mod common;

use common::{VERSIONS, python, root};
use std::path::PathBuf;
use std::process::Command;

/// Run the plugin's tests under `py`; Err with the output when they fail.
fn run(version: &str, py: &PathBuf) -> Result<String, String> {
    let has_pytest = Command::new(py)
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pytest {
        return Ok(format!(
            "SKIP CPython {version}: no pytest ({} -m pip install pytest)",
            py.display()
        ));
    }
    let o = Command::new(py)
        .args([
            "-m",
            "pytest",
            "-p",
            "pytester",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .arg(root().join("python/plugin_tests"))
        .env("LEAKHUNT_BIN", env!("CARGO_BIN_EXE_leakhunt"))
        .env("PYTHONPATH", root().join("python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(root())
        .output()
        .map_err(|e| format!("CPython {version}: {e}"))?;
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let last = out.lines().last().unwrap_or("").to_string();
    if o.status.success() {
        Ok(format!("CPython {version}: {last}"))
    } else {
        Err(format!("CPython {version} failed:\n{out}"))
    }
}

#[test]
fn the_plugin_under_pytester_on_every_cpython() {
    let pythons: Vec<(&str, PathBuf)> = VERSIONS
        .iter()
        .filter_map(|v| python(v).map(|p| (*v, p)))
        .collect();
    let mut failed = Vec::new();
    for pair in pythons.chunks(2) {
        let results: Vec<Result<String, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|(v, py)| s.spawn(move || run(v, py)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
                .collect()
        });
        for r in results {
            match r {
                Ok(line) => eprintln!("{line}"),
                Err(e) => failed.push(e),
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
