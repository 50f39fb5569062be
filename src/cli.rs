//! Command-line interface: parse arguments (clap derive) and wire input → analysis → report.

use crate::analysis::snap_stats;
use crate::analysis::tm_compare::{GroupBy, GroupOptions};
use crate::analysis::tm_diff::{self, TmView};
use crate::analysis::tm_filter::{Glob, TraceFilter};
use crate::error::{Error, Result};
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
    /// Two snapshots, oldest first
    #[arg(required = true, num_args = 2.., value_name = "SNAPSHOT")]
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

fn render(view: &TmView, g: &GroupArgs) -> String {
    match g.format {
        Format::Table => report::table::tm_view(view, g.top),
        Format::Json => report::json::tm_view(view, g.top),
        Format::Markdown => report::markdown::tm_view(view, g.top),
    }
}

fn load_tm<'a>(src: &'a Source, progress: &Progress) -> Result<TmSnapshot<'a>> {
    let bar = progress.bytes(&src.path().display().to_string(), src.bytes().len() as u64);
    let snap = tracemalloc::load(src, &mut |at| bar.set_position(at));
    bar.finish_and_clear();
    snap
}

fn require_tracemalloc(src: &Source) -> Result<()> {
    match input::detect(src.bytes()) {
        InputKind::Tracemalloc => Ok(()),
        InputKind::Snap => Err(Error::file(
            src.path(),
            "is a leakhunt .snap object graph: `stats` reads it; diffing object graphs is not built yet",
        )),
    }
}

fn diff(a: &DiffArgs, progress: &Progress) -> Result<(String, i32)> {
    let opts = options(&a.group)?;
    if a.files.len() != 2 {
        return Err(Error::usage(format!(
            "a tracemalloc diff compares exactly two dumps, got {}",
            a.files.len()
        )));
    }
    let old_src = Source::open(&a.files[0])?;
    let new_src = Source::open(&a.files[1])?;
    require_tracemalloc(&old_src)?;
    require_tracemalloc(&new_src)?;
    // Two files, two cores: read them side by side.
    let (old, new) = std::thread::scope(|s| {
        let h = s.spawn(|| load_tm(&new_src, progress));
        let old = load_tm(&old_src, progress);
        let new = h
            .join()
            .unwrap_or_else(|_| Err(Error::file(new_src.path(), "reader thread failed")));
        (old, new)
    });
    let (old, new) = (old?, new?);
    let view = tm_diff::diff((a.files[0].clone(), &old), (a.files[1].clone(), &new), opts);
    Ok((render(&view, &a.group), 0))
}

fn stats(a: &StatsArgs, progress: &Progress) -> Result<(String, i32)> {
    let opts = options(&a.group)?;
    let src = Source::open(&a.file)?;
    if input::detect(src.bytes()) == InputKind::Snap {
        let graph = snap::load(&src)?;
        let s = snap_stats::stats(a.file.clone(), &graph);
        let text = match a.group.format {
            Format::Table => report::table::snap_stats(&s, a.group.top),
            Format::Json => report::json::snap_stats(&s, a.group.top),
            Format::Markdown => report::markdown::snap_stats(&s, a.group.top),
        };
        return Ok((text, 0));
    }
    let snap = load_tm(&src, progress)?;
    let view = tm_diff::statistics((a.file.clone(), &snap), opts);
    Ok((render(&view, &a.group), 0))
}
