//! Progress bars on a terminal for long reads; silent when stderr is not a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Files smaller than this read too fast to need a bar.
pub const MIN_BYTES: u64 = 4 << 20;

/// A set of bars drawn together on stderr.
pub struct Progress {
    multi: MultiProgress,
    enabled: bool,
}

impl Progress {
    /// Bars on stderr when it is a terminal, nothing otherwise.
    pub fn new() -> Self {
        let enabled = std::io::stderr().is_terminal();
        let target = if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            enabled,
        }
    }

    /// A byte-count bar for reading `len` bytes of `name` (hidden for small files).
    pub fn bytes(&self, name: &str, len: u64) -> ProgressBar {
        if !self.enabled || len < MIN_BYTES {
            return ProgressBar::hidden();
        }
        let bar = self.multi.add(ProgressBar::new(len));
        let style = ProgressStyle::with_template(
            "{msg:30!} [{bar:30}] {binary_bytes}/{binary_total_bytes} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()) // ok: constant template
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(name.to_string());
        bar
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}
