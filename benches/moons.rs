//! One full-batch step of micrograd's moons demo (2-16-16-1 ReLU network,
//! 100 points, max-margin loss with L2): the tape with one scalar node per
//! multiply-add (micrograd style, about 40k nodes), the tape with tensors,
//! and hand-written loops.
//!
//! `cargo bench --bench moons`

mod workloads;

use criterion::{Criterion, criterion_group, criterion_main};
use tapegrad::Tape;
use workloads::moons;

fn moons_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("moons_2_16_16_1_step");
    let (net, data) = moons::setup(1);
    let mut tape = Tape::new();
    let mut scalar_net = net.clone();
    group.bench_function("tape_scalar", |b| b.iter(|| moons::scalar_step(&mut tape, &mut scalar_net, &data)));
    let mut tensor_net = net.clone();
    group.bench_function("tape_tensor", |b| b.iter(|| moons::tensor_step(&mut tape, &mut tensor_net, &data)));
    let mut buffers = moons::HandBuffers::new();
    let mut hand_net = net;
    group.bench_function("hand", |b| b.iter(|| moons::hand_step(&mut buffers, &mut hand_net, &data)));
    group.finish();
}

criterion_group!(benches, moons_step);
criterion_main!(benches);
