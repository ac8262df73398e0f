//! The recordings behind the checked-in generated code of
//! `examples/compiled/`: each records its program on a tape from given
//! input values and returns the output and the argument Vars, so the tests
//! can run the tape (eager, replayed) on the values they give the compiled
//! code, and `emit_fresh.rs` can regenerate the files.
#![allow(dead_code)] // each test binary uses its own part

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::emit::Module;
use tapegrad::ops::registry::{self, OpCase};
use tapegrad::{Tape, Tensor, Var, loss};

/// micrograd's neuron: `tanh(x1 w1 + x2 w2 + b)`, arguments
/// `[x1, x2, w1, w2, b]`.
pub fn neuron(tape: &Tape, v: [f64; 5]) -> (Var<'_>, Vec<Var<'_>>) {
    let names = ["x1", "x2", "w1", "w2", "b"];
    let a: Vec<Var<'_>> = v.iter().zip(names).map(|(&x, n)| tape.scalar(x).named(n)).collect();
    let (x1w1, x2w2) = ((a[0] * a[2]).named("x1w1"), (a[1] * a[3]).named("x2w2"));
    let n = (x1w1 + x2w2 + a[4]).named("n");
    (n.tanh().named("o"), a)
}

/// The micrograd neuron's values (Karpathy's).
pub const NEURON_AT: [f64; 5] = [2.0, 0.0, -3.0, 1.0, 6.881_373_587_019_543];

/// Steps of the compiled pendulum: straight-line code grows with the
/// steps, so the compiled chain is short (the bench compares it per op).
pub const PENDULUM_STEPS: usize = 200;
/// The pendulum's time step (`benches/workloads/pendulum.rs`).
pub const H: f64 = 0.01;

/// The pendulum chain of `benches/workloads/pendulum.rs`,
/// `p -= h sin q; q += h p`, from `(q0, p0)`; the output is the last angle.
pub fn pendulum(tape: &Tape, q0: f64, p0: f64, steps: usize) -> (Var<'_>, Vec<Var<'_>>) {
    let (q0, p0) = (tape.scalar(q0).named("q0"), tape.scalar(p0).named("p0"));
    let (mut q, mut p) = (q0, p0);
    for _ in 0..steps {
        p = p - q.sin() * H;
        q = q + p * H;
    }
    (q.named("q"), vec![q0, p0])
}

/// The MLP of `benches/mlp.rs` (784-128-64-10, sigmoid after every layer,
/// MSE), at batch `batch`: arguments the six weight tensors, inputs the
/// batch `x` and targets `t`. Returns (loss, args, inputs).
pub fn mlp<'t>(
    tape: &'t Tape,
    w: &[Vec<f64>],
    b: &[Vec<f64>],
    x: &[f64],
    t: &[f64],
) -> (Var<'t>, Vec<Var<'t>>, Vec<Var<'t>>) {
    const SIZES: [usize; 4] = [784, 128, 64, 10];
    let batch = x.len() / SIZES[0];
    let xv = tape.constant_from_slice(x, &[batch, SIZES[0]]).named("x");
    let mut a = xv;
    let mut args = vec![];
    for l in 0..3 {
        let wv = tape.var_from_slice(&w[l], &[SIZES[l], SIZES[l + 1]]).named(&format!("w{}", l + 1));
        let bv = tape.var_from_slice(&b[l], &[SIZES[l + 1]]).named(&format!("b{}", l + 1));
        a = (a.matmul(wv) + bv).sigmoid().named(&format!("a{}", l + 1));
        args.extend([wv, bv]);
    }
    let tv = tape.constant_from_slice(t, &[batch, SIZES[3]]).named("t");
    (loss::mse(a, tv).named("loss"), args, vec![xv, tv])
}

/// Shapes of the random programs' four arguments: two scalars, a
/// vector, a matrix.
pub const RANDOM_SHAPES: [&[usize]; 4] = [&[], &[], &[3], &[2, 3]];
/// How many random programs the generated file holds.
pub const RANDOM_PROGRAMS: usize = 12;

/// Steps (ops) per random program: with [`RANDOM_PROGRAMS`] programs,
/// enough that every case of the op registry is a step of some program.
pub const RANDOM_STEPS: usize = 5;

/// The cases the random programs draw from: every case of the op
/// registry (`tapegrad::ops::registry`) in the random-program check
/// (`argmax`/`argmin` are not: their one-hot output jumps at ties) but the
/// user op, which has no emit rule (`tests/emit.rs` checks that every
/// other op has one). An op added to the registry joins the programs.
pub fn random_cases() -> Vec<&'static OpCase> {
    registry::cases().filter(|c| c.checks.programs && c.name != "cube").collect()
}

/// Random program `k` over the arguments `args` (shaped as
/// [`RANDOM_SHAPES`]): `registry::program` with [`RANDOM_STEPS`] steps,
/// step `s` applying case `k * RANDOM_STEPS + s` (so the programs cover the
/// cases in turn) to operands picked at random (seeded by `k`). Its
/// structure depends on `k` only, its values on `args`. Returns the output
/// (one number) and the argument Vars.
pub fn random_program<'t>(tape: &'t Tape, k: usize, args: [&[f64]; 4]) -> (Var<'t>, Vec<Var<'t>>) {
    let names = ["a", "b", "v", "m"];
    let vars: Vec<Var<'t>> =
        args.iter().zip(RANDOM_SHAPES).zip(names).map(|((d, s), n)| tape.var_from_slice(d, s).named(n)).collect();
    let cases = random_cases();
    let mut rng = StdRng::seed_from_u64(1000 + k as u64);
    let steps: Vec<registry::Step> = (0..RANDOM_STEPS)
        .map(|s| {
            let op = ((k * RANDOM_STEPS + s) % cases.len()) as u8;
            (op, rng.random_range(0..64), rng.random_range(0..64))
        })
        .collect();
    (registry::program(&vars, &steps, &cases).named("out"), vars)
}

/// The module of every random program, `prog_0`.. `prog_{N-1}`.
pub fn random_module() -> Module {
    let mut m = Module::new();
    let mut rng = StdRng::seed_from_u64(7);
    for k in 0..RANDOM_PROGRAMS {
        let tape = Tape::new();
        let data: Vec<Tensor> = RANDOM_SHAPES.iter().map(|s| Tensor::randn(s, &mut rng)).collect();
        let (out, args) = random_program(&tape, k, [data[0].data(), data[1].data(), data[2].data(), data[3].data()]);
        m = m.function(&format!("prog_{k}"), out, &args).unwrap_or_else(|e| panic!("program {k}: {e}"));
    }
    m
}

/// The neuron's module.
pub fn neuron_module() -> Module {
    let tape = Tape::new();
    let (o, args) = neuron(&tape, NEURON_AT);
    Module::new().function("neuron", o, &args).unwrap()
}

/// The pendulum's module (q_N of `PENDULUM_STEPS` steps from (q0, p0)).
pub fn pendulum_module() -> Module {
    let tape = Tape::new();
    let (q, args) = pendulum(&tape, 0.5, 0.0, PENDULUM_STEPS);
    // The same chain again in 4 chunks: what chunking costs at run time
    // (`benches/pendulum.rs`).
    let whole = Module::new().function("pendulum", q, &args).unwrap();
    whole.chunk(PENDULUM_CHUNK).function("pendulum_chunked", q, &args).unwrap()
}

/// Chunk size of `pendulum_chunked`: the 1,000-node chain in 4 chunks.
pub const PENDULUM_CHUNK: usize = 250;

/// Batch of the compiled MLP step (`benches/mlp.rs`'s).
pub const MLP_BATCH: usize = 64;

/// The MLP step's module (values do not matter: all are parameters).
pub fn mlp_module() -> Module {
    let tape = Tape::new();
    let sizes = [784, 128, 64, 10];
    let w: Vec<Vec<f64>> = (0..3).map(|l| vec![0.0; sizes[l] * sizes[l + 1]]).collect();
    let b: Vec<Vec<f64>> = (0..3).map(|l| vec![0.0; sizes[l + 1]]).collect();
    let (x, t) = (vec![0.0; MLP_BATCH * 784], vec![0.0; MLP_BATCH * 10]);
    let (loss, args, inputs) = mlp(&tape, &w, &b, &x, &t);
    Module::new().function_with_inputs("mlp_step", loss, &args, &inputs).unwrap()
}

/// Steps of the long chain: past three chunks of `emit::CHUNK` nodes.
pub const LONG_CHAIN_STEPS: usize = 700;

/// The chunked chain of `tests/emit_chunked.rs` from `(q0, p0, w)`: the
/// pendulum's two scalars, a `[3]` state and the argument `w` read every
/// 40 steps, and `s0` made first and read last; returns (output, args).
pub fn long_chain(tape: &Tape, q0: f64, p0: f64, w: [f64; 3], steps: usize) -> (Var<'_>, Vec<Var<'_>>) {
    let (q0, p0) = (tape.scalar(q0).named("q0"), tape.scalar(p0).named("p0"));
    let w = tape.var_from_slice(&w, &[3]).named("w");
    let s0 = q0.sigmoid().named("s0");
    let (mut q, mut p, mut h) = (q0, p0, w);
    for k in 0..steps {
        p = p - q.sin() * H;
        q = q + p * H;
        if k % 40 == 0 {
            h = (h * w).tanh();
            q = q + h.sum() * H;
        }
    }
    ((q * s0).named("q"), vec![q0, p0, w])
}

/// The long chain's module (`examples/compiled/long_chain.rs`).
pub fn long_chain_module() -> Module {
    let tape = Tape::new();
    let (q, args) = long_chain(&tape, 0.5, 0.0, [0.3, -0.2, 0.9], LONG_CHAIN_STEPS);
    Module::new().function("long_chain", q, &args).unwrap()
}

/// The bits of each value: what "bit for bit" compares.
pub fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}
