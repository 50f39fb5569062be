//! Dominators: leakhunt's Semi-NCA against petgraph's simple_fast on the same graphs, in one
//! run, printing times and ratios. `cargo run --release --example bench_dominators [-- N4 N10]`
//! (defaults: 4,000,000 and 10,000,000 objects, about 1.5 edges each).

use leakhunt::analysis::dominators::{Csr, dominators, of_heap};
use leakhunt::input::snap::{self, writer};
use std::time::Instant;

/// CPU seconds this process has used (all threads), to tell work from waiting on a busy box.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn ours(g: &leakhunt::graph::HeapGraph) -> (f64, f64, usize) {
    let (t, c) = (Instant::now(), cpu_seconds());
    let d = of_heap(g);
    let r = d.retained(g.size);
    (
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c,
        d.preorder().len() + r.len() % 2,
    )
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<u32>().ok());
    let n4 = args.next().unwrap_or(4_000_000);
    let n10 = args.next().unwrap_or(10_000_000);

    // A 50,000-node chain: simple_fast is quadratic here.
    let n = 50_000usize;
    let offsets: Vec<u64> = (0..=n as u64).map(|i| i.min(n as u64 - 1)).collect();
    let targets: Vec<u32> = (1..n as u32).collect();
    let t = Instant::now();
    let d = dominators(
        &Csr {
            offsets: &offsets,
            targets: &targets,
            kinds: None,
        },
        &[0],
    );
    println!(
        "chain of {n}: {:.2} ms ({} reached)",
        t.elapsed().as_secs_f64() * 1e3,
        d.preorder().len()
    );

    for (size, with_oracle) in [(n4, true), (n10, false)] {
        let bytes = writer::synthetic(size, 42).to_bytes();
        let g = match snap::read(&bytes) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("synthetic graph: {e:?}");
                std::process::exit(1);
            }
        };
        let (secs, cpu, reached) = ours(&g);
        println!(
            "{size} objects, {} edges: leakhunt dominators + retained sizes {secs:.2} s (cpu {cpu:.2} s; {reached} reached)",
            g.edge_count()
        );
        if with_oracle {
            let t = Instant::now();
            let d = petgraph::algo::dominators::simple_fast(&g, 0u32);
            let oracle = t.elapsed().as_secs_f64();
            let agree = (0..size)
                .step_by(9973)
                .all(|v| d.immediate_dominator(v).is_some() || v == 0);
            println!(
                "  petgraph simple_fast {oracle:.2} s -> leakhunt is {:.1}x faster (oracle reached the sampled nodes: {agree})",
                oracle / secs
            );
        }
    }
}
