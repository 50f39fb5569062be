//! The source scan's rules on fixtures: every `# expect: kind@col` line is found, with that
//! kind and column, and nothing else is (the near misses in each fixture stay quiet).

mod common;

use common::{leakhunt, testdata};
use leakhunt::leak_kind::LeakKind;
use leakhunt::scan::{ScanOptions, scan_paths};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (line, kind, col) for every `# expect:` marker of a fixture.
fn expected(path: &Path) -> BTreeSet<(u32, String, u32)> {
    let text = common::read(path);
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, rest)) = line.split_once("# expect: ") {
            let (kind, col) = rest.trim().split_once('@').expect("kind@col");
            out.insert((i as u32 + 1, kind.to_string(), col.parse().expect("col")));
        }
    }
    out
}

fn found(path: &PathBuf, opts: &ScanOptions) -> BTreeSet<(u32, String, u32)> {
    let r = scan_paths(std::slice::from_ref(path), opts).expect("scan");
    assert!(r.syntax_errors.is_empty(), "{:?}", r.syntax_errors);
    r.findings
        .iter()
        .map(|f| (f.line, f.kind.as_str().to_string(), f.col))
        .collect()
}

fn check(fixture: &str) {
    let path = testdata(&format!("scan/{fixture}.py"));
    let want = expected(&path);
    assert!(!want.is_empty(), "{fixture} has no expectations");
    assert_eq!(found(&path, &ScanOptions::default()), want, "{fixture}");
}

#[test]
fn unbounded_collection() {
    check("unbounded_collection");
}

#[test]
fn cache_no_eviction() {
    check("cache_no_eviction");
}

#[test]
fn logger_and_warning_registries() {
    check("registries");
}

#[test]
fn circular_reference() {
    check("circular_reference");
}

#[test]
fn event_handler() {
    check("event_handler");
}

#[test]
fn closure_capture() {
    check("closure_capture");
}

#[test]
fn thread_task() {
    check("thread_task");
}

#[test]
fn unclosed_resource() {
    check("unclosed_resource");
}

#[test]
fn array_accumulation() {
    check("array_accumulation");
}

#[test]
fn string_concat() {
    check("string_concat");
}

#[test]
fn figure_accumulation() {
    check("figure_accumulation");
}

#[test]
fn suppression_comments() {
    check("suppressed");
}

#[test]
fn select_and_ignore_choose_kinds() {
    let path = testdata("scan/unclosed_resource.py");
    let only = ScanOptions {
        select: Some(vec![LeakKind::CacheNoEviction]),
        ignore: vec![],
    };
    assert!(found(&path, &only).is_empty());
    let ignored = ScanOptions {
        select: None,
        ignore: vec![LeakKind::UnclosedResource],
    };
    assert!(found(&path, &ignored).is_empty());
    let selected = ScanOptions {
        select: Some(vec![LeakKind::UnclosedResource]),
        ignore: vec![],
    };
    assert_eq!(found(&path, &selected).len(), 5);
}

#[test]
fn findings_carry_code_why_and_fix() {
    let path = testdata("scan/unbounded_collection.py");
    let r = scan_paths(&[path], &ScanOptions::default()).expect("scan");
    let f = r.findings.iter().find(|f| f.line == 10).expect("line 10");
    assert_eq!(
        f.code.trim(),
        "self.history.append(event)  # expect: unbounded_collection@9"
    );
    assert!(
        f.why.contains("self.history") && f.why.contains("Tracker"),
        "{}",
        f.why
    );
    assert!(
        f.fix.starts_with(LeakKind::UnboundedCollection.fix()),
        "{}",
        f.fix
    );
    assert_eq!(r.at(&f.file, 10).count(), 1);
}

#[test]
fn cli_exit_codes_and_syntax_errors() {
    let bad = testdata("scan_bad");
    let out = leakhunt(["scan".as_ref(), bad.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].ends_with(
            "broken.py:4: syntax error: Expected a parameter or the end of the parameter list"
        ),
        "{err}"
    );
    // The other file was still scanned.
    assert!(String::from_utf8_lossy(&out.stdout).contains("fine.py:2:5"));
    let out = leakhunt([
        "scan".as_ref(),
        bad.as_os_str(),
        "--fail-on".as_ref(),
        "any".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let out = leakhunt([
        "scan".as_ref(),
        bad.as_os_str(),
        "--fail-on".as_ref(),
        "string_concat".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = leakhunt([
        "scan".as_ref(),
        bad.as_os_str(),
        "--ignore".as_ref(),
        "unclosed_resource".as_ref(),
        "--fail-on".as_ref(),
        "any".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = leakhunt(["scan", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    let out = leakhunt(["scan", ".", "--select", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_face_matches_schema_doc() {
    let out = leakhunt([
        "scan".as_ref(),
        testdata("scan/string_concat.py").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["leakhunt_scan"], 1);
    assert_eq!(v["files_scanned"], 1);
    assert_eq!(v["counts"]["string_concat"], 4);
    let f = &v["findings"][0];
    for key in [
        "kind",
        "title",
        "confidence",
        "rule",
        "file",
        "line",
        "col",
        "end_line",
        "end_col",
        "code",
        "why",
        "fix",
    ] {
        assert!(!f[key].is_null(), "missing {key}");
    }
    // Best first: the module global grown on every call.
    assert_eq!(f["line"], 73);
    assert_eq!(f["confidence"], "high");
}

#[test]
fn markdown_face_follows_the_report_layout() {
    let out = leakhunt([
        "scan".as_ref(),
        testdata("scan/figure_accumulation.py").as_os_str(),
        "--format".as_ref(),
        "markdown".as_ref(),
    ]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("## Memory Leak Report\n"));
    let mut at = 0;
    for h in [
        "### File: ",
        "#### Leak Type\nMatplotlib figure",
        "#### Growth Pattern",
        "#### Memory Impact",
        "#### Evidence\n```python\n",
        "#### Detection\n```python\n",
        "#### Fix\n```python\n",
    ] {
        let i = md[at..]
            .find(h)
            .unwrap_or_else(|| panic!("no {h:?} after {at}:\n{md}"));
        at += i + h.len();
    }
}

#[test]
fn sarif_face_is_valid_sarif_2_1_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = leakhunt([
        "scan".as_ref(),
        testdata("scan").as_os_str(),
        testdata("scan_bad").as_os_str(),
        "--format".as_ref(),
        "sarif".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // Structural checks that need no schema: the properties SARIF requires.
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "leakhunt");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 10);
    let results = run["results"].as_array().expect("results");
    assert!(results.len() > 20);
    for r in results {
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1));
        assert!(region["startColumn"].as_u64().is_some_and(|c| c >= 1));
    }
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1);
    // The official schema, when it can be had.
    let file = dir.path().join("scan.sarif");
    std::fs::write(&file, &out.stdout).expect("write");
    let script = common::root().join("tests/validate_sarif.py");
    match std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
    {
        Ok(o) if o.status.code() == Some(77) => {
            eprintln!(
                "SKIP schema validation: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        }
        Ok(o) => assert!(
            o.status.success(),
            "SARIF does not validate: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("SKIP schema validation: no python3 ({e})"),
    }
}

/// Every twin file under `testdata/scan/twins`, recursively, with its marked line and kind.
fn twins() -> Vec<(PathBuf, Option<(u32, String)>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("twins dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "py") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&testdata("scan/twins"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = common::read(&p);
            let mark = text.lines().enumerate().find_map(|(i, l)| {
                l.split_once("# expect: ")
                    .map(|(_, k)| (i as u32 + 1, k.trim().to_string()))
            });
            (p, mark)
        })
        .collect()
}

#[test]
fn twins_leak_files_name_their_kind_first_on_the_marked_line() {
    let all = twins();
    let leaks: Vec<_> = all
        .iter()
        .filter(|(p, _)| p.to_string_lossy().ends_with("_leak.py"))
        .collect();
    assert!(leaks.len() >= 10, "{} leak twins", leaks.len());
    for (path, mark) in leaks {
        let (line, kind) = mark.as_ref().expect("a leak twin has a marker");
        let r = scan_paths(std::slice::from_ref(path), &ScanOptions::default()).expect("scan");
        let top = r
            .findings
            .first()
            .unwrap_or_else(|| panic!("{}: no finding", path.display()));
        assert_eq!(
            top.kind.as_str(),
            kind,
            "{}: top finding {top:?}",
            path.display()
        );
        assert!(
            r.findings
                .iter()
                .any(|f| f.line == *line && f.kind.as_str() == kind),
            "{}: nothing of {kind} on line {line}: {:?}",
            path.display(),
            r.findings
        );
    }
}

#[test]
fn twins_clean_files_have_no_high_or_medium_finding() {
    for (path, mark) in twins()
        .iter()
        .filter(|(p, _)| p.to_string_lossy().ends_with("_clean.py"))
    {
        assert!(mark.is_none(), "{} carries a marker", path.display());
        let r = scan_paths(std::slice::from_ref(path), &ScanOptions::default()).expect("scan");
        let loud: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.confidence != leakhunt::leak_kind::Confidence::Low)
            .collect();
        assert!(loud.is_empty(), "{}: {loud:?}", path.display());
    }
}

#[test]
fn clean_up_that_runs_only_at_shutdown_does_not_count_and_is_named() {
    check("shutdown_only");
    let r = scan_paths(
        &[testdata("scan/shutdown_only.py")],
        &ScanOptions::default(),
    )
    .expect("scan");
    let why: Vec<&str> = r.findings.iter().map(|f| f.why.as_str()).collect();
    assert!(
        why.iter()
            .any(|w| w.contains("cleared only in close_all(), which runs at shutdown")),
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|w| w.contains("cleared only in flush(), which runs at shutdown")),
        "{why:?}"
    );
}

#[test]
fn pytest_fixtures_in_conftest_count_as_clean_up() {
    // A conftest imports an autouse fixture that closes every figure: its tests are clean.
    let dir = testdata("scan/pytest_fixtures/pkg");
    let r = scan_paths(&[dir], &ScanOptions::default()).expect("scan");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // The same tests with no such conftest leave their figures open.
    check("pytest_fixtures/bare/test_plots_unclosed");
}
