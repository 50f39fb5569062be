//! A target program driven line by line from stdin, and what tests read of its snapshots.

use super::{leakhunt, testdata};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The registry program's leak, as `report` names it.
pub const LEAK_CHAIN: &str = "module __main__ -> _REGISTRY (dict) -> [*] (__main__.Request)";

/// The registry program (testdata/programs/stdin_leaker.py).
pub fn leaker() -> PathBuf {
    testdata("programs/stdin_leaker.py")
}

/// The top finding's chain for the snapshots in `dir`, as `leakhunt report` gives it (the
/// registry program's finding must be an unbounded collection).
pub fn top_chain(dir: &Path) -> String {
    let out = leakhunt([
        "report".as_ref(),
        dir.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "report {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report json");
    assert_eq!(v["findings"][0]["kind"], "unbounded_collection", "{v:#}");
    v["findings"][0]["chain_text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Sequence numbers of the snapshots in `dir`, ascending.
pub fn seqs(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let body = name.strip_prefix("snap-")?.strip_suffix(".snap")?;
            body.split('-').next()?.parse().ok()
        })
        .collect();
    v.sort();
    v
}

/// A running target: its stdin, its stdout lines, its stderr so far.
pub struct Target {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    /// The Python process's pid (from its first line)
    pub pid: i32,
}

impl Target {
    pub fn start(mut cmd: Command) -> Target {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn target");
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                let mut s = sink.lock().expect("stderr lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut t = Target {
            child,
            stdin,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
            pid: 0,
        };
        let first = t.line();
        t.pid = first
            .strip_prefix("pid ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("first line {first:?}; stderr: {}", t.err()));
        t
    }

    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no line from the target; stderr: {}", self.err()))
    }

    /// Send one command and return its answer line.
    pub fn send(&mut self, cmd: &str) -> String {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{cmd}").expect("write to target");
        stdin.flush().expect("flush");
        self.line()
    }

    pub fn err(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Send `exit N` (or close stdin) and wait: the exit status code.
    pub fn finish(mut self, cmd: Option<&str>) -> (Option<i32>, String) {
        if let Some(c) = cmd {
            let stdin = self.stdin.as_mut().expect("stdin open");
            writeln!(stdin, "{c}").expect("write to target");
        }
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        if let Some(r) = self.stderr_reader.take() {
            let _ = r.join();
        }
        (status.code(), self.err())
    }
}
