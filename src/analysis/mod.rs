//! Analyses: one module per question; results are plain data, never printed here.

pub mod dominators;
pub mod snap_stats;
pub mod tm_compare;
pub mod tm_diff;
pub mod tm_filter;
