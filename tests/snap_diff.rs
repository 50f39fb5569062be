//! The object-graph diff on real leaking programs (testdata/programs/leaks), each dumped three
//! times by the stdlib dumper: committed 3.12 dumps, and live on every CPython installed here.
//! Each asserts the exact top suspect, its chain and the cycles.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn diff(dir: &Path, name: &str) -> Value {
    let files: Vec<_> = (1..=3)
        .map(|k| dir.join(format!("{name}-{k}.snap")))
        .collect();
    let mut args: Vec<std::ffi::OsString> = vec!["diff".into()];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    args.extend(["--format".into(), "json".into()]);
    let out = leakhunt(&args);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn top(d: &Value) -> &Value {
    &d["suspects"][0]
}

fn check_all(dir: &Path, version: &str) {
    let d = diff(dir, "registry");
    assert_eq!(d["schema"], "leakhunt.snap-diff/1");
    assert_eq!(d["snapshots"].as_array().unwrap().len(), 3);
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> _REGISTRY (dict) -> [*] (__main__.Request)",
        "{version}"
    );
    assert_eq!(top(&d)["leaking_type"], "__main__.Request");
    assert_eq!(top(&d)["retainer_type"], "dict");
    // 100 requests per step: with three snapshots only those born in step 1->2 that survive
    // count, each with its id string and bytearray body (and, before 3.11, its __dict__).
    let n = top(&d)["new_objects"].as_u64().unwrap();
    assert!((300..=400).contains(&n), "{version}: {n} new objects");
    let growth = d["growth_by_type"].as_array().unwrap();
    let req = growth
        .iter()
        .find(|r| r["type"] == "__main__.Request")
        .unwrap();
    assert_eq!(
        req["count_diff"], 200,
        "{version}: two steps of 100 requests"
    );
    assert_eq!(req["new"], 100, "{version}: born in 1->2 and alive in 3");

    let d = diff(dir, "emitter");
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> bus (__main__.EventBus) -> handlers (list) -> [*] (method)",
        "{version}"
    );
    assert_eq!(top(&d)["leaking_type"], "method");
    assert_eq!(top(&d)["chain"][2]["label"], "handlers");
    assert_eq!(top(&d)["chain"][2]["type"], "list");

    let d = diff(dir, "cycle_retained");
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> _TREES (list) -> [*] (__main__.Node)",
        "{version}"
    );
    let c = &d["cycles"][0];
    assert_eq!(c["status"], "retained", "{version}");
    assert_eq!(
        c["count"], 100,
        "{version}: one cycle per tree born in 1->2"
    );
    let sig = c["signature"].as_str().unwrap();
    assert!(
        sig.contains("__main__.Node.parent -> __main__.Node"),
        "{version}: {sig}"
    );
    assert!(
        sig.contains("list.[*] -> __main__.Node"),
        "{version}: {sig}"
    );

    let d = diff(dir, "cycle_garbage");
    let c = &d["cycles"][0];
    assert_eq!(c["status"], "garbage", "{version}");
    assert_eq!(c["count"], 100, "{version}");
    assert!(
        c["signature"]
            .as_str()
            .unwrap()
            .contains("__main__.Pair.other -> __main__.Pair"),
        "{version}"
    );
    assert!(
        d["new_unreachable"].as_u64().unwrap() >= 400,
        "{version}: pairs and their payloads are garbage"
    );
    assert!(
        d["suspects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["leaking_type"].as_str().unwrap().contains("Pair")),
        "{version}: garbage is not retained by anything"
    );

    let d = diff(dir, "closure");
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> HANDLERS (list) -> [*] (function)",
        "{version}"
    );
    assert!(
        top(&d)["retained_growth_bytes"].as_u64().unwrap() >= 100 * 10_000,
        "{version}: the captured payloads"
    );

    // Shared by two services: the shortest chain runs through one, the dominator path
    // skips both (neither alone keeps the cache alive).
    let d = diff(dir, "shared_cache");
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> primary (__main__.Service) -> cache (__main__.Cache) -> entries (list) -> [*] (bytearray)",
        "{version}"
    );
    assert_eq!(
        top(&d)["dominator_chain_text"],
        "module __main__ -> ... -> cache (__main__.Cache) -> entries (list) -> [*] (bytearray)",
        "{version}"
    );
    // Where the shortest chain is the dominator path, the field is null.
    let d = diff(dir, "registry");
    assert!(top(&d)["dominator_chain_text"].is_null(), "{version}");

    let d = diff(dir, "churn");
    let worst = d["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["retained_growth_bytes"].as_u64().unwrap())
        .max();
    assert!(
        worst.unwrap_or(0) < 4096,
        "{version}: churn is no leak: {:?}",
        d["suspects"]
    );
}

#[test]
fn committed_leak_dumps() {
    check_all(&testdata("snap/leaks"), "3.12 (committed)");
}

#[test]
fn live_leak_programs_on_every_installed_cpython() {
    let programs = testdata("programs/leaks");
    for v in VERSIONS {
        let Some(py) = python(v) else { continue };
        let tmp = tempfile::tempdir().unwrap();
        for name in [
            "registry",
            "emitter",
            "cycle_retained",
            "cycle_garbage",
            "closure",
            "churn",
            "shared_cache",
        ] {
            let out = std::process::Command::new(&py)
                .arg(programs.join(format!("{name}.py")))
                .arg(tmp.path())
                .output()
                .expect("run python");
            assert!(
                out.status.success(),
                "{v} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        check_all(tmp.path(), v);
    }
}

#[test]
fn path_explains_a_leaked_object() {
    let dir = testdata("snap/leaks");
    let d = diff(&dir, "registry");
    let addr = top(&d)["retainer_address"].as_str().unwrap().to_string();
    let out = leakhunt([
        "path".as_ref(),
        dir.join("registry-3.snap").as_os_str(),
        addr.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(w["reachable"], true);
    assert_eq!(w["chain_text"], "module __main__ -> _REGISTRY (dict)");
    assert!(w["object"]["retained"].as_u64().unwrap() > 40_000);
}

#[test]
fn dot_output_is_a_graph() {
    let dir = testdata("snap/leaks");
    let out = leakhunt([
        "diff".as_ref(),
        dir.join("cycle_retained-1.snap").as_os_str(),
        dir.join("cycle_retained-3.snap").as_os_str(),
        "--format".as_ref(),
        "dot".as_ref(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("digraph leakhunt {"));
    assert!(text.contains("_TREES"));
    assert!(text.contains("cluster_c0"));
    assert!(text.trim_end().ends_with('}'));
}

#[test]
fn allocation_sites_when_tracemalloc_was_tracing() {
    let Some(py) = VERSIONS.iter().rev().find_map(|v| python(v)) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&py)
        .arg(testdata("programs/leaks/registry.py"))
        .arg(tmp.path())
        .env("LEAKHUNT_TRACEMALLOC", "5")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = diff(tmp.path(), "registry");
    // registry.py: line 8 allocates each request's 256-byte body, line 15 the Request.
    let sites = d["growth_by_site"].as_array().unwrap();
    assert!(
        sites[0]["site"]
            .as_str()
            .unwrap()
            .ends_with("registry.py:8"),
        "{sites:?}"
    );
    assert_eq!(sites[0]["new"], 100);
    // The suspect's site is where most of the bytes it keeps alive were born (the bodies),
    // with the Request's own line among the sites after it.
    let t = top(&d);
    assert!(
        t["alloc_site"].as_str().unwrap().ends_with("registry.py:8"),
        "{t:?}"
    );
    let listed = t["alloc_sites"].as_array().unwrap();
    assert_eq!(listed[0]["site"], t["alloc_site"]);
    assert!(
        listed[1..]
            .iter()
            .any(|s| s["site"].as_str().unwrap().ends_with("registry.py:15")),
        "{listed:?}"
    );
}

#[test]
fn a_directory_is_ordered_by_step() {
    let tmp = tempfile::tempdir().unwrap();
    // Names sort against the steps, so only the recorded step can give the right order.
    for (k, name) in [(1, "c.snap"), (2, "b.snap"), (3, "a.snap")] {
        std::fs::copy(
            testdata(&format!("snap/leaks/registry-{k}.snap")),
            tmp.path().join(name),
        )
        .unwrap();
    }
    std::fs::write(tmp.path().join("notes.txt"), "not a snapshot").unwrap();
    let out = leakhunt([
        "diff".as_ref(),
        tmp.path().as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<i64> = d["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, vec![100, 200, 300]);
    assert_eq!(
        top(&d)["chain_text"],
        "module __main__ -> _REGISTRY (dict) -> [*] (__main__.Request)"
    );
}
