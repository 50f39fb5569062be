//! The `leakhunt` binary: parse arguments, run, map errors to exit codes.

fn main() {
    std::process::exit(leakhunt::cli::main());
}
