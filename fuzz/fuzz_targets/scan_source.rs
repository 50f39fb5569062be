//! Any bytes as a Python file through the source scan: parser, model, every rule, placement.
#![no_main]

use leakhunt::scan::{ScanOptions, scan_source};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = scan_source(Path::new("fuzz.py"), &text, &ScanOptions::default());
    for f in &r.findings {
        assert!(f.line >= 1 && f.col >= 1 && f.end_line >= f.line);
    }
});
