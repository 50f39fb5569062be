//! The pytest plugin (`python/leakhunt/pytest_plugin.py`) under pytest's own `pytester`
//! (`python/plugin_tests/`): leaking marked tests fail with the finding, clean ones stay
//! green, `--leakhunt-all` checks every test, and a machine where the check cannot run skips
//! it with the reason. The whole suite runs on the newest CPython present with pytest
//! (`.ci/run` installs it; a version without it says SKIP); the others run the checks that
//! snapshot, report and fail a test untraced (a traced snapshot of a pytest process takes
//! seconds, and tracing is the same Python code on every version).

mod common;

use common::{VERSIONS, python, root};
use std::path::PathBuf;
use std::process::Command;

/// Run the plugin's tests under `py` (all of them, or those `-k` selects); Err with the
/// output when they fail.
fn run(version: &str, py: &PathBuf, select: Option<&str>) -> Result<String, String> {
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
        .args(select.map(|k| vec!["-k", k]).unwrap_or_default())
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
    let with_pytest = |py: &PathBuf| {
        Command::new(py)
            .args(["-c", "import pytest"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let full = pythons
        .iter()
        .rev()
        .find(|(_, py)| with_pytest(py))
        .map(|(v, _)| *v);
    let smoke = "unmarked or missing_binary or inert or python_m";
    let mut failed = Vec::new();
    for pair in pythons.chunks(2) {
        let results: Vec<Result<String, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|(v, py)| {
                    let select = (Some(*v) != full).then_some(smoke);
                    s.spawn(move || run(v, py, select))
                })
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
