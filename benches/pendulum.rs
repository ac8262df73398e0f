//! The pendulum chain (20,000 x `p -= h sin q; q += h p`, then
//! d q_N / d q_0): the tape (recorded every time, or once and replayed) against a hand-written forward that stores
//! cos q per step and a reverse sweep over it. Both are checked against
//! the stated d q_N / d q_0 = 4.853531040020061 before timing. Throughput is
//! in elementary ops (5 per step, 100,000 per chain), so criterion's time
//! per element is the ns per op.
//!
//! A second group times a chain of 200 steps (1,000 ops) five ways: tape,
//! replay, hand-written, and compiled to Rust by `tapegrad::emit`
//! (`examples/compiled/pendulum.rs`: straight-line code grows with the
//! steps, so the compiled chain is short), once as one function and once
//! cut into 4 `#[inline(never)]` chunks of 250 nodes (`Module::chunk`),
//! which is what chunking costs at run time.
//!
//! `cargo bench --bench pendulum`

mod workloads;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tapegrad::Tape;
use workloads::pendulum::{self, DQN_DQ0, OPS_PER_STEP, P0, Q0, STEPS};

/// The 200-step chain, compiled (`tests/emit_fresh.rs` keeps it fresh).
#[allow(dead_code)]
mod compiled {
    include!("../examples/compiled/pendulum.rs");
}

/// Steps of the compiled chain.
const SHORT: usize = 200;

fn pendulum_chain(c: &mut Criterion) {
    let mut tape = Tape::new();
    let mut cos_q = Vec::with_capacity(STEPS);
    for (name, (_, d)) in
        [("tape", pendulum::tape_chain(&mut tape, STEPS)), ("hand", pendulum::hand_chain(&mut cos_q, STEPS))]
    {
        assert!((d - DQN_DQ0).abs() < 1e-12, "{name}: d q_N / d q_0 = {d}, expected {DQN_DQ0}");
    }
    // Recorded once; each iteration sets q_0 and p_0, replays, differentiates.
    let chain = pendulum::ReplayChain::record(STEPS);
    let (_, d) = chain.run(Q0, P0);
    assert!((d - DQN_DQ0).abs() < 1e-12, "replay: d q_N / d q_0 = {d}, expected {DQN_DQ0}");
    let mut group = c.benchmark_group("pendulum_20k");
    group.throughput(Throughput::Elements((STEPS * OPS_PER_STEP) as u64));
    group.bench_function("tape", |b| b.iter(|| pendulum::tape_chain(&mut tape, black_box(STEPS))));
    group.bench_function("replay", |b| b.iter(|| chain.run(black_box(Q0), black_box(P0))));
    group.bench_function("hand", |b| b.iter(|| pendulum::hand_chain(&mut cos_q, black_box(STEPS))));
    group.finish();

    let mut group = c.benchmark_group("pendulum_200");
    group.throughput(Throughput::Elements((SHORT * OPS_PER_STEP) as u64));
    let (mut dq, mut dp) = (0.0, 0.0);
    let q = compiled::pendulum_grad(Q0, P0, &mut dq, &mut dp);
    let (want_q, want_d) = pendulum::tape_chain(&mut tape, SHORT);
    assert_eq!((q.to_bits(), dq.to_bits()), (want_q.to_bits(), want_d.to_bits()), "compiled vs tape, 200 steps");
    let q = compiled::pendulum_chunked_grad(Q0, P0, &mut dq, &mut dp);
    assert_eq!((q.to_bits(), dq.to_bits()), (want_q.to_bits(), want_d.to_bits()), "chunked vs tape, 200 steps");
    let short = pendulum::ReplayChain::record(SHORT);
    group.bench_function("tape", |b| b.iter(|| pendulum::tape_chain(&mut tape, black_box(SHORT))));
    group.bench_function("replay", |b| b.iter(|| short.run(black_box(Q0), black_box(P0))));
    group.bench_function("compiled", |b| {
        b.iter(|| compiled::pendulum_grad(black_box(Q0), black_box(P0), &mut dq, &mut dp))
    });
    // The same code cut into 4 `#[inline(never)]` chunks of 250 nodes.
    group.bench_function("compiled_chunked", |b| {
        b.iter(|| compiled::pendulum_chunked_grad(black_box(Q0), black_box(P0), &mut dq, &mut dp))
    });
    group.bench_function("hand", |b| b.iter(|| pendulum::hand_chain(&mut cos_q, black_box(SHORT))));
    group.finish();
}

criterion_group!(benches, pendulum_chain);
criterion_main!(benches);
