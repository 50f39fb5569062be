//! Write a synthetic `.snap` for benchmarks: `cargo run --release --example synth_snap -- OUT N`.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(n)) = (args.next(), args.next().and_then(|s| s.parse::<u32>().ok()))
    else {
        eprintln!("usage: synth_snap OUT.snap OBJECTS");
        std::process::exit(2);
    };
    let w = leakhunt::input::snap::writer::synthetic(n, 42);
    let bytes = w.to_bytes();
    if let Err(e) = std::fs::write(&out, &bytes) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
    println!(
        "{out}: {n} objects, {} edges, {} bytes",
        w.edge_target.len(),
        bytes.len()
    );
}
