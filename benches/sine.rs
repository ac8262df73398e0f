//! The notes' sine network in the same run with four engines: the tape
//! (`nn::Mlp` on a reused tape), the tape recorded once and replayed per
//! sample (`notes::sine::ReplaySgd`), plain hand-written loops over `f64` arrays
//! (the yardstick, `workloads::sine_loops::LoopsNet`), and the notes' `HiddenLayer`/`OutputLayer` (tensor
//! math that allocates per step, as the notes' NumPy code does). One
//! per-sample SGD step, and the whole 3000-epoch program (189,000 steps).
//!
//! `cargo bench --bench sine -- --warm-up-time 1 --measurement-time 3`

mod workloads;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use std::hint::black_box;
use tapegrad::notes::manual::ManualMlp;
use tapegrad::notes::sine::{self, ReplaySgd, Run, TapeSgd};
use workloads::sine_loops::LoopsNet;

fn one_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sine_step");
    let mlp = sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    let (x, t) = (1.0, 1f64.sin());
    // A tiny learning rate keeps the weights (and so the work) steady
    // over millions of iterations.
    let lr = 1e-9;
    let mut tape = TapeSgd::new(mlp.clone());
    group.bench_function("tape", |b| b.iter(|| tape.step(black_box(x), black_box(t), lr)));
    // The same step recorded once and replayed per sample (`nn::ReplayStep`).
    let mut replay = ReplaySgd::new(mlp.clone());
    group.bench_function("replay", |b| b.iter(|| replay.step(black_box(x), black_box(t), lr)));
    let mut loops = LoopsNet::from_params(mlp.params());
    group.bench_function("loops", |b| b.iter(|| loops.step(black_box(x), black_box(t), lr)));
    let mut net = ManualMlp::from_params(mlp.params());
    group.bench_function("manual", |b| b.iter(|| sine::manual_step(&mut net, black_box(x), black_box(t), lr)));
    group.finish();
}

/// One engine's whole run, `sine::train::<Engine>`.
type Train = fn(usize, usize, f64, u64) -> Run;

fn full_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("sine_3000_epochs");
    group.sample_size(10);
    let engines: [(&str, Train); 4] = [
        ("tape", sine::train::<TapeSgd>),
        ("replay", sine::train::<ReplaySgd>),
        ("loops", sine::train::<LoopsNet>),
        ("manual", sine::train::<ManualMlp>),
    ];
    for (name, train) in engines {
        group.bench_function(BenchmarkId::from_parameter(name), |b| b.iter(|| train(3, 3000, 0.1, black_box(0))));
    }
    group.finish();
}

criterion_group!(benches, one_step, full_run);
criterion_main!(benches);
