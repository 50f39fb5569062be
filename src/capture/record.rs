//! `leakhunt record -- CMD ARGS...`: run a Python program with the dumper started inside it.

use super::{duration, embed, signals, snapshots};
use crate::error::{Error, Result};
use clap::Args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `leakhunt record`.
#[derive(Args)]
pub struct RecordArgs {
    /// A snapshot every DURATION (30s, 5m, 1h); 0: only on the signal and at exit
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    every: String,
    /// Directory for the snapshots (default: leakhunt-YYYYmmdd-HHMMSS in the current directory)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Start tracemalloc with N frames, so snapshots carry allocation sites (slower target)
    #[arg(long, value_name = "N")]
    tracemalloc: Option<u32>,
    /// Walk the heap in the target itself instead of a forked child (longer pauses)
    #[arg(long)]
    no_fork: bool,
    /// Keep at most N snapshots: the first (the baseline), the newest, and the middle thinned
    /// evenly; 0 keeps all
    #[arg(long, default_value_t = 10, value_name = "N")]
    keep: u32,
    /// Thin the series the same way until its snapshots fit in SIZE (`500MB`, `2GiB`)
    #[arg(long, value_name = "SIZE")]
    max_disk: Option<String>,
    /// The signal that asks for one snapshot now ("none" for no handler)
    #[arg(long, default_value = "SIGUSR2", value_name = "SIGNAL")]
    signal: String,
    /// No snapshot when the target exits
    #[arg(long)]
    no_exit_snapshot: bool,
    /// The program and its arguments (`-- python app.py ...`)
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<OsString>,
}

/// Run the target; returns its exit code (128 + signal when a signal killed it).
pub fn run(a: &RecordArgs) -> Result<i32> {
    let every = duration::seconds("--every", &a.every)?;
    let signal = if a.signal.eq_ignore_ascii_case("none") {
        "none".to_string()
    } else {
        let num = signals::number(&a.signal).ok_or_else(|| {
            let names: Vec<&str> = signals::FORWARDED.iter().map(|(n, _)| *n).collect();
            Error::usage(format!(
                "--signal: {:?} is not one of {} or none",
                a.signal,
                names.join(", ")
            ))
        })?;
        signals::FORWARDED
            .iter()
            .find(|(_, n)| *n == num)
            .map(|(name, _)| name.to_string())
            .unwrap_or_default()
    };
    let max_disk = match &a.max_disk {
        Some(text) => Some(crate::text::parse_size(text).ok_or_else(|| {
            Error::usage(format!(
                "--max-disk: expected a size such as 500MB or 2GiB, found {text:?}"
            ))
        })?),
        None => None,
    };
    let out = match &a.out {
        Some(o) => o.clone(),
        None => PathBuf::from(format!("leakhunt-{}", stamp())),
    };
    std::fs::create_dir_all(&out).map_err(|e| Error::file(&out, format!("cannot create: {e}")))?;
    let out = std::fs::canonicalize(&out).map_err(|e| Error::file(&out, e.to_string()))?;
    let pydir = embed::python_dir()?;
    let before = snapshots(&out).last().map_or(0, |s| s.0);

    let (program, args) = a
        .command
        .split_first()
        .ok_or_else(|| Error::usage("no command"))?; // ok: required
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("PYTHONPATH", python_path(&pydir))
        .env("LEAKHUNT_OUT", &out)
        .env("LEAKHUNT_EVERY", format!("{every}"))
        .env("LEAKHUNT_SIGNAL", &signal)
        .env("LEAKHUNT_FORK", if a.no_fork { "0" } else { "1" })
        .env("LEAKHUNT_KEEP", a.keep.to_string())
        .env(
            "LEAKHUNT_AT_EXIT",
            if a.no_exit_snapshot { "0" } else { "1" },
        )
        .env_remove("LEAKHUNT_OWNER");
    match max_disk {
        Some(bytes) => cmd.env("LEAKHUNT_MAX_DISK", bytes.to_string()),
        None => cmd.env_remove("LEAKHUNT_MAX_DISK"),
    };
    match a.tracemalloc {
        Some(n) => cmd.env("LEAKHUNT_TRACEMALLOC", n.to_string()),
        None => cmd.env_remove("LEAKHUNT_TRACEMALLOC"),
    };
    let shown = Path::new(program).display().to_string();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("leakhunt: record: cannot run {shown}: {e}");
            return Ok(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    let pid = child.id() as libc::pid_t;
    if let Err(e) = signals::forward_to(pid) {
        eprintln!("leakhunt: record: signals will not be forwarded: {e}");
    }
    let when = if every > 0.0 {
        format!("every {}, ", a.every.trim())
    } else {
        String::new()
    };
    let on_signal = if signal == "none" {
        String::new()
    } else {
        format!(
            "on {signal} (kill -{} {pid}), ",
            signal.trim_start_matches("SIG")
        )
    };
    eprintln!(
        "leakhunt: recording {shown} (pid {pid}) into {}: {when}{on_signal}{}",
        out.display(),
        if a.no_exit_snapshot {
            "not at exit"
        } else {
            "and at exit"
        }
    );
    let status = child
        .wait()
        .map_err(|e| Error::usage(format!("record: waiting for {shown}: {e}")))?;
    let code = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(c), _) => c,
        (None, Some(sig)) => signals::exit_code_for(sig),
        (None, None) => 1,
    };
    let now = snapshots(&out).iter().filter(|s| s.0 > before).count();
    if now > 0 {
        eprintln!(
            "leakhunt: {} snapshot{} in {} (leakhunt report {})",
            now,
            if now == 1 { "" } else { "s" },
            out.display(),
            out.display()
        );
    } else {
        eprintln!(
            "leakhunt: no snapshot was written to {}: was the target a CPython 3.8-3.13 \
             started without -I, -E or -S (they ignore PYTHONPATH)?",
            out.display()
        );
    }
    Ok(code)
}

/// PYTHONPATH for the target: the embedded dumper first, then whatever was there.
fn python_path(pydir: &Path) -> OsString {
    let mut p = OsString::from(pydir.as_os_str());
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|o| !o.is_empty()) {
        p.push(":");
        p.push(old);
    }
    p
}

/// Local time as YYYYmmdd-HHMMSS (UTC when the offset is unknown).
fn stamp() -> String {
    let mut t: libc::time_t = 0;
    // SAFETY: time() and localtime_r() write into the locals passed.
    let tm = unsafe {
        libc::time(&mut t);
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        tm
    };
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}
