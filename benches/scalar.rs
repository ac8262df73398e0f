//! A chain of 100k scalar ops (add, sin, mul, cos) recorded and
//! differentiated: the tape against a hand-written forward that stores each
//! op's partials and a reverse sweep over them. Throughput is in ops, so
//! criterion's time per element is the ns per op.
//!
//! `cargo bench --bench scalar`

mod workloads;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tapegrad::Tape;
use workloads::scalar;

const OPS: usize = 100_000;

fn scalar_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("scalar_chain_100k");
    group.throughput(Throughput::Elements(OPS as u64));
    let mut tape = Tape::new();
    group.bench_function("tape", |b| b.iter(|| scalar::tape_chain(&mut tape, black_box(OPS))));
    let mut partials = Vec::with_capacity(OPS);
    group.bench_function("hand", |b| b.iter(|| scalar::hand_chain(&mut partials, black_box(OPS))));
    group.finish();
}

criterion_group!(benches, scalar_chain);
criterion_main!(benches);
