//! `leakhunt report` on the corpus of leaking programs in testdata/leaks/: committed dumps
//! (CPython 3.12) and live runs on every CPython present, each asserting the kind, the
//! retainer's chain and the allocation site; plus the CI gate, the faces and tracemalloc input.

mod common;

use common::{leakhunt, python, testdata};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Program, expected kind, text the chain must contain.
const LEAKS: &[(&str, &str, &str)] = &[
    (
        "unbounded_collection",
        "unbounded_collection",
        "TRACKER (__main__.Tracker) -> history (list) -> [*] (dict)",
    ),
    (
        "cache_no_eviction",
        "cache_no_eviction",
        "module __main__ -> _results (dict)",
    ),
    (
        "circular_reference",
        "circular_reference",
        "ROOT (__main__.Node) -> children (list) -> [*] (__main__.Node)",
    ),
    (
        "event_handler",
        "event_handler",
        "BUS (__main__.EventBus) -> subscribers (dict) -> ['click'] (list) -> [*] (method)",
    ),
    (
        "closure_capture",
        "closure_capture",
        "module __main__ -> DONE (list) -> [*] (function)",
    ),
    (
        "thread_task",
        "thread_task",
        "MANAGER (__main__.TaskManager) -> tasks (list) -> [*] (threading.Thread)",
    ),
    (
        "unclosed_resource",
        "unclosed_resource",
        "OPEN_LOGS (dict) -> [*] (_io.TextIOWrapper)",
    ),
    (
        "array_accumulation",
        "array_accumulation",
        "SAMPLES (list) -> [*] (array.array)",
    ),
    (
        "array_numpy",
        "array_accumulation",
        "ACTIVATIONS (list) -> [*] (numpy.ndarray)",
    ),
    (
        "string_concat",
        "string_concat",
        "SESSION (__main__.Session) -> transcript (str)",
    ),
    (
        "figure_accumulation",
        "figure_accumulation",
        "module matplotlib._pylab_helpers",
    ),
    (
        "logging_unique",
        "cache_no_eviction",
        "manager (logging.Manager) -> loggerDict (dict) -> [*] (logging.Logger)",
    ),
    (
        "lru_method",
        "cache_no_eviction",
        "price (functools._lru_cache_wrapper)",
    ),
    (
        "warnings_registry",
        "cache_no_eviction",
        "module __main__ -> __warningregistry__ (dict)",
    ),
    (
        "defaultdict_reads",
        "unbounded_collection",
        "module __main__ -> PERMISSIONS (collections.defaultdict)",
    ),
    // Variants run live only.
    (
        "live_deque_history",
        "unbounded_collection",
        "AUDIT (collections.deque) -> [*] (str)",
    ),
    (
        "live_lru_function",
        "cache_no_eviction",
        "render (functools._lru_cache_wrapper)",
    ),
    (
        "live_gc_off_nodes",
        "circular_reference",
        "(unreachable) cycle: __main__.Node.children -> list",
    ),
    (
        "live_lambda_callbacks",
        "event_handler",
        "saved (__main__.Signal) -> _receivers (list) -> [*] (function)",
    ),
    (
        "live_asyncio_tasks",
        "thread_task",
        "BACKGROUND (list) -> [*] (_asyncio.Task)",
    ),
    (
        "live_socket_pool",
        "unclosed_resource",
        "POOL (__main__.Pool) -> conns (list) -> [*] (socket.socket)",
    ),
    (
        "live_global_str",
        "string_concat",
        "module __main__ -> LOG (str)",
    ),
    (
        "live_bytes_chunks",
        "array_accumulation",
        "FRAMES (list) -> [*] (bytes)",
    ),
    (
        "live_handler_tuples",
        "event_handler",
        "bus (__main__.Bus) -> listeners (list) -> [*] (tuple)",
    ),
];

/// Programs that must give no finding.
const CLEAN: &[&str] = &["ok_bounded_lru", "ok_alloc_free", "ok_weakvalue_cache"];

/// Whether a program is tested live only: its dumps are too large to commit (figures), or it
/// is a variant (`live_*`).
fn live_only(name: &str) -> bool {
    name == "figure_accumulation" || name.starts_with("live_")
}

/// The third-party module a program needs, if any.
fn needs(program: &str) -> Option<&'static str> {
    match program {
        "array_numpy" => Some("numpy"),
        "figure_accumulation" => Some("matplotlib"),
        _ => None,
    }
}

fn program(name: &str) -> PathBuf {
    testdata(&format!("leaks/{name}.py"))
}

/// The line marked `# <- leak` in a program: where its leaking memory is allocated.
fn marked_line(name: &str) -> usize {
    let text = common::read(&program(name));
    text.lines()
        .position(|l| l.contains("# <- leak"))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{name}.py has no '# <- leak' marker"))
}

fn report(dir: &Path, name: &str, extra: &[&str]) -> (Value, i32) {
    let mut args: Vec<String> = vec!["report".into()];
    for k in 1..=3 {
        args.push(dir.join(format!("{name}-{k}.snap")).display().to_string());
    }
    args.extend(["--format".to_string(), "json".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = leakhunt(&args);
    let code = out.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        code == 0 || code == 3,
        "{name}: exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad JSON ({e})")),
        code,
    )
}

/// Check every program whose dumps are in `dir`; returns (right, total).
fn check_dir(dir: &Path, label: &str, with_sites: bool) -> (usize, usize) {
    let mut right = 0;
    let mut total = 0;
    for &(name, kind, chain) in LEAKS {
        if !dir.join(format!("{name}-3.snap")).exists() {
            eprintln!(
                "SKIP {label} {name}: no dumps (module {:?} missing, or checked on a newer CPython)",
                needs(name)
            );
            continue;
        }
        total += 1;
        let (d, _) = report(dir, name, &[]);
        let f = &d["findings"][0];
        assert_eq!(f["kind"], kind, "{label} {name}: {f:#}");
        let text = f["chain_text"].as_str().unwrap_or("");
        assert!(text.contains(chain), "{label} {name}: chain {text:?}");
        assert!(
            ["low", "medium", "high"].contains(&f["confidence"].as_str().unwrap_or("")),
            "{label} {name}"
        );
        assert!(!f["evidence"].as_array().is_none_or(|e| e.is_empty()));
        assert_eq!(f["growth"]["pattern"], "linear", "{label} {name}: {f:#}");
        assert!(f["growth"]["bytes_per_step"].as_f64().unwrap_or(0.0) > 0.0);
        // Garbage cycles have no retainer to take a site from; figures run without tracing.
        if with_sites && name != "figure_accumulation" && !text.starts_with("(unreachable)") {
            let site = format!("leaks/{name}.py:{}", marked_line(name));
            let got = f["alloc_site"].as_str().unwrap_or("(none)");
            assert!(
                got.ends_with(&site),
                "{label} {name}: site {got}, want {site}"
            );
            assert_eq!(f["location"], f["alloc_site"]);
            // The sites with their shares: the first is the site, the shares are fractions.
            let sites = f["alloc_sites"].as_array().cloned().unwrap_or_default();
            assert!(
                !sites.is_empty() && sites.len() <= 4,
                "{label} {name}: {sites:?}"
            );
            assert_eq!(sites[0]["site"], f["alloc_site"], "{label} {name}");
            for s in &sites {
                let share = s["share"].as_f64().unwrap_or(-1.0);
                assert!((0.0..=1.0).contains(&share), "{label} {name}: {s}");
                assert!(
                    s["bytes"].as_u64().is_some_and(|b| b > 0),
                    "{label} {name}: {s}"
                );
            }
        }
        right += 1;
    }
    for &name in CLEAN {
        total += 1;
        let (d, _) = report(dir, name, &[]);
        assert_eq!(
            d["findings"].as_array().map(|a| a.len()),
            Some(0),
            "{label} {name} must give no finding: {:#}",
            d["findings"]
        );
        right += 1;
    }
    (right, total)
}

#[test]
fn committed_corpus_is_classified() {
    for &(name, _, _) in LEAKS {
        let there = testdata(&format!("snap/corpus/{name}-3.snap")).exists();
        assert_eq!(there, !live_only(name), "committed dumps of {name}");
    }
    let (right, total) = check_dir(&testdata("snap/corpus"), "3.12 committed", true);
    eprintln!("committed corpus: {right}/{total} right");
    assert_eq!(right, total);
}

fn importable(py: &Path, module: &str) -> bool {
    Command::new(py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run one corpus program under `py`, writing its three dumps into `out`.
fn run_program(py: &Path, name: &str, out: &Path) {
    // Without tracemalloc: tracing every allocation makes the dumps ~30x slower here. The
    // committed dumps were written with tracing and carry the allocation sites.
    let o = Command::new(py)
        .arg(program(name))
        .arg(out)
        .current_dir(out)
        .env_remove("LEAKHUNT_TRACEMALLOC")
        .output()
        .expect("run python");
    assert!(
        o.status.success(),
        "{name} under {}: {}",
        py.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn live_corpus_on_every_installed_cpython() {
    let mut summary = Vec::new();
    // A program on a third-party library (numpy, matplotlib) runs on the newest CPython
    // that has it: its heap is the library's, the same on every version, and a traced dump
    // of it takes tens of seconds; the dumper's own tests cover every version.
    let mut library_done: Vec<&str> = Vec::new();
    for version in common::VERSIONS.iter().rev() {
        let Some(py) = python(version) else { continue };
        let dir = tempfile::tempdir().expect("tempdir");
        let names: Vec<&str> = LEAKS
            .iter()
            .map(|l| l.0)
            .chain(CLEAN.iter().copied())
            .filter(|n| match needs(n) {
                Some(m) if !importable(&py, m) => {
                    eprintln!("SKIP {version} {n}: module {m} is not installed");
                    false
                }
                Some(_) if library_done.contains(n) => false,
                Some(_) => {
                    library_done.push(n);
                    true
                }
                None => true,
            })
            .collect();
        // Two programs at a time: the machine has two cores.
        std::thread::scope(|s| {
            for pair in names.chunks(2) {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|n| {
                        let (py, out) = (py.clone(), dir.path().to_path_buf());
                        s.spawn(move || run_program(&py, n, &out))
                    })
                    .collect();
                for h in handles {
                    h.join().expect("program thread");
                }
            }
        });
        let (right, total) = check_dir(dir.path(), version, false);
        summary.push(format!("{version}: {right}/{total}"));
    }
    eprintln!("live corpus: {}", summary.join(", "));
}

#[test]
fn gate_exit_codes() {
    let dir = testdata("snap/corpus");
    let (_, code) = report(&dir, "cache_no_eviction", &["--fail-on", "any"]);
    assert_eq!(code, 3);
    let (_, code) = report(
        &dir,
        "cache_no_eviction",
        &["--fail-on", "cache_no_eviction,thread_task"],
    );
    assert_eq!(code, 3);
    let (_, code) = report(&dir, "cache_no_eviction", &["--fail-on", "thread_task"]);
    assert_eq!(code, 0);
    let (_, code) = report(
        &dir,
        "cache_no_eviction",
        &["--fail-on", "any", "--min-growth", "1MB"],
    );
    assert_eq!(code, 0);
    let (_, code) = report(
        &dir,
        "cache_no_eviction",
        &["--fail-on", "any", "--min-growth", "10KiB"],
    );
    assert_eq!(code, 3);
    let (_, code) = report(&dir, "ok_alloc_free", &["--fail-on", "any"]);
    assert_eq!(code, 0);
    // Bad usage and bad input: exit 2 with one line.
    let snaps: Vec<String> = (1..=3)
        .map(|k| {
            testdata(&format!("snap/leaks/registry-{k}.snap"))
                .display()
                .to_string()
        })
        .collect();
    for bad in [
        vec!["--fail-on", "leaky"],
        vec!["--fail-on", "any", "--min-growth", "lots"],
    ] {
        let mut args = vec!["report".to_string()];
        args.extend(snaps.iter().cloned());
        args.extend(bad.iter().map(|s| s.to_string()));
        let out = leakhunt(&args);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
    let out = leakhunt(["report", "Cargo.toml", "README.md", "--fail-on", "any"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Cargo.toml"));
}

#[test]
fn markdown_has_the_bug_report_layout() {
    let dir = testdata("snap/corpus");
    let files: Vec<String> = (1..=3)
        .map(|k| {
            dir.join(format!("event_handler-{k}.snap"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["report".to_string()];
    args.extend(files);
    args.extend(["--format".into(), "markdown".into()]);
    let out = leakhunt(&args);
    assert!(out.status.success());
    let md = String::from_utf8_lossy(&out.stdout);
    let site = format!("leaks/event_handler.py:{}", marked_line("event_handler"));
    for needle in [
        "## Memory Leak Report",
        "| # | Leak type | Confidence | Location | Growth | Rate | Pattern |",
        "### 1. File: `",
        site.as_str(),
        "#### Leak Type\nEvent handler / callback (`event_handler`",
        "#### Growth Pattern\nlinear",
        "#### Memory Impact\n~",
        "per step",
        "#### Evidence\nRetention chain: `module __main__ -> BUS (__main__.EventBus)",
        "#### Detection\n```python\nimport tracemalloc",
        "#### Fix\n",
        "weakref.WeakMethod",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
    }
    // Fences are balanced.
    assert_eq!(md.matches("```").count() % 2, 0);
}

#[test]
fn table_is_the_default_face() {
    let dir = testdata("snap/corpus");
    let files: Vec<String> = (1..=3)
        .map(|k| {
            dir.join(format!("string_concat-{k}.snap"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["report".to_string()];
    args.extend(files);
    let out = leakhunt(&args);
    assert!(out.status.success());
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("string_concat"), "{t}");
    assert!(
        t.contains("fix: Collect the parts in a list and ''.join()"),
        "{t}"
    );
}

#[test]
fn two_snapshots_ask_for_a_third() {
    let dir = testdata("snap/corpus");
    let out = leakhunt([
        "report".to_string(),
        dir.join("unbounded_collection-1.snap")
            .display()
            .to_string(),
        dir.join("unbounded_collection-3.snap")
            .display()
            .to_string(),
        "--format".into(),
        "json".into(),
    ]);
    assert!(out.status.success());
    let d: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        d["findings"][0]["growth"]["pattern"],
        "needs_third_snapshot"
    );
    assert!(
        d["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|s| s.as_str().unwrap_or("").contains("third")))
    );
}

#[test]
fn tracemalloc_input_gives_fewer_kinds_and_says_why() {
    let d = testdata("tracemalloc/3.12");
    let out = leakhunt([
        "report".to_string(),
        d.join("a.pickle").display().to_string(),
        d.join("b.pickle").display().to_string(),
        d.join("c.pickle").display().to_string(),
        "--format".into(),
        "json".into(),
        "--top".into(),
        "0".into(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // File names with lone surrogates are shown as the text `\udc80`: plain valid JSON.
    let v: Value = serde_json::from_slice(&out.stdout).expect("report json");
    assert_eq!(v["input"], "tracemalloc");
    assert_eq!(v["schema"], "leakhunt.leak-report/1");
    let findings = v["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert!(f["alloc_site"].is_string());
        assert!(f["growth_bytes"].as_u64().unwrap_or(0) >= 2048);
    }
    assert!(
        v["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("not what keeps it alive"))
    );
}

#[test]
fn source_join_shows_the_allocating_code_and_the_retainer_definition() {
    // The dumps recorded this checkout's absolute paths at the time; --source finds the
    // files by their tail wherever the repository is now.
    let dir = testdata("snap/corpus");
    let mut args = vec!["report".to_string()];
    args.extend((1..=3).map(|k| {
        dir.join(format!("unbounded_collection-{k}.snap"))
            .display()
            .to_string()
    }));
    args.extend([
        "--format".into(),
        "json".into(),
        "--source".into(),
        common::root().display().to_string(),
    ]);
    let out = leakhunt(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = &d["findings"][0];
    let code = f["code"].as_str().unwrap_or("");
    assert!(code.contains("TRACKER.record({\"seq\": n"), "{code}");
    assert!(code.contains("# <-- here"), "{code}");
    let def = &f["retainer_definition"];
    assert!(
        def["code"]
            .as_str()
            .unwrap_or("")
            .contains("self.history = []  # <-- here"),
        "{def:#}"
    );
    assert!(
        def["site"]
            .as_str()
            .unwrap_or("")
            .ends_with("leaks/unbounded_collection.py:8")
    );
    let out = leakhunt(["report", "x.snap", "y.snap", "--source", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn heap_and_source_agree_and_raise_confidence() {
    let dir = testdata("snap/corpus");
    let root = common::root().display().to_string();
    for name in [
        "unbounded_collection",
        "cache_no_eviction",
        "circular_reference",
        "event_handler",
        "closure_capture",
        "thread_task",
        "logging_unique",
        "lru_method",
        "warnings_registry",
    ] {
        let (plain, _) = report(&dir, name, &[]);
        let (joined, _) = report(&dir, name, &["--source", root.as_str()]);
        let (p, j) = (&plain["findings"][0], &joined["findings"][0]);
        assert_eq!(p["kind"], j["kind"], "{name}");
        let agree: Vec<&Value> = j["static_findings"]
            .as_array()
            .map(|a| a.iter().filter(|s| s["agrees"] == true).collect())
            .unwrap_or_default();
        assert!(!agree.is_empty(), "{name}: no agreeing scan finding: {j:#}");
        assert!(
            agree[0]["site"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("leaks/{name}.py:")),
            "{name}"
        );
        assert!(
            j["evidence"].as_array().is_some_and(|e| e
                .iter()
                .any(|l| l.as_str().unwrap_or("").starts_with("the source agrees"))),
            "{name}"
        );
        if p["confidence"] == "medium" {
            assert_eq!(
                j["confidence"], "high",
                "{name}: agreement raises confidence"
            );
        }
    }
}

/// Snapshots of two processes, or of one pid before and after a restart, are never merged
/// into one series: one line names the file, and the exit code is 2.
#[test]
fn snapshots_of_two_processes_are_refused() {
    use leakhunt::input::snap::writer::synthetic;
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, pid: u64, start: f64| {
        let mut w = synthetic(200, 7);
        w.meta.insert("pid".into(), pid.into());
        w.meta.insert("process_start".into(), start.into());
        let p = tmp.path().join(name);
        std::fs::write(&p, w.to_bytes()).expect("write");
        p.display().to_string()
    };
    let a = write("a.snap", 4242, 1_796_000_000.0);
    let b = write("b.snap", 4242, 1_796_000_000.2);
    let restarted = write("c.snap", 4242, 1_796_003_600.0);
    let other = write("d.snap", 777, 1_796_000_000.0);
    let ok = leakhunt(["report", &a, &b, "--format", "json"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for (file, want) in [(&restarted, "restarted"), (&other, "from process 777")] {
        let o = leakhunt(["report", &a, &b, file]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(file.as_str()) && err.contains(want), "{err}");
        assert!(err.contains("analyse each process apart"), "{err}");
    }
}
