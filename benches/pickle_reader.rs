//! Throughput of the tracemalloc pickle reader (MB/s) on real dumps from testdata/.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakhunt::input::tracemalloc;
use std::hint::black_box;

fn reader(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracemalloc_reader");
    for v in ["3.8", "3.11", "3.13"] {
        let path = format!(
            "{}/testdata/tracemalloc/{v}/c.pickle",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("read {v}/c.pickle"), |b| {
            b.iter(|| tracemalloc::read(black_box(&bytes), &mut |_| {}).map(|s| s.trace_count))
        });
    }
    g.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
