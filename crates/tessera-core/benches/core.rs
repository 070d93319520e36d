//! Micro-benchmarks of the core's hot paths. Run: cargo bench -p tessera-core
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn main() {
    divan::main();
}
