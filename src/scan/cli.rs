//! The `leakhunt scan` command line: its arguments and its handler.

use super::{ScanOptions, ScanResult, scan_paths};
use crate::error::{Error, Result};
use crate::leak_kind::LeakKind;
use crate::report::{self, Format};
use clap::Args;
use std::path::PathBuf;

/// Exit code when a finding matches `--fail-on`.
pub const EXIT_FINDINGS: i32 = 3;

/// Arguments of `leakhunt scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Python files or directories (walked for .py files)
    #[arg(required = true, num_args = 1.., value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output face: table, json, markdown (the report layout) or sarif (SARIF 2.1.0)
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Report only these kinds (comma-separated, e.g. cache_no_eviction,unclosed_resource)
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Never report these kinds (comma-separated)
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Exit 3 when a reported finding is of these kinds ("any" for every kind)
    #[arg(long, value_name = "any|KINDS", value_delimiter = ',')]
    pub fail_on: Vec<String>,
}

fn kinds(names: &[String], flag: &str) -> Result<Vec<LeakKind>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            LeakKind::parse(n).ok_or_else(|| {
                let all: Vec<&str> = LeakKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::usage(format!(
                    "{flag}: unknown kind {:?} (kinds: {})",
                    n.trim(),
                    all.join(", ")
                ))
            })
        })
        .collect()
}

/// The options a command line asks for.
pub fn options(a: &ScanArgs) -> Result<ScanOptions> {
    let select = kinds(&a.select, "--select")?;
    Ok(ScanOptions {
        select: (!select.is_empty()).then_some(select),
        ignore: kinds(&a.ignore, "--ignore")?,
    })
}

/// The exit code for a result under `--fail-on`.
pub fn exit_code(result: &ScanResult, fail_on: &[String]) -> Result<i32> {
    if fail_on.is_empty() {
        return Ok(0);
    }
    let any = fail_on.iter().any(|f| f.trim() == "any");
    let wanted = if any {
        LeakKind::ALL.to_vec()
    } else {
        kinds(fail_on, "--fail-on")?
    };
    let hit = result.findings.iter().any(|f| wanted.contains(&f.kind));
    Ok(if hit { EXIT_FINDINGS } else { 0 })
}

/// Run a scan: the text to print on stdout and the exit code. Syntax errors go to stderr,
/// one line each, as they are part of the run's diagnostics, not of its report.
pub fn run(a: &ScanArgs) -> Result<(String, i32)> {
    let opts = options(a)?;
    let code_check = exit_code(&ScanResult::default(), &a.fail_on)?;
    let _ = code_check;
    let result = scan_paths(&a.paths, &opts)?;
    for e in &result.syntax_errors {
        eprintln!("{e}");
    }
    let text = match a.format {
        Format::Table => report::scan::table(&result),
        Format::Json => report::scan::json(&result),
        Format::Markdown => report::scan::markdown(&result),
        Format::Sarif => report::sarif::scan(&result),
        Format::Dot | Format::Html => {
            return Err(Error::usage(
                "--format dot and html draw heap reports; scan speaks table, json, markdown or sarif",
            ));
        }
    };
    Ok((text, exit_code(&result, &a.fail_on)?))
}
