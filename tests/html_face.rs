//! `--format html`: one self-contained page (no script, nothing fetched) with, per finding,
//! the growth curve and its fit, the retention chain drawn as a graph, the allocation sites
//! and their shares, the source lines and the fix; every string from a snapshot escaped; and
//! a headless Chromium loads it with a clean console (skipped, with the reason, where
//! Debian's `chromium` is not installed: `.ci/run` installs it).

mod common;

use common::{leakhunt, python, root, testdata};
use std::path::{Path, PathBuf};
use std::process::Command;

fn html(args: &[&str]) -> String {
    let o = leakhunt(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 page")
}

/// What a self-contained page must not do: run code or fetch anything.
fn assert_self_contained(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..80]);
    let lower = page.to_ascii_lowercase();
    for banned in [
        "<script", "http://", "https://", "<link", "@import", "url(http",
    ] {
        assert!(!lower.contains(banned), "page has {banned}");
    }
    assert!(page.len() < 1 << 20, "page is {} bytes", page.len());
}

fn demo() -> String {
    testdata("demo/snaps").display().to_string()
}

#[test]
fn the_demo_report_page_shows_curve_chain_sites_code_and_fix() {
    let source = testdata("demo").display().to_string();
    let page = html(&["report", &demo(), "--format", "html", "--source", &source]);
    assert_self_contained(&page);
    for part in [
        "<svg class=\"growth\"",
        "class=\"fit\"",
        "<svg class=\"chain-graph\"",
        "<table class=\"sites\"",
        "<pre class=\"code\">",
        "<p class=\"fix\">",
        "quote_service.py:38",
        "__main__.QuoteSession",
        "_listeners",
        "Event handler",
        "name=\"viewport\"",
    ] {
        assert!(page.contains(part), "no {part} in the page");
    }
    // the chain drawn from the root down to the leaking objects, with their sizes
    let chain = &page[page.find("chain-graph").expect("chain")..];
    let root_at = chain.find("module __main__").expect("root box");
    let held_at = chain.find("new objects, ").expect("held box");
    assert!(root_at < held_at);
}

#[test]
fn the_snap_diff_page_draws_each_suspect() {
    let snaps: Vec<String> = std::fs::read_dir(testdata("demo/snaps"))
        .expect("demo snaps")
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    let mut files = snaps.clone();
    files.sort();
    let mut args = vec!["diff"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--format", "html"]);
    let page = html(&args);
    assert_self_contained(&page);
    for part in [
        "Object-graph diff",
        "<svg class=\"chain-graph\"",
        "Growth by type",
        "_listeners",
    ] {
        assert!(page.contains(part), "no {part} in the diff page");
    }
}

const HOSTILE: &str = r#"
import sys, tracemalloc
import leakhunt
tracemalloc.start(5)
Evil = type("<script>alert('type')</script>", (), {})
ns = {"Evil": Evil}
exec(compile("def make(i):\n    return Evil(), bytearray(64)\n",
             "<img src=x onerror=alert('file')>.py", "exec"), ns)
KEEP = {"<b onmouseover=alert('key')>": []}
for step in range(3):
    for i in range(400):
        KEEP["<b onmouseover=alert('key')>"].append(ns["make"](i))
    leakhunt.dump("%s/s%d.snap" % (sys.argv[1], step), step=step)
"#;

#[test]
fn strings_from_the_snapshot_are_escaped() {
    let Some(py) = python("3.11").or_else(|| python("3.12")) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let prog = tmp.path().join("hostile.py");
    std::fs::write(&prog, HOSTILE).expect("write program");
    let o = Command::new(&py)
        .arg(&prog)
        .arg(tmp.path())
        .env("PYTHONPATH", root().join("python"))
        .output()
        .expect("run python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let snaps: Vec<String> = (0..3)
        .map(|i| tmp.path().join(format!("s{i}.snap")).display().to_string())
        .collect();
    let mut args = vec!["report"];
    args.extend(snaps.iter().map(String::as_str));
    args.extend(["--format", "html"]);
    let page = html(&args);
    assert_self_contained(&page);
    for raw in ["<script>alert", "<img src=x", "<b onmouseover", "alert('"] {
        assert!(!page.contains(raw), "unescaped {raw}");
    }
    assert!(
        page.contains("&lt;script&gt;alert(&#39;type&#39;)"),
        "type name"
    );
    assert!(
        page.contains("&lt;b onmouseover=alert(&#39;key&#39;)"),
        "key"
    );
    assert!(page.contains("&lt;img src=x onerror="), "file name");
    let mut args = vec!["diff"];
    args.extend(snaps.iter().map(String::as_str));
    args.extend(["--format", "html"]);
    let page = html(&args);
    assert!(!page.contains("<script>alert") && !page.contains("<b onmouseover"));
}

/// Debian's Chromium, or None with the reason.
fn chromium() -> Option<PathBuf> {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return Some(PathBuf::from(c));
        }
    }
    eprintln!("SKIP headless Chromium: /usr/bin/chromium not installed (apt-get install chromium)");
    None
}

fn headless(chrome: &Path, profile: &Path, extra: &[String], page: &Path) -> (String, String) {
    let o = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn headless_chromium_renders_the_page_on_a_phone_with_a_clean_console() {
    let Some(chrome) = chromium() else { return };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_face");
    std::fs::create_dir_all(&out).expect("out dir");
    let source = testdata("demo").display().to_string();
    let page = html(&["report", &demo(), "--format", "html", "--source", &source]);
    let file = out.join("report.html");
    std::fs::write(&file, &page).expect("write page");
    let profile = tempfile::tempdir().expect("profile");
    let (dom, log) = headless(&chrome, profile.path(), &["--dump-dom".into()], &file);
    for part in [
        "chain-graph",
        "class=\"growth\"",
        "class=\"sites\"",
        "class=\"fix\"",
    ] {
        assert!(dom.contains(part), "rendered DOM lacks {part}: {log}");
    }
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console: {console:#?}");
    let shot = out.join("report-phone.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().expect("profile");
    let (_, log) = headless(
        &chrome,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=412,2400".into(),
        ],
        &file,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
