//! Any bytes as the ELF file behind a mapping: `attach`'s symbol lookup must never panic.
#![no_main]

use leakhunt::capture::inject::elf::{Mapping, addresses};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let maps = [
        Mapping {
            start: 0x7f00_0000_0000,
            offset: 0,
            path: "/fuzz/libpython3.11.so".into(),
        },
        Mapping {
            start: 0x7f00_0000_4000,
            offset: 0x4000,
            path: "/fuzz/libpython3.11.so".into(),
        },
    ];
    let names = ["PyGILState_Ensure", "PyRun_SimpleString", "mmap", ""];
    let got = addresses(data, &maps, "/fuzz/libpython3.11.so", &names);
    assert_eq!(got.len(), names.len());
});
