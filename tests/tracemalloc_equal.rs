//! leakhunt's tracemalloc diff and stats equal CPython's `compare_to` and `statistics`, row for
//! row and in the same order: on the committed dumps of every version (golden files written by
//! CPython itself), and live on fresh dumps from every CPython installed here.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// Compare leakhunt with every case of an `expected.json`; returns the number of cases.
fn check_dir(dir: &Path) -> usize {
    let expected = parse_json_lenient(&read(&dir.join("expected.json")));
    let cases = expected["cases"].as_array().expect("cases");
    let (a, b) = (dir.join("a.pickle"), dir.join("b.pickle"));
    for case in cases {
        for (command, field) in [("diff", "diff"), ("stats", "stats")] {
            let mut args: Vec<String> = vec![command.into()];
            if command == "diff" {
                args.push(a.display().to_string());
            }
            args.push(b.display().to_string());
            args.extend(["--group-by".into(), case["key"].as_str().unwrap().into()]);
            args.extend(["--top".into(), "0".into(), "--format".into(), "json".into()]);
            if case["cumulative"].as_bool().unwrap() {
                args.push("--cumulative".into());
            }
            if case["all_frames"].as_bool().unwrap() {
                args.push("--all-frames".into());
            }
            for p in case["include"].as_array().unwrap() {
                args.extend(["--include".into(), p.as_str().unwrap().into()]);
            }
            for p in case["exclude"].as_array().unwrap() {
                args.extend(["--exclude".into(), p.as_str().unwrap().into()]);
            }
            let out = leakhunt(&args);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = parse_json_lenient(&String::from_utf8_lossy(&out.stdout));
            let want = case[field].as_array().unwrap();
            let rows = got["rows"].as_array().unwrap();
            assert_eq!(
                rows.len(),
                want.len(),
                "{}: {args:?}: row count",
                dir.display()
            );
            for (i, (g, w)) in rows.iter().zip(want).enumerate() {
                for k in [
                    "site",
                    "size",
                    "count",
                    "traceback",
                    "size_diff",
                    "count_diff",
                ] {
                    if w.get(k).is_some() || command == "diff" {
                        assert_eq!(g[k], w[k], "{}: {args:?}: row {i} field {k}", dir.display());
                    }
                }
            }
            if command == "diff"
                && case["include"].as_array().unwrap().is_empty()
                && case["exclude"].as_array().unwrap().is_empty()
                && !case["cumulative"].as_bool().unwrap()
            {
                let sum: i64 = want.iter().map(|r| r["size_diff"].as_i64().unwrap()).sum();
                assert_eq!(
                    got["total_size_diff"].as_i64(),
                    Some(sum),
                    "total_size_diff"
                );
            }
        }
    }
    cases.len()
}

#[test]
fn committed_dumps_of_every_version_match_cpython() {
    for v in VERSIONS {
        let dir = testdata(&format!("tracemalloc/{v}"));
        assert!(
            dir.join("expected.json").exists(),
            "missing committed dumps for {v}"
        );
        let n = check_dir(&dir);
        assert!(n >= 25, "{v}: only {n} cases");
    }
}

#[test]
fn fresh_dumps_from_every_installed_cpython_match() {
    let script = testdata("tracemalloc/make_dumps.py");
    let pythons = common::pythons();
    common::two_at_a_time(&pythons, |v, py| {
        let tmp = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(py)
            .arg(&script)
            .arg(tmp.path())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        check_dir(tmp.path());
    });
    eprintln!(
        "live differential test ran on {} CPython versions",
        pythons.len()
    );
}

#[test]
fn traceback_json_lists_frames_oldest_first() {
    let dir = testdata("tracemalloc/3.12");
    let out = leakhunt([
        "diff".as_ref(),
        dir.join("a.pickle").as_os_str(),
        dir.join("b.pickle").as_os_str(),
        "--group-by".as_ref(),
        "traceback".as_ref(),
        "--top".as_ref(),
        "3".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(out.status.success());
    let doc: Value = parse_json_lenient(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(doc["key"], "traceback");
    assert_eq!(doc["cumulative"], false);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows {
        let tb = r["traceback"].as_array().unwrap();
        assert_eq!(r["site"], tb[tb.len() - 1], "site is the most recent frame");
        assert!(
            tb[0].as_str().unwrap().ends_with("make_dumps.py:")
                || tb[0].as_str().unwrap().contains("make_dumps.py:")
        );
    }
}
