//! One per-sample SGD step of the notes' 1-3-1 sine network written directly
//! with tape ops (no `nn` model), against hand-written loops over `f64`
//! arrays (`workloads::sine_loops::LoopsNet`). Every op here works on 1 to 3 numbers, so this
//! measures the tape's cost per node. (`benches/sine.rs` times the `nn` models.)
//!
//! `cargo bench --bench sine_raw`

mod workloads;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tapegrad::Tape;
use workloads::sine::{self, SineNet};
use workloads::sine_loops::LoopsNet;

fn sine_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sine_1_3_1_step");
    let mut tape = Tape::new();
    let mut net = SineNet::new();
    group.bench_function("tape", |b| {
        b.iter(|| sine::tape_step(&mut tape, &mut net, black_box(sine::X), sine::T, sine::LR))
    });
    let mut net = LoopsNet::from_params(&SineNet::new().params());
    group.bench_function("hand", |b| b.iter(|| net.step(black_box(sine::X), sine::T, sine::LR)));
    group.finish();
}

criterion_group!(benches, sine_step);
criterion_main!(benches);
