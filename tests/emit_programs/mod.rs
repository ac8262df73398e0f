//! The recordings behind the checked-in generated code of
//! `examples/compiled/`: each records its program on a tape from given
//! input values and returns the output and the argument Vars, so the tests
//! can run the tape (eager, replayed) on the values they give the compiled
//! code, and `emit_fresh.rs` can regenerate the files.
#![allow(dead_code)] // each test binary uses its own part

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::emit::Module;
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

/// The ops the random programs draw from, each a closure building one node
/// from the pool (the registry of `tapegrad::ops` can replace this list
/// when it lands: one entry per op with an emit rule). Unary ops apply to
/// any Var; their domains are kept safe (`ln` of `x^2 + 1`).
type Unary = for<'t> fn(Var<'t>) -> Var<'t>;
const UNARY: &[(&str, Unary)] = &[
    ("sin", |x| x.sin()),
    ("cos", |x| x.cos()),
    ("tanh", |x| x.tanh()),
    ("exp", |x| (x * 0.3).exp()),
    ("sigmoid", |x| x.sigmoid()),
    ("relu", |x| x.relu()),
    ("abs", |x| x.abs()),
    ("square", |x| x.square()),
    ("sqrt", |x| (x.square() + 1.0).sqrt()),
    ("ln", |x| (x.square() + 0.5).ln()),
    ("log1p", |x| x.abs().log1p()),
    ("softplus", |x| x.softplus()),
    ("leaky_relu", |x| x.leaky_relu(0.1)),
    ("clamp", |x| x.clamp(-0.5, 0.7)),
    ("powi", |x| x.powi(3)),
    ("powf", |x| (x.square() + 1.0).powf(1.5)),
    ("neg", |x| -x),
    ("scalars", |x| 2.5 - x / 3.0 + 0.25 * x),
    ("rdiv", |x| 1.0 / (x.square() + 1.0)),
    ("detach", |x| x.detach() * x),
    ("where", |x| {
        // Every other element from x, the rest from sin x (a constant mask).
        let mask: Vec<f64> = (0..x.len()).map(|i| (i % 2) as f64).collect();
        x.where_(&Tensor::from_vec(mask, &x.shape()), x.sin())
    }),
];

type Binary = for<'t> fn(Var<'t>, Var<'t>) -> Var<'t>;
const BINARY: &[(&str, Binary)] = &[
    ("add", |a, b| a + b),
    ("sub", |a, b| a - b),
    ("mul", |a, b| a * b),
    ("div", |a, b| a / (b.square() + 1.0)),
    ("maximum", |a, b| a.maximum(b)),
];

/// Random program `k` over the arguments `args` (shaped as
/// [`RANDOM_SHAPES`]): its structure depends on `k` only, its values on
/// `args`. Returns the output (one number) and the argument Vars.
pub fn random_program<'t>(tape: &'t Tape, k: usize, args: [&[f64]; 4]) -> (Var<'t>, Vec<Var<'t>>) {
    let names = ["a", "b", "v", "m"];
    let vars: Vec<Var<'t>> =
        args.iter().zip(RANDOM_SHAPES).zip(names).map(|((d, s), n)| tape.var_from_slice(d, s).named(n)).collect();
    let mut pool = vars.clone();
    let mut rng = StdRng::seed_from_u64(1000 + k as u64);
    for _ in 0..14 {
        let x = pool[rng.random_range(0..pool.len())];
        let y = match rng.random_range(0..10) {
            0..=4 => UNARY[rng.random_range(0..UNARY.len())].1(x),
            5..=7 => {
                // A partner of the same shape, or a scalar (broadcast over x's rows).
                let same: Vec<Var<'t>> =
                    pool.iter().copied().filter(|p| p.shape() == x.shape() || p.len() == 1).collect();
                let other = same[rng.random_range(0..same.len())];
                let f = BINARY[rng.random_range(0..BINARY.len())].1;
                if rng.random_bool(0.5) { f(x, other) } else { f(other, x) }
            }
            8 => {
                let (axis, keep) = (x.shape().len().saturating_sub(1), rng.random_bool(0.5));
                match (x.shape().is_empty(), rng.random_range(0..4)) {
                    (false, 0) => x.sum_axis(axis, keep),
                    (false, 1) => x.mean_axis(0, keep),
                    (_, 2) => x.mean(),
                    _ => x.sum(),
                }
            }
            _ => {
                // matmul: [2, 3] x [3] as [3, 1] (through `reshape`; `t` twice).
                let m = vars[3];
                let v = vars[2].reshape(&[3, 1]);
                if x.shape().as_slice() == [2, 3] { x.matmul(v) } else { m.t().t().matmul(v) }
            }
        };
        pool.push(y);
    }
    // The output: every node of the pool reaches it (as a sum), so none is dead.
    let mut out = pool[4].sum();
    for p in &pool[5..] {
        out = out + p.sum();
    }
    (out.named("out"), vars)
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
    Module::new().function("pendulum", q, &args).unwrap()
}

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
