//! The report's accuracy on the blind corpus of testdata/accuracy/: every program is run on
//! CPython 3.12 (3.11 when numpy and matplotlib are not importable on 3.12) with allocation
//! sites traced, `leakhunt report` reads its three snapshots,
//! and four fields of the top finding (kind, leaking type, retainer, allocation site) are
//! scored against the truth written in the program. Each field must be right in at least
//! 95% of the leaking programs, and every clean program must give no finding.

mod common;

use std::process::Command;

#[test]
fn blind_corpus_scores_at_least_95_percent_on_every_field() {
    let Some(py) = common::python("3.12").or_else(|| common::python("3.11")) else {
        return; // `python` printed the SKIP line
    };
    // score.py picks the interpreter the programs run on (3.12 with numpy and matplotlib,
    // else 3.11); programs whose imports fail there are skipped with the reason.
    let score = common::testdata("accuracy/score.py");
    let out = Command::new(&py)
        .arg(&score)
        .args(["--min", "95", "--jobs", "2"])
        .arg("--leakhunt")
        .arg(env!("CARGO_BIN_EXE_leakhunt"))
        .output()
        .expect("run score.py");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("negatives clean"),
        "score.py printed no summary"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a field scored under 95% or a clean program had a finding:\n{text}"
    );
}
