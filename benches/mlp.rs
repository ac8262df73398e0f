//! One SGD step of a 784-128-64-10 sigmoid MLP on a batch of 64 (f64, MSE):
//! the tape (reused with `clear`, or recorded once and replayed) against a hand-written backward that uses
//! the same GEMM with transposes read through strides and buffers
//! allocated once.
//!
//! And the step compiled to Rust by `tapegrad::emit`
//! (`examples/compiled/mlp.rs`: the value and gradient of the loss as
//! straight-line loops and calls of the same GEMM, then the same SGD).
//!
//! `cargo bench --bench mlp`

mod workloads;

use criterion::{Criterion, criterion_group, criterion_main};
use tapegrad::Tape;
use workloads::mlp;

/// The step, compiled (`tests/emit_fresh.rs` keeps it fresh).
#[allow(dead_code)]
mod compiled {
    include!("../examples/compiled/mlp.rs");
}

fn mlp_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_784_128_64_10_b64_step");
    let (net, batch) = mlp::setup(1);
    let mut tape = Tape::new();
    let mut tape_net = net.clone();
    group.bench_function("tape", |b| b.iter(|| mlp::tape_step(&mut tape, &mut tape_net, &batch)));
    // Recorded once, replayed per step (the weights and batch written in).
    let mut replay_net = net.clone();
    let replay = mlp::MlpReplay::record(&replay_net, &batch);
    group.bench_function("replay", |b| b.iter(|| replay.step(&mut replay_net, &batch)));
    let mut buffers = mlp::HandBuffers::new();
    let mut hand_net = net.clone();
    group.bench_function("hand", |b| b.iter(|| mlp::hand_step(&mut buffers, &mut hand_net, &batch)));
    let mut compiled_net = hand_net.clone();
    let mut grads = mlp::CompiledGrads::new();
    // Before timing: one compiled step gives the tape's loss and weights, bit for bit.
    let (mut a, mut b) = (compiled_net.clone(), compiled_net.clone());
    let la = mlp::compiled_step(&mut grads, &mut a, &batch, compiled::mlp_step_grad);
    let lb = mlp::tape_step(&mut Tape::new(), &mut b, &batch);
    assert!(la.to_bits() == lb.to_bits() && a == b, "compiled vs tape: loss {la} vs {lb}");
    group.bench_function("compiled", |b| {
        b.iter(|| mlp::compiled_step(&mut grads, &mut compiled_net, &batch, compiled::mlp_step_grad))
    });
    group.finish();
}

criterion_group!(benches, mlp_step);
criterion_main!(benches);
