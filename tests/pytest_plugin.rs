//! The pytest plugin (`python/leakhunt/pytest_plugin.py`) under pytest's own `pytester`
//! (`python/plugin_tests/`): leaking marked tests fail with the finding, clean ones stay
//! green, `--leakhunt-all` checks every test, and a machine where the check cannot run skips
//! it with the reason. The whole suite runs on the newest CPython present with pytest
//! (`.ci/run` installs it; a version without it says SKIP); the others run the checks that
//! snapshot, report and fail a test untraced (a traced snapshot of a pytest process takes
//! seconds, and tracing is the same Python code on every version).

mod common;

use common::root;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Whether `py` can import pytest.
fn has_pytest(py: &Path) -> bool {
    Command::new(py)
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run the plugin's tests under `py` (all of them, or those `-k` selects); Err with the
/// output when they fail.
fn run(version: &str, py: &Path, select: Option<&str>) -> Result<String, String> {
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
    let (with, without): (Vec<_>, Vec<_>) = common::pythons()
        .into_iter()
        .partition(|(_, py)| has_pytest(py));
    for (version, py) in &without {
        eprintln!(
            "SKIP CPython {version}: no pytest ({} -m pip install pytest)",
            py.display()
        );
    }
    let full = with.last().map(|(v, _)| *v);
    let smoke = "unmarked or missing_binary or inert or python_m";
    let failed = Mutex::new(Vec::new());
    common::two_at_a_time(&with, |v, py| {
        let select = (Some(v) != full).then_some(smoke);
        match run(v, py, select) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => failed.lock().unwrap_or_else(|p| p.into_inner()).push(e),
        }
    });
    let failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
