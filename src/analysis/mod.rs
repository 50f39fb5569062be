//! Analyses: one module per question; results are plain data, never printed here.

pub mod chain;
pub mod cycles;
pub mod dominators;
pub mod identity;
pub mod paths;
pub mod phase;
pub mod snap_diff;
pub mod snap_stats;
pub mod tm_compare;
pub mod tm_diff;
pub mod tm_filter;
pub mod why_alive;
