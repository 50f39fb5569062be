//! Analyses: one module per question; results are plain data, never printed here.

pub mod alloc_sites;
pub mod chain;
pub mod classify;
pub mod clock;
pub mod cycles;
pub mod dominators;
pub mod evidence;
pub mod growth;
pub mod identity;
pub mod leak_report;
pub mod paths;
pub mod phase;
pub mod snap_diff;
pub mod snap_stats;
pub mod source_join;
pub mod str_slots;
pub mod tm_compare;
pub mod tm_diff;
pub mod tm_filter;
pub mod tm_report;
pub mod why_alive;
