//! Bad input never panics: every cut, flip, hostile or wrong-kind file gives one error line
//! naming the file and a byte offset, and exit code 2; nothing in a pickle is ever executed.

mod common;

use common::*;
use leakhunt::input::tracemalloc;
use std::path::Path;

fn assert_one_line_error(args: &[&std::ffi::OsStr], what: &str, must_contain: &[&str]) {
    let out = leakhunt(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code; stderr {err}"
    );
    assert!(!err.contains("panicked"), "{what}: panic: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{what}: one line expected, got {err}"
    );
    for s in must_contain {
        assert!(err.contains(s), "{what}: {s:?} not in {err}");
    }
    assert!(out.stdout.is_empty(), "{what}: no output on error");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn tiny() -> Vec<u8> {
    std::fs::read(testdata("tracemalloc/3.12/tiny.pickle")).unwrap()
}

#[test]
fn every_truncation_of_a_real_dump_is_an_error_with_an_offset() {
    for v in VERSIONS {
        let good = std::fs::read(testdata(&format!("tracemalloc/{v}/tiny.pickle"))).unwrap();
        assert!(
            tracemalloc::read(&good, &mut |_| {}).is_ok(),
            "{v}: the whole file reads"
        );
        for cut in 0..good.len() {
            let e = tracemalloc::read(&good[..cut], &mut |_| {}).err();
            let e = e.unwrap_or_else(|| panic!("{v}: cut at {cut} was accepted"));
            assert!(
                e.offset <= cut as u64,
                "{v}: cut {cut}: offset {} past the end",
                e.offset
            );
            assert!(
                e.message.starts_with("expected"),
                "{v}: cut {cut}: {}",
                e.message
            );
        }
    }
}

#[test]
fn random_byte_flips_never_panic() {
    let good = std::fs::read(testdata("tracemalloc/3.11/a.pickle")).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for _ in 0..2000 {
        let mut b = good.clone();
        for _ in 0..(1 + next() % 4) {
            let i = (next() % b.len() as u64) as usize;
            b[i] = next() as u8;
        }
        if let Err(e) = tracemalloc::read(&b, &mut |_| {}) {
            assert!(e.offset <= b.len() as u64);
            assert!(!e.message.contains('\n'));
            errors += 1;
        }
    }
    assert!(errors > 0, "some flips must be detected");
}

#[test]
fn cut_files_fail_through_the_binary_too() {
    let dir = tempfile::tempdir().unwrap();
    let good = tiny();
    let other = testdata("tracemalloc/3.12/b.pickle");
    for cut in [1, 2, 10, good.len() / 2, good.len() - 1] {
        let p = write(dir.path(), "cut.pickle", &good[..cut]);
        assert_one_line_error(
            &["diff".as_ref(), p.as_os_str(), other.as_os_str()],
            &format!("cut at {cut}"),
            &["cut.pickle", "at byte", "expected"],
        );
    }
}

#[test]
fn hostile_pickles_are_refused_by_name_and_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("PWNED");
    let m = marker.display().to_string();
    let other = testdata("tracemalloc/3.12/b.pickle");
    // What pickle.dumps writes for these, byte for byte.
    let proto0 = format!("cos\nsystem\n(S'touch {m}'\ntR.").into_bytes();
    let mut proto5 =
        b"\x80\x05\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
            .to_vec();
    let arg = format!("touch {m}");
    proto5.push(0x8c);
    proto5.push(arg.len() as u8);
    proto5.extend_from_slice(arg.as_bytes());
    proto5.extend_from_slice(b"\x94\x85\x94R\x94.");
    let eval4 = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x011\x94\x85\x94\x86\x94.".to_vec();
    for (name, bytes, global, offset) in [
        ("proto0", proto0, "os.system", "at byte 0"),
        ("proto5", proto5, "posix.system", "at byte 28"),
        ("eval", eval4, "builtins.eval", "at byte 29"),
    ] {
        let p = write(dir.path(), &format!("{name}.pickle"), &bytes);
        assert_one_line_error(
            &["diff".as_ref(), p.as_os_str(), other.as_os_str()],
            name,
            &[global, offset, "refusing"],
        );
        assert!(!marker.exists(), "{name}: code ran");
    }
}

#[test]
fn a_plain_dict_pickle_is_the_wrong_kind() {
    let dir = tempfile::tempdir().unwrap();
    // pickle.dumps({"traces": []}, protocol=5)
    let bytes = b"\x80\x05\x95\x0f\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x06traces\x94]\x94s.";
    let p = write(dir.path(), "dict.pickle", bytes);
    let other = testdata("tracemalloc/3.12/b.pickle");
    assert_one_line_error(
        &["diff".as_ref(), p.as_os_str(), other.as_os_str()],
        "plain dict",
        &[
            "dict.pickle",
            "at byte 25",
            "expected a tracemalloc.Snapshot",
            "found dict",
        ],
    );
}

#[test]
fn empty_missing_directory_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let other = testdata("tracemalloc/3.12/b.pickle");
    let empty = write(dir.path(), "empty.pickle", b"");
    let text = write(dir.path(), "notes.txt", b"hello world\n");
    let missing = dir.path().join("missing.pickle");
    for (p, what, needles) in [
        (
            empty,
            "empty",
            vec!["empty.pickle", "at byte 0", "an empty file"],
        ),
        (
            missing,
            "missing",
            vec!["missing.pickle", "at byte 0", "no such file"],
        ),
        (
            dir.path().to_path_buf(),
            "directory",
            vec!["at byte 0", "a directory"],
        ),
        (text, "text", vec!["notes.txt", "at byte 0", "expected"]),
    ] {
        assert_one_line_error(
            &["diff".as_ref(), p.as_os_str(), other.as_os_str()],
            what,
            &needles,
        );
        assert_one_line_error(&["stats".as_ref(), p.as_os_str()], what, &needles);
    }
}

#[test]
fn cumulative_traceback_is_a_usage_error() {
    let a = testdata("tracemalloc/3.12/a.pickle");
    assert_one_line_error(
        &[
            "diff".as_ref(),
            a.as_os_str(),
            a.as_os_str(),
            "--group-by".as_ref(),
            "traceback".as_ref(),
            "--cumulative".as_ref(),
        ],
        "cumulative traceback",
        &["--cumulative"],
    );
}
