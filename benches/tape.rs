//! The engine's first bench (issue 2): a 100k-op scalar expression and a
//! 784-128-64-10 MLP step recorded and differentiated on a reused tape, and
//! the 1-3-1 sine step, so the tape's speed can be tracked over time.
//! The comparisons with hand-written code are in `scalar`, `mlp` and `sine_raw`.
//!
//! `cargo bench --bench tape`

mod workloads;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tapegrad::Tape;
use workloads::{mlp, scalar, sine};

fn tape_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("tape");
    let mut tape = Tape::new();

    const OPS: usize = 100_000;
    group.throughput(Throughput::Elements(OPS as u64));
    group.bench_function("scalar_100k_ops", |bch| bch.iter(|| scalar::tape_chain(&mut tape, black_box(OPS))));

    let (mut net, batch) = mlp::setup(1);
    group.throughput(Throughput::Elements(1));
    group.bench_function("mlp_784_128_64_10_step", |bch| bch.iter(|| mlp::tape_step(&mut tape, &mut net, &batch)));

    let mut sine_net = sine::SineNet::new();
    group.bench_function("sine_1_3_1_step", |bch| {
        bch.iter(|| sine::tape_step(&mut tape, &mut sine_net, black_box(sine::X), sine::T, sine::LR))
    });
    group.finish();
}

criterion_group!(benches, tape_benches);
criterion_main!(benches);
