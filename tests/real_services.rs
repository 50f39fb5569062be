//! Real services on real frameworks, recorded the way a user records one: `leakhunt record
//! --every 2s` with its defaults, a baseline spell, bounded loopback load, a quiet spell,
//! SIGTERM, then `leakhunt report DIR --format json` (testdata/services/record_run.py). Each
//! leaking service must give its leak as the top finding, with the kind, type and retainer a
//! user would name, and no second finding for the same growth; the bounded cache none.
//! Needs CPython 3.11 with testdata/services/requirements.txt installed (`.ci/run` does it);
//! a test says SKIP and passes where that is missing.

mod common;

use common::{python, testdata};
use serde_json::Value;
use std::process::Command;

/// Record `service` and return its report, or None (with a SKIP line) when this machine
/// lacks what it needs.
fn recorded(service: &str, modules: &str, extra: &[&str]) -> Option<Value> {
    let py = python("3.11")?;
    let probe = Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .output()
        .ok()?;
    if !probe.status.success() {
        eprintln!(
            "SKIP {service}: CPython 3.11 lacks {modules} (pip install -r testdata/services/requirements.txt)"
        );
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join(service);
    let o = Command::new(&py)
        .arg(testdata("services/record_run.py"))
        .arg(env!("CARGO_BIN_EXE_leakhunt"))
        .arg(&py)
        .arg(testdata(&format!("services/{service}.py")))
        .arg(&out)
        .args(extra)
        .output()
        .expect("run record_run.py");
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    eprintln!("{service}: {}", said.trim());
    let report = std::fs::read_to_string(out.join("report.json")).unwrap_or_else(|e| {
        panic!(
            "{service}: no report ({e}): {said} {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let v: Value = serde_json::from_str(&report).expect("report JSON");
    // the baseline, taken before any load, is still there
    let snaps: Vec<String> = std::fs::read_dir(out.join("snaps"))
        .expect("snaps")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        snaps.iter().any(|n| n.starts_with("snap-000001-")),
        "{service}: baseline gone: {snaps:?}"
    );
    Some(v)
}

fn check_top(v: &Value, service: &str, kind: &str, leaking: &str, chain: &[&str]) {
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let top = findings
        .first()
        .unwrap_or_else(|| panic!("{service}: no finding: {v:#}"));
    assert_eq!(top["kind"], kind, "{service}: {top:#}");
    let t = top["leaking_type"].as_str().unwrap_or("");
    assert!(t.contains(leaking), "{service}: leaking type {t}");
    let c = top["chain_text"].as_str().unwrap_or("");
    for want in chain {
        assert!(c.contains(want), "{service}: chain {c} lacks {want}");
    }
    assert!(
        top["growth"]["pattern"]
            .as_str()
            .is_some_and(|p| ["held", "linear"].contains(&p)),
        "{service}: {:#}",
        top["growth"]
    );
    assert!(
        findings.len() <= 2,
        "{service}: {} findings: {v:#}",
        findings.len()
    );
}

#[test]
fn flask_order_history() {
    let Some(v) = recorded("flask_orders", "flask", &[]) else {
        return;
    };
    check_top(
        &v,
        "flask_orders",
        "unbounded_collection",
        "Order",
        &["module __main__ -> ORDER_HISTORY (list)"],
    );
}

#[test]
fn aiohttp_chat_subscribers() {
    let Some(v) = recorded("aiohttp_chat", "aiohttp", &[]) else {
        return;
    };
    // the lists hold bound methods: the blame goes to their `__self__`'s class
    check_top(
        &v,
        "aiohttp_chat",
        "event_handler",
        "__main__.ChatSession",
        &["module __main__ -> BUS", "_handlers"],
    );
}

#[test]
fn matplotlib_figures_never_closed() {
    let Some(v) = recorded("plot_service", "flask, matplotlib", &["--requests", "120"]) else {
        return;
    };
    check_top(
        &v,
        "plot_service",
        "figure_accumulation",
        "matplotlib",
        &["Gcf", "figs"],
    );
}

#[test]
fn flask_bounded_cache_is_clean() {
    let Some(v) = recorded("flask_lru", "flask", &[]) else {
        return;
    };
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    assert!(findings.is_empty(), "flask_lru: {v:#}");
}
