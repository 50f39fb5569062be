//! Command-line interface: parse arguments (clap derive) and wire input → analysis → report.

use crate::analysis::tm_compare::{GroupBy, GroupOptions};
use crate::analysis::tm_diff::{self, TmView};
use crate::analysis::tm_filter::{Glob, TraceFilter};
use crate::analysis::{snap_diff, snap_stats, why_alive};
use crate::error::{Error, Result};
use crate::graph::HeapGraph;
use crate::input::tracemalloc::{self, TmSnapshot};
use crate::input::{self, InputKind, Source, snap};
use crate::progress::Progress;
use crate::report::{self, Format};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser)]
#[command(
    name = "leakhunt",
    version,
    about = "Find memory leaks in Python programs from offline heap snapshots",
    long_about = "Find memory leaks in Python programs from offline heap snapshots.\n\n\
        Reads tracemalloc.Snapshot.dump() files (never executing them) and leakhunt .snap object graphs. \
        The kind of each file is told from its bytes, not its name."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What grew between two snapshots (tracemalloc dumps: CPython's compare_to, exactly)
    Diff(DiffArgs),
    /// Summarise one snapshot: totals, traceback limit, top allocation sites
    Stats(StatsArgs),
    /// Why is this object alive: its chain from a root and its dominators (.snap)
    Path(PathArgs),
    /// Audit Python source for the ten leak kinds (exit 3 on a finding matching --fail-on)
    Scan(crate::scan::cli::ScanArgs),
    /// Run a Python program with snapshots on an interval, on SIGUSR2 and at exit
    Record(crate::capture::record::RecordArgs),
    /// Snapshots of a CPython process already running (through gdb)
    Attach(crate::capture::attach::AttachArgs),
    /// Print the directory holding the embedded `leakhunt` Python package
    PythonPath,
    /// Name each leak (ten kinds), fit its growth, and say how to fix it; a CI gate
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// Snapshots, oldest first: two or more .snap files or a directory of them, or two or
    /// more tracemalloc dumps
    #[arg(required = true, num_args = 1.., value_name = "SNAPSHOT")]
    files: Vec<PathBuf>,
    /// Output face (table, json or markdown)
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Show the first N findings; 0 shows all
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Also the findings below the line (a poor fit, or small beside the largest)
    #[arg(long)]
    all: bool,
    /// Exit 3 when a finding of these kinds passes --min-growth: `any` or KIND[,KIND]
    #[arg(long, value_name = "any|KIND,...")]
    fail_on: Option<String>,
    /// With --fail-on: only findings holding at least SIZE of new memory count (1MB, 512KiB)
    #[arg(long, value_name = "SIZE", default_value = "0")]
    min_growth: String,
    /// Source tree to read the code at each finding from, when the recorded paths are not
    /// there (repeatable); the file is found by the longest matching tail of its path
    #[arg(long, value_name = "DIR")]
    source: Vec<PathBuf>,
}

#[derive(Args)]
struct PathArgs {
    /// A .snap file
    #[arg(value_name = "SNAPSHOT")]
    file: PathBuf,
    /// The object's address, as id() printed it (0x7f3a1c2b4e10 or decimal)
    #[arg(value_name = "ADDRESS")]
    address: String,
    /// Output face (table or json)
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Key {
    /// The most recent frame's file and line
    Lineno,
    /// The most recent frame's file
    Filename,
    /// The whole traceback
    Traceback,
}

#[derive(Args)]
struct GroupArgs {
    /// Group allocations by this key, as tracemalloc's key_type
    #[arg(long, value_enum, default_value = "lineno")]
    group_by: Key,
    /// Count every frame of each traceback, not only the most recent (lineno and filename)
    #[arg(long)]
    cumulative: bool,
    /// Keep only traces whose most recent frame's file matches GLOB (fnmatch; repeatable)
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Drop traces whose most recent frame's file matches GLOB (fnmatch; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Match --include/--exclude against any frame of the traceback (tracemalloc's all_frames=True)
    #[arg(long)]
    all_frames: bool,
    /// Show the first N rows; 0 shows all
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Output face
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct DiffArgs {
    /// Snapshots, oldest first: two tracemalloc dumps, or two or more .snap files, or a
    /// directory of .snap files (ordered by step, then time)
    #[arg(required = true, num_args = 1.., value_name = "SNAPSHOT")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    group: GroupArgs,
}

#[derive(Args)]
struct StatsArgs {
    /// A snapshot
    #[arg(value_name = "SNAPSHOT")]
    file: PathBuf,
    #[command(flatten)]
    group: GroupArgs,
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    crate::memory::tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("leakhunt: error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let progress = Progress::new();
    let (text, code) = match cli.command {
        Command::Diff(a) => diff(&a, &progress)?,
        Command::Stats(a) => stats(&a, &progress)?,
        Command::Path(a) => path(&a)?,
        Command::Report(a) => leak_report(&a, &progress)?,
        Command::Record(a) => (String::new(), crate::capture::record::run(&a)?),
        Command::Attach(a) => (String::new(), crate::capture::attach::run(&a)?),
        Command::PythonPath => (crate::capture::python_path()?, 0),
        Command::Scan(a) => crate::scan::cli::run(&a)?,
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    Ok(code)
}

fn options(g: &GroupArgs) -> Result<GroupOptions> {
    let by = match g.group_by {
        Key::Lineno => GroupBy::Lineno,
        Key::Filename => GroupBy::Filename,
        Key::Traceback => GroupBy::Traceback,
    };
    if g.cumulative && !tm_diff::cumulative_allowed(by) {
        return Err(Error::usage(
            "--cumulative works with --group-by lineno or filename, not traceback (as in tracemalloc)",
        ));
    }
    Ok(GroupOptions {
        by,
        cumulative: g.cumulative,
        filter: TraceFilter {
            include: g.include.iter().map(|p| Glob::new(p)).collect(),
            exclude: g.exclude.iter().map(|p| Glob::new(p)).collect(),
            all_frames: g.all_frames,
        },
    })
}

fn render(view: &TmView, g: &GroupArgs) -> Result<String> {
    Ok(match g.format {
        Format::Table => report::table::tm_view(view, g.top),
        Format::Json => report::json::tm_view(view, g.top),
        Format::Markdown => report::markdown::tm_view(view, g.top),
        Format::Dot | Format::Sarif | Format::Html => {
            return Err(Error::usage(
                "--format dot and html draw object-graph (.snap) diffs and reports only; sarif is for scan",
            ));
        }
    })
}

fn load_tm<'a>(src: &'a Source, progress: &Progress) -> Result<TmSnapshot<'a>> {
    let bar = progress.bytes(&src.path().display().to_string(), src.bytes().len() as u64);
    let snap = tracemalloc::load(src, &mut |at| bar.set_position(at));
    bar.finish_and_clear();
    snap
}

/// Expand directories into the `.snap` files they hold, ordered by step, then time.
fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if !f.is_dir() {
            out.push(f.clone());
            continue;
        }
        let entries = std::fs::read_dir(f).map_err(|e| input::source::io_error(f, &e))?;
        let mut found: Vec<(Option<i64>, f64, PathBuf)> = Vec::new();
        for entry in entries.flatten() {
            let p = entry.path();
            if !p.is_file() {
                continue;
            }
            let Ok(src) = Source::open(&p) else { continue };
            if input::detect(src.bytes()) != InputKind::Snap {
                continue;
            }
            // Only the metadata here: diff validates each file fully when it loads it.
            let meta = snap::load_meta(&src)?;
            let step = meta.get("step").and_then(|v| v.as_i64());
            let time = meta.get("time").and_then(|v| v.as_f64()).unwrap_or(0.0);
            found.push((step, time, p));
        }
        if found.is_empty() {
            return Err(Error::expected(
                f,
                0,
                "a directory holding .snap files",
                "none",
            ));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
        out.extend(found.into_iter().map(|(_, _, p)| p));
    }
    Ok(out)
}

fn diff(a: &DiffArgs, progress: &Progress) -> Result<(String, i32)> {
    let files = expand(&a.files)?;
    let (sources, all_snap) = open_inputs(&files, "diff")?;
    if all_snap {
        return snap_diff(&files, &sources, &a.group);
    }
    let opts = options(&a.group)?;
    if files.len() != 2 {
        return Err(Error::usage(format!(
            "a tracemalloc diff compares exactly two dumps, got {}",
            files.len()
        )));
    }
    let (old_src, new_src) = (&sources[0], &sources[1]);
    // Two files, two cores: read them side by side.
    let (old, new) = std::thread::scope(|s| {
        let h = s.spawn(|| load_tm(new_src, progress));
        let old = load_tm(old_src, progress);
        let new = h
            .join()
            .unwrap_or_else(|_| Err(Error::file(new_src.path(), "reader thread failed")));
        (old, new)
    });
    let (old, new) = (old?, new?);
    let view = tm_diff::diff((files[0].clone(), &old), (files[1].clone(), &new), opts);
    Ok((render(&view, &a.group)?, 0))
}

fn snap_diff(files: &[PathBuf], sources: &[Source], g: &GroupArgs) -> Result<(String, i32)> {
    if files.len() < 2 {
        return Err(Error::usage(
            "an object-graph diff needs two or more .snap files",
        ));
    }
    let graphs = sources.iter().map(snap::load).collect::<Result<Vec<_>>>()?;
    same_process(files, &graphs)?;
    let refs: Vec<&HeapGraph> = graphs.iter().collect();
    let d = snap_diff::diff(files, &refs, g.top);
    let text = match g.format {
        Format::Table => report::table::snap_diff(&d, g.top),
        Format::Json => report::json::snap_diff(&d, g.top),
        Format::Markdown => report::markdown::snap_diff(&d, g.top),
        Format::Dot => report::dot::snap_diff(&d, g.top),
        Format::Html => report::diff_html::render(&d, g.top),
        Format::Sarif => return Err(Error::usage("--format sarif is for scan")),
    };
    Ok((text, 0))
}

fn path(a: &PathArgs) -> Result<(String, i32)> {
    let src = Source::open(&a.file)?;
    if input::detect(src.bytes()) != InputKind::Snap {
        return Err(Error::expected(
            &a.file,
            0,
            "a leakhunt .snap object graph",
            "another kind of file",
        ));
    }
    let g = snap::load(&src)?;
    let text = a.address.trim();
    let addr = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    }
    .map_err(|_| {
        Error::usage(format!(
            "not an address: {text:?} (expected 0x7f... or a decimal id())"
        ))
    })?;
    let obj =
        g.addr.iter().position(|&x| x == addr).ok_or_else(|| {
            Error::usage(format!("no object at 0x{addr:x} in {}", a.file.display()))
        })? as u32;
    let why = why_alive::explain(&g, obj);
    let out = match a.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&why).unwrap_or_default();
            s.push('\n');
            s
        }
        _ => why_alive::text(&why),
    };
    Ok((out, 0))
}

fn stats(a: &StatsArgs, progress: &Progress) -> Result<(String, i32)> {
    let opts = options(&a.group)?;
    let src = Source::open(&a.file)?;
    if input::detect(src.bytes()) == InputKind::Snap {
        let graph = snap::load(&src)?;
        let s = snap_stats::stats(a.file.clone(), &graph);
        let text = match a.group.format {
            Format::Table | Format::Dot | Format::Sarif | Format::Html => {
                report::table::snap_stats(&s, a.group.top)
            }
            Format::Json => report::json::snap_stats(&s, a.group.top),
            Format::Markdown => report::markdown::snap_stats(&s, a.group.top),
        };
        return Ok((text, 0));
    }
    let snap = load_tm(&src, progress)?;
    let view = tm_diff::statistics((a.file.clone(), &snap), opts);
    Ok((render(&view, &a.group)?, 0))
}

/// Exit code when `--fail-on` matched a finding.
pub const EXIT_GATE: i32 = 3;

fn leak_report(a: &ReportArgs, progress: &Progress) -> Result<(String, i32)> {
    use crate::analysis::leak_report;
    use crate::leak_kind::LeakKind;
    let min_growth = crate::text::parse_size(&a.min_growth).ok_or_else(|| {
        Error::usage(format!(
            "--min-growth: not a size: {:?} (expected 1MB, 512KiB, 4096...)",
            a.min_growth
        ))
    })?;
    let gate: Option<Vec<LeakKind>> = match a.fail_on.as_deref().map(str::trim) {
        None => None,
        Some("any") => Some(LeakKind::ALL.to_vec()),
        Some(list) => Some(
            list.split(',')
                .map(|k| {
                    LeakKind::parse(k).ok_or_else(|| {
                        Error::usage(format!(
                            "--fail-on: unknown kind {k:?} (expected any or one of {})",
                            LeakKind::ALL.map(|k| k.as_str()).join(", ")
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    let files = expand(&a.files)?;
    if files.len() < 2 {
        return Err(Error::usage(
            "a report compares two or more snapshots (three or more tell the growth pattern)",
        ));
    }
    let (sources, all_snap) = open_inputs(&files, "report on")?;
    for d in &a.source {
        if !d.is_dir() {
            return Err(Error::file(d, "--source: not a directory"));
        }
    }
    let (mut report, main_file) = if all_snap {
        let graphs = sources.iter().map(snap::load).collect::<Result<Vec<_>>>()?;
        same_process(&files, &graphs)?;
        let refs: Vec<&HeapGraph> = graphs.iter().collect();
        let main_file = graphs[graphs.len() - 1]
            .meta
            .get("argv")
            .and_then(|a| a.get(0))
            .and_then(|a| a.as_str())
            .map(str::to_string);
        (leak_report::from_snaps(&files, &refs), main_file)
    } else {
        let snaps = sources
            .iter()
            .map(|s| load_tm(s, progress))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&TmSnapshot> = snaps.iter().collect();
        (
            leak_report::from_tracemalloc(&files, &refs, &a.source),
            None,
        )
    };
    if a.all {
        leak_report::show_all(&mut report);
    }
    leak_report::join_source(&mut report, &a.source, main_file.as_deref());
    let text = match a.format {
        Format::Table => report::leak::table::render(&report, a.top),
        Format::Json => report::leak::json::render(&report, a.top),
        Format::Markdown => report::leak::markdown::render(&report, a.top),
        Format::Html => report::leak::html::render(&report, a.top),
        Format::Dot | Format::Sarif => {
            return Err(Error::usage(
                "report faces are table, json, markdown and html",
            ));
        }
    };
    let failed = gate.is_some_and(|kinds| {
        report
            .findings
            .iter()
            .any(|f| kinds.contains(&f.kind) && f.growth_bytes >= min_growth)
    });
    Ok((text, if failed { EXIT_GATE } else { 0 }))
}

/// Open every input and tell whether all are `.snap` graphs (else all are tracemalloc
/// dumps); a mix is refused, naming the first `.snap` among them. `verb` reads "diff".
fn open_inputs(files: &[PathBuf], verb: &str) -> Result<(Vec<Source>, bool)> {
    let sources = files
        .iter()
        .map(|f| Source::open(f))
        .collect::<Result<Vec<_>>>()?;
    let snap = |s: &Source| input::detect(s.bytes()) == InputKind::Snap;
    if sources.iter().all(snap) {
        return Ok((sources, true));
    }
    if let Some(i) = sources.iter().position(snap) {
        return Err(Error::file(
            &files[i],
            format!(
                "is a .snap object graph, the others are tracemalloc dumps: {verb} files of one kind"
            ),
        ));
    }
    Ok((sources, false))
}

/// Refuse snapshots of different processes.
fn same_process(files: &[PathBuf], graphs: &[HeapGraph]) -> Result<()> {
    // a pid alone can come back after a restart: its start time tells the two apart
    let who = |g: &HeapGraph| {
        (
            g.meta.get("pid").and_then(|v| v.as_u64()),
            g.meta
                .get("process_start")
                .and_then(|v| v.as_f64())
                .map(|t| t.round() as i64),
        )
    };
    let first = who(&graphs[0]);
    if let Some(i) = graphs.iter().position(|g| {
        let (pid, start) = who(g);
        pid != first.0 || (start.is_some() && first.1.is_some() && start != first.1)
    }) {
        let (pid, _) = who(&graphs[i]);
        let how = if pid == first.0 {
            format!(
                "comes from process {} started at another time than {}'s (the program was \
                 restarted between them)",
                pid.unwrap_or(0),
                files[0].display()
            )
        } else {
            format!(
                "comes from process {} but {} from process {}",
                pid.unwrap_or(0),
                files[0].display(),
                first.0.unwrap_or(0)
            )
        };
        return Err(Error::file(
            &files[i],
            format!(
                "{how}: a series needs snapshots of one process (analyse each process apart: \
                 leakhunt report FILE...)"
            ),
        ));
    }
    Ok(())
}
