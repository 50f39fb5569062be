//! `.snap` load (validation + CRC + zero-copy views) on a synthetic 1M-object heap, in MB/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakhunt::input::snap::{self, writer};
use std::hint::black_box;

fn reader(c: &mut Criterion) {
    let bytes = writer::synthetic(1_000_000, 42).to_bytes();
    let mut g = c.benchmark_group("snap_reader");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read 1M objects", |b| {
        b.iter(|| snap::read(black_box(&bytes)).map(|g| g.object_count()))
    });
    g.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
