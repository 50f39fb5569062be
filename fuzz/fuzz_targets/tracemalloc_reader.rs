//! Any bytes through the tracemalloc pickle reader: errors are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = leakhunt::input::tracemalloc::read(data, &mut |_| {}) {
        // Walk what was read, as the diff would.
        for tb in 0..snap.traceback_count() as u32 {
            let _ = snap.traceback(tb);
        }
    }
});
