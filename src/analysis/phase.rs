//! Phase timings for profiling: with `LEAKHUNT_PHASES` set, [`mark`] writes to stderr how long
//! the work since the previous mark took; otherwise it does nothing.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

thread_local! {
    static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Whether phase timings were asked for.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LEAKHUNT_PHASES").is_some())
}

/// End the current phase, named `name` (a diagnostic on stderr, only when enabled).
pub fn mark(name: &str) {
    if !enabled() {
        return;
    }
    let now = Instant::now();
    if let Some(t) = LAST.with(|l| l.replace(Some(now))) {
        let huge = std::fs::read_to_string("/proc/self/smaps_rollup")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("AnonHugePages:"))
                    .map(|l| l.trim_start_matches("AnonHugePages:").trim().to_string())
            })
            .unwrap_or_default();
        eprintln!(
            "phase {name}: {:.3} s (huge pages {huge})",
            (now - t).as_secs_f64()
        );
    }
}
