//! leakhunt: find memory leaks in Python programs from offline heap snapshots.
//!
//! Data flows one way: [`input`] turns bytes into model values, [`analysis`] answers questions
//! about them, [`report`] renders the answers. [`cli`] wires the stages for the binary.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod error;
pub mod graph;
pub mod input;
pub mod leak_kind;
pub mod memory;
pub mod progress;
pub mod report;
pub mod scan;
pub mod text;
