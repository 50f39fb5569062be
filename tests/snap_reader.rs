//! The `.snap` reader: round trips, and every kind of bad file gives an error with an offset,
//! never a panic, an out-of-bounds read or a huge allocation.

mod common;

use common::*;
use leakhunt::graph::{HeapGraph, kind};
use leakhunt::input::snap::{self, layout, writer};

fn small() -> Vec<u8> {
    writer::synthetic(60, 7).to_bytes()
}

/// Recompute the trailer's CRC after editing a file, so structural checks are reached.
fn fix_crc(b: &mut [u8]) {
    let body = b.len() - 32;
    let crc = crc32fast::hash(&b[..body]);
    b[body + 24..body + 28].copy_from_slice(&crc.to_le_bytes());
}

fn dir_entry(b: &[u8], sid: u32) -> usize {
    let count = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    (0..count)
        .map(|k| 64 + 32 * k)
        .find(|&at| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) == sid)
        .expect("section present")
}

fn section_offset(b: &[u8], sid: u32) -> usize {
    let at = dir_entry(b, sid);
    u64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap()) as usize
}

#[test]
fn synthetic_round_trip() {
    let w = writer::synthetic(1000, 3);
    let bytes = w.to_bytes();
    let g = snap::read(&bytes).unwrap();
    assert_eq!(g.object_count(), 1000);
    assert_eq!(g.addr, &w.addr[..]);
    assert_eq!(g.edge_target, &w.edge_target[..]);
    for i in 0..1000u32 {
        let r = g.edge_range(i);
        assert_eq!(r.start as u64, w.edge_offsets[i as usize]);
    }
    assert_eq!(g.type_name(3), "app.models.Request");
    assert_eq!(g.root_count(), 1);
    assert_eq!(g.strings.get(g.root(0).name), "app.main");
}

#[test]
fn petgraph_algorithms_run_on_the_mapped_graph() {
    let bytes = writer::synthetic(5000, 11).to_bytes();
    let g: HeapGraph = snap::read(&bytes).unwrap();
    let mut dfs = petgraph::visit::Dfs::new(&g, 0u32);
    let mut seen = 0;
    while dfs.next(&g).is_some() {
        seen += 1;
    }
    assert_eq!(seen, 5000, "the tree reaches every object from the root");
    let doms = petgraph::algo::dominators::simple_fast(&g, 0u32);
    assert_eq!(doms.immediate_dominator(0), None);
    assert!(doms.immediate_dominator(4999).is_some());
}

#[test]
fn every_truncation_is_an_error() {
    let good = small();
    assert!(snap::read(&good).is_ok());
    for cut in 0..good.len() {
        let e = snap::read(&good[..cut])
            .err()
            .unwrap_or_else(|| panic!("cut at {cut} accepted"));
        assert!(e.offset <= cut as u64, "cut {cut}: offset {}", e.offset);
    }
}

#[test]
fn flipped_bytes_are_caught_and_never_panic() {
    let good = small();
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..3000 {
        let mut b = good.clone();
        let i = (rnd() % b.len() as u64) as usize;
        let old = b[i];
        b[i] ^= (rnd() % 255 + 1) as u8;
        assert_ne!(b[i], old);
        // Half the time repair the CRC so the structural checks see the damage.
        if round % 2 == 0 && i < b.len() - 32 {
            fix_crc(&mut b);
        } else if i < b.len() - 4 {
            // (the trailer's last 4 bytes are reserved and ignored by design)
            assert!(snap::read(&b).is_err(), "flip at {i} not detected");
        }
        let _ = snap::read(&b);
    }
}

#[test]
fn hostile_counts_and_ids_are_refused_with_offsets() {
    let good = small();
    // An edge pointing at an object that does not exist.
    let mut b = good.clone();
    let at = section_offset(&b, layout::id::EDGE_TARGET);
    b[at..at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    fix_crc(&mut b);
    let e = snap::read(&b).err().unwrap();
    assert_eq!(e.offset, at as u64);
    assert!(e.message.contains("edge target"), "{}", e.message);
    // A count that claims far more elements than the file holds.
    let mut b = good.clone();
    let entry = dir_entry(&b, layout::id::OBJ_ADDR);
    b[entry + 16..entry + 24].copy_from_slice(&(u64::MAX / 4).to_le_bytes());
    fix_crc(&mut b);
    let e = snap::read(&b).err().unwrap();
    assert_eq!(e.offset, entry as u64 + 24);
    // A consistent count and length that point past the end.
    let mut b = good.clone();
    b[entry + 16..entry + 24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    b[entry + 24..entry + 32].copy_from_slice(&(8u64 << 40).to_le_bytes());
    fix_crc(&mut b);
    let e = snap::read(&b).err().unwrap();
    assert!(e.message.contains("inside bytes"), "{}", e.message);
    // Wrong magic, wrong version, wrong size.
    let mut b = good.clone();
    b[8] = 3;
    assert!(
        snap::read_any(&b, &std::sync::OnceLock::new())
            .err()
            .unwrap()
            .message
            .contains("version 1 or 2")
    );
    let mut b = good.clone();
    b.extend_from_slice(&[0; 8]);
    assert_eq!(snap::read(&b).err().unwrap().offset, 16);
    // Decreasing CSR offsets.
    let mut b = good.clone();
    let at = section_offset(&b, layout::id::EDGE_OFFSETS);
    b[at + 8..at + 16].copy_from_slice(&40u64.to_le_bytes());
    fix_crc(&mut b);
    let e = snap::read(&b).err().unwrap();
    assert!(e.message.contains("EDGE_OFFSETS"), "{}", e.message);
    // A string label that is no string.
    let mut b = good.clone();
    let kinds = section_offset(&b, layout::id::EDGE_KIND);
    let labels = section_offset(&b, layout::id::EDGE_LABEL);
    let e_idx = (0..60).find(|&e| b[kinds + e] == kind::ATTRIBUTE).unwrap();
    b[labels + 4 * e_idx..labels + 4 * e_idx + 4].copy_from_slice(&999_999u32.to_le_bytes());
    fix_crc(&mut b);
    let e = snap::read(&b).err().unwrap();
    assert_eq!(e.offset, (labels + 4 * e_idx) as u64);
}

#[test]
fn the_binary_reports_bad_snaps_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = small();
    let p = dir.path().join("cut.snap");
    std::fs::write(&p, &good[..good.len() / 2]).unwrap();
    let out = leakhunt(["stats".as_ref(), p.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("cut.snap: at byte 16"), "{err}");
    let p = dir.path().join("good.snap");
    std::fs::write(&p, &good).unwrap();
    let out = leakhunt([
        "stats".as_ref(),
        p.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["objects"], 60);
    assert_eq!(doc["schema"], "leakhunt.snap-stats/1");
}

/// A real version-2 file (CPython 3.12's known graph): the image resolves, and every cut
/// and flipped byte of the file is an error naming a byte of it, never a panic.
#[test]
fn version_two_files_resolve_and_bad_ones_are_refused() {
    let good = std::fs::read(testdata("snap/known-3.12.snap")).unwrap();
    assert_eq!(u32::from_le_bytes(good[8..12].try_into().unwrap()), 2);
    let store = std::sync::OnceLock::new();
    let g = snap::read_any(&good, &store).unwrap();
    assert_eq!(g.meta["file_format_version"], 2);
    assert_eq!(g.meta["dangling_edges"], 0);
    assert_eq!(g.meta["duplicate_objects"], 0);
    let step = (good.len() / 3000).max(1);
    for cut in (0..good.len()).step_by(step) {
        let e = snap::read_any(&good[..cut], &std::sync::OnceLock::new())
            .err()
            .unwrap_or_else(|| panic!("cut at {cut} accepted"));
        assert!(e.offset <= cut as u64, "cut {cut}: offset {}", e.offset);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut b = good.clone();
        let i = (rnd() % (b.len() as u64 - 32)) as usize;
        b[i] ^= (rnd() % 255 + 1) as u8;
        let store = std::sync::OnceLock::new();
        assert!(
            snap::read_any(&b, &store).is_err(),
            "flip at {i} not detected"
        );
        fix_crc(&mut b);
        let store = std::sync::OnceLock::new();
        if let Ok(g) = snap::read_any(&b, &store) {
            for o in 0..g.object_count() as u32 {
                for e in g.edge_range(o) {
                    let _ = g.edge_label_text(e);
                }
            }
        }
    }
}

/// Duplicate records and edges to unknown addresses (objects born during the walk) are
/// merged and dropped, and counted in META.
#[test]
fn version_two_duplicates_and_dangling_edges() {
    let mut b = std::fs::read(testdata("snap/known-3.12.snap")).unwrap();
    let addr = section_offset(&b, layout::id::OBJ_ADDR);
    let targets = section_offset(&b, layout::id::EDGE_TARGET_ADDR);
    let first = b[addr..addr + 8].to_vec();
    // record 1 claims record 0's address; edge 0 points nowhere
    b.copy_within(addr..addr + 8, addr + 8);
    b[targets..targets + 8].copy_from_slice(&0xdead_beefu64.to_le_bytes());
    fix_crc(&mut b);
    let store = std::sync::OnceLock::new();
    let g = snap::read_any(&b, &store).unwrap();
    assert_eq!(g.meta["duplicate_objects"], 1);
    assert!(g.meta["dangling_edges"].as_u64().unwrap() >= 1);
    assert_eq!(&g.addr[0].to_le_bytes()[..], &first[..]);
}
