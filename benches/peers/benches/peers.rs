//! tapegrad beside echidna and candle in one run (see `run.sh`). Every
//! peer's gradients are checked against tapegrad's before anything is
//! timed; a mismatch panics and stops the run.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use std::hint::black_box;
use tapegrad::Tape;
use tapegrad::notes::compiled::CompiledSgd;
use tapegrad::notes::sine::{self, Engine, ReplaySgd, TapeSgd};
use tapegrad_peers::workloads::sine_loops::LoopsNet;
use tapegrad_peers::workloads::{mlp, pendulum};
use tapegrad_peers::{candle_nets, check, echidna_nets};

/// tapegrad's compiled engine: the programs recorded once and emitted as
/// Rust by `tapegrad::emit` (the main package's `tests/emit_fresh.rs`
/// keeps them fresh). Straight-line code grows with the program, so the
/// compiled pendulum is the 200-step chain.
#[allow(dead_code)]
mod compiled {
    pub mod pendulum {
        include!("../../../examples/compiled/pendulum.rs");
    }
    pub mod mlp {
        include!("../../../examples/compiled/mlp.rs");
    }
}

/// Steps of the short pendulum chain, the one every engine runs, compiled
/// code included.
const SHORT: usize = 200;

fn pendulum_chain(c: &mut Criterion) {
    for steps in [pendulum::STEPS, SHORT] {
        let (mut tape, mut cos_q) = (Tape::new(), Vec::new());
        let mut bytecode = echidna_nets::pendulum_bytecode(steps);
        let mut buf = Vec::new();
        let (_, want) = pendulum::tape_chain(&mut tape, steps);
        if steps == pendulum::STEPS {
            check("pendulum, tapegrad vs the stated value", &[want], &[pendulum::DQN_DQ0], 1e-12);
        }
        check("pendulum, hand-written", &[pendulum::hand_chain(&mut cos_q, steps).1], &[want], 1e-12);
        check("pendulum, echidna tape", &[echidna_nets::pendulum_tape(steps)], &[want], 1e-12);
        check("pendulum, echidna bytecode", &[echidna_nets::pendulum_replay(&mut bytecode, &mut buf)], &[want], 1e-12);
        let chain = pendulum::ReplayChain::record(steps);
        check("pendulum, tapegrad replay", &[chain.run(pendulum::Q0, pendulum::P0).1], &[want], 1e-12);

        let mut group = c.benchmark_group(if steps == SHORT { "pendulum_200" } else { "pendulum_20k" });
        group.throughput(Throughput::Elements((steps * pendulum::OPS_PER_STEP) as u64));
        group.bench_function("hand", |b| b.iter(|| pendulum::hand_chain(&mut cos_q, black_box(steps))));
        group.bench_function("tapegrad", |b| b.iter(|| pendulum::tape_chain(&mut tape, black_box(steps))));
        group.bench_function("tapegrad_replay", |b| {
            b.iter(|| chain.run(black_box(pendulum::Q0), black_box(pendulum::P0)))
        });
        if steps == SHORT {
            let (mut dq, mut dp) = (0.0, 0.0);
            let compiled_d = |dq: &mut f64, dp: &mut f64| {
                compiled::pendulum::pendulum_grad(black_box(pendulum::Q0), black_box(pendulum::P0), dq, dp)
            };
            compiled_d(&mut dq, &mut dp);
            check("pendulum, tapegrad compiled", &[dq], &[want], 0.0);
            group.bench_function("tapegrad_compiled", |b| b.iter(|| compiled_d(&mut dq, &mut dp)));
        }
        group.bench_function("echidna_tape", |b| b.iter(|| echidna_nets::pendulum_tape(black_box(steps))));
        group.bench_function("echidna_bytecode", |b| b.iter(|| echidna_nets::pendulum_replay(&mut bytecode, &mut buf)));
        group.finish();
    }
}

fn sine_step(c: &mut Criterion) {
    let mlp = sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    // Five steps on every engine from the same weights: same parameters after.
    let mut tape = TapeSgd::new(mlp.clone());
    let mut replay = ReplaySgd::new(mlp.clone());
    let mut compiled = CompiledSgd::start(mlp.clone());
    let mut loops = LoopsNet::from_params(mlp.params());
    let mut ech_tape = echidna_nets::SineState::from_params(mlp.params());
    let mut ech_replay = echidna_nets::SineState::from_params(mlp.params());
    let mut recorded = ech_replay.record();
    let mut buf = Vec::new();
    let mut cand = candle_nets::SineNet::from_params(mlp.params()).expect("candle sine net");
    for k in 0..5 {
        let (x, lr) = (0.7 * k as f64, 0.1);
        let e = tape.step(x, x.sin(), lr);
        let r = replay.step(x, x.sin(), lr);
        check("sine error, tapegrad replay", &[r], &[e], 0.0);
        check("sine error, tapegrad compiled", &[compiled.step(x, x.sin(), lr)], &[e], 0.0);
        loops.step(x, x.sin(), lr);
        ech_tape.step_tape(x, x.sin(), lr);
        let er = ech_replay.step_replay(&mut recorded, &mut buf, x, x.sin(), lr);
        let ec = cand.step(x, x.sin(), lr).expect("candle step");
        check("sine error, echidna bytecode", &[er], &[e], 1e-12);
        check("sine error, candle", &[ec], &[e], 1e-12);
    }
    let want = echidna_nets::SineState::from_params(tape.mlp.params()).inputs;
    let want = &want[..echidna_nets::PARAMS];
    check("sine params, loops", &echidna_nets::SineState::from_params(&loops.params()).inputs[..10], want, 1e-12);
    check("sine params, echidna tape", &ech_tape.inputs[..10], want, 1e-12);
    check("sine params, echidna bytecode", &ech_replay.inputs[..10], want, 1e-12);
    check("sine params, candle", &cand.flat().expect("candle params"), want, 1e-12);

    let (x, t) = (1.0, 1f64.sin());
    // A tiny learning rate keeps the weights (and so the work) steady.
    let lr = 1e-9;
    let mut group = c.benchmark_group("sine_step");
    group.bench_function("hand", |b| b.iter(|| loops.step(black_box(x), black_box(t), lr)));
    group.bench_function("tapegrad", |b| b.iter(|| tape.step(black_box(x), black_box(t), lr)));
    group.bench_function("tapegrad_replay", |b| b.iter(|| replay.step(black_box(x), black_box(t), lr)));
    group.bench_function("tapegrad_compiled", |b| b.iter(|| compiled.step(black_box(x), black_box(t), lr)));
    group.bench_function("echidna_tape", |b| b.iter(|| ech_tape.step_tape(black_box(x), black_box(t), lr)));
    group.bench_function("echidna_bytecode", |b| {
        b.iter(|| ech_replay.step_replay(&mut recorded, &mut buf, black_box(x), black_box(t), lr))
    });
    group.bench_function("candle", |b| b.iter(|| cand.step(black_box(x), black_box(t), lr).unwrap()));
    group.finish();
}

fn mlp_step(c: &mut Criterion) {
    let (start, batch) = mlp::setup(3);
    let (mut on_tape, mut by_hand, mut replayed) = (start.clone(), start.clone(), start.clone());
    let (mut on_compiled, mut grads) = (start.clone(), mlp::CompiledGrads::new());
    let replay = mlp::MlpReplay::record(&replayed, &batch);
    let (mut tape, mut buf) = (Tape::new(), mlp::HandBuffers::new());
    let mut cand = candle_nets::MlpNet::new(&start, &batch).expect("candle MLP");
    for _ in 0..2 {
        let want = mlp::tape_step(&mut tape, &mut on_tape, &batch);
        check("MLP loss, hand-written", &[mlp::hand_step(&mut buf, &mut by_hand, &batch)], &[want], 1e-12);
        check("MLP loss, candle", &[cand.step().expect("candle step")], &[want], 1e-12);
        check("MLP loss, tapegrad replay", &[replay.step(&mut replayed, &batch)], &[want], 0.0);
        let lc = mlp::compiled_step(&mut grads, &mut on_compiled, &batch, compiled::mlp::mlp_step_grad);
        check("MLP loss, tapegrad compiled", &[lc], &[want], 0.0);
    }
    for l in 0..3 {
        let (w, b) = cand.layer(l).expect("candle params");
        check("MLP weights, candle", &w, &on_tape.w[l], 1e-12);
        check("MLP biases, candle", &b, &on_tape.b[l], 1e-12);
        check("MLP weights, hand-written", &by_hand.w[l], &on_tape.w[l], 1e-12);
    }

    let mut group = c.benchmark_group("mlp_step");
    group.bench_function("hand", |b| b.iter(|| mlp::hand_step(&mut buf, &mut by_hand, &batch)));
    group.bench_function("tapegrad", |b| b.iter(|| mlp::tape_step(&mut tape, &mut on_tape, &batch)));
    group.bench_function("tapegrad_replay", |b| b.iter(|| replay.step(&mut replayed, &batch)));
    group.bench_function("tapegrad_compiled", |b| {
        b.iter(|| mlp::compiled_step(&mut grads, &mut on_compiled, &batch, compiled::mlp::mlp_step_grad))
    });
    group.bench_function("candle", |b| b.iter(|| cand.step().unwrap()));
    group.finish();
}

criterion_group!(benches, pendulum_chain, sine_step, mlp_step);
criterion_main!(benches);
