//! The dumper's own tests (python/tests, plain unittest) under every CPython 3.8–3.13 present;
//! absent versions print a SKIP line.

mod common;

#[test]
fn dumper_tests_pass_on_every_installed_cpython() {
    let script = common::root().join("python/tests/run_all.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .expect("run bash");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "dumper tests failed:\n{text}");
    assert!(
        text.contains("== CPython") || text.contains("SKIP"),
        "no interpreter ran:\n{text}"
    );
}
