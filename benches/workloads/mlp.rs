//! One training step of a 784-128-64-10 MLP, sigmoid after every layer,
//! batch 64, f64, MSE loss `mean((y - t)^2)`, plain SGD.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::tensor::{MatRef, gemm};
use tapegrad::{Tape, Tensor, Var, loss};

/// Layer widths, input first.
pub const SIZES: [usize; 4] = [784, 128, 64, 10];
pub const BATCH: usize = 64;
pub const LR: f64 = 0.5;

/// Weights (`[fan_in, fan_out]`, row-major) and biases of each layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
}

/// One mini-batch: inputs `[BATCH, 784]` in [0, 1) and one-hot targets `[BATCH, 10]`.
pub struct Batch {
    pub x: Vec<f64>,
    pub t: Vec<f64>,
}

/// Seeded weights (normal, scaled by 1/sqrt(fan_in)) and a seeded batch.
pub fn setup(seed: u64) -> (Mlp, Batch) {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mut mlp = Mlp { w: vec![], b: vec![] };
    for l in 0..3 {
        let (i, o) = (SIZES[l], SIZES[l + 1]);
        mlp.w.push(Tensor::randn(&[i, o], &mut rng).scale(1.0 / (i as f64).sqrt()).data().to_vec());
        mlp.b.push(vec![0.0; o]);
    }
    let x = Tensor::rand(&[BATCH, SIZES[0]], &mut rng).data().to_vec();
    let labels = Tensor::rand(&[BATCH], &mut rng);
    let mut t = vec![0.0; BATCH * SIZES[3]];
    for (r, u) in labels.data().iter().enumerate() {
        t[r * SIZES[3] + (u * SIZES[3] as f64) as usize] = 1.0;
    }
    (mlp, Batch { x, t })
}

fn sgd(p: &mut [f64], g: Option<&[f64]>, lr: f64) {
    let g = g.expect("every parameter reaches the loss");
    p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
}

/// Records the step's forward pass on `tape`: the batch, each layer's
/// `(w, b)`, the targets, the loss.
fn record<'t>(tape: &'t Tape, mlp: &Mlp, batch: &Batch) -> (Var<'t>, [(Var<'t>, Var<'t>); 3], Var<'t>, Var<'t>) {
    let x = tape.constant_from_slice(&batch.x, &[BATCH, SIZES[0]]);
    let mut a = x;
    let mut params = [(a, a); 3];
    for l in 0..3 {
        let w = tape.var_from_slice(&mlp.w[l], &[SIZES[l], SIZES[l + 1]]);
        let b = tape.var_from_slice(&mlp.b[l], &[SIZES[l + 1]]);
        a = (a.matmul(w) + b).sigmoid();
        params[l] = (w, b);
    }
    let t = tape.constant_from_slice(&batch.t, &[BATCH, SIZES[3]]);
    (x, params, t, loss::mse(a, t))
}

/// Backward from the loss, then SGD; returns the loss before the update.
fn backward_and_update(params: [(Var<'_>, Var<'_>); 3], err: Var<'_>, mlp: &mut Mlp) -> f64 {
    let g = err.backward();
    for (l, (w, b)) in params.into_iter().enumerate() {
        g.with_grad(w, |d| sgd(&mut mlp.w[l], d, LR));
        g.with_grad(b, |d| sgd(&mut mlp.b[l], d, LR));
    }
    err.item()
}

/// The step on a reused tape; returns the loss before the update.
pub fn tape_step(tape: &mut Tape, mlp: &mut Mlp, batch: &Batch) -> f64 {
    tape.clear();
    let (_, params, _, err) = record(tape, mlp, batch);
    backward_and_update(params, err, mlp)
}

/// The step recorded once (`Tape::replay`): its tape and the nodes of the
/// batch, the parameters (w, b per layer), the targets and the loss.
pub struct MlpReplay {
    tape: Tape,
    x: usize,
    params: [(usize, usize); 3],
    t: usize,
    err: usize,
}

impl MlpReplay {
    pub fn record(mlp: &Mlp, batch: &Batch) -> MlpReplay {
        let tape = Tape::new();
        let (x, params, t, err) = record(&tape, mlp, batch);
        let (x, t, err) = (x.index(), t.index(), err.index());
        let params = params.map(|(w, b)| (w.index(), b.index()));
        MlpReplay { tape, x, params, t, err }
    }

    /// The step by replay: weights and batch written in, replayed, then
    /// backward and update as in `tape_step`.
    pub fn step(&self, mlp: &mut Mlp, batch: &Batch) -> f64 {
        let tape = &self.tape;
        tape.set(tape.node(self.x), &batch.x);
        tape.set(tape.node(self.t), &batch.t);
        let params = self.params.map(|(w, b)| (tape.node(w), tape.node(b)));
        for (l, (w, b)) in params.iter().enumerate() {
            tape.set(*w, &mlp.w[l]);
            tape.set(*b, &mlp.b[l]);
        }
        tape.replay();
        backward_and_update(params, tape.node(self.err), mlp)
    }
}

/// Buffers of the hand-written step, allocated once: activations, their
/// deltas and the weight gradients of each layer.
pub struct HandBuffers {
    act: Vec<Vec<f64>>,
    delta: Vec<Vec<f64>>,
    dw: Vec<Vec<f64>>,
}

impl HandBuffers {
    pub fn new() -> HandBuffers {
        HandBuffers {
            act: (1..4).map(|l| vec![0.0; BATCH * SIZES[l]]).collect(),
            delta: (1..4).map(|l| vec![0.0; BATCH * SIZES[l]]).collect(),
            dw: (0..3).map(|l| vec![0.0; SIZES[l] * SIZES[l + 1]]).collect(),
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    tapegrad::tensor::stable_sigmoid(x)
}

/// The same step by hand, with the same GEMM: `Z = A W + b`, `A' = s(Z)`;
/// backward `dZ = dA' * s(1 - s)`, `dW = A^T dZ`, `db = colsum dZ`,
/// `dA = dZ W^T` (transposes read through strides); then SGD.
pub fn hand_step(buf: &mut HandBuffers, mlp: &mut Mlp, batch: &Batch) -> f64 {
    for l in 0..3 {
        let (i, o) = (SIZES[l], SIZES[l + 1]);
        let (prev, rest) = buf.act.split_at_mut(l);
        let input = if l == 0 { &batch.x[..] } else { &prev[l - 1][..] };
        let out = &mut rest[0];
        for row in out.chunks_exact_mut(o) {
            row.copy_from_slice(&mlp.b[l]);
        }
        gemm(1.0, MatRef::row_major(input, BATCH, i), MatRef::row_major(&mlp.w[l], i, o), 1.0, out);
        out.iter_mut().for_each(|z| *z = sigmoid(*z));
    }
    // Loss and the output delta: d mean((y - t)^2)/dy = 2 (y - t) / n.
    let n = (BATCH * SIZES[3]) as f64;
    let mut loss = 0.0;
    for ((d, &y), &t) in buf.delta[2].iter_mut().zip(&buf.act[2]).zip(&batch.t) {
        loss += (y - t) * (y - t);
        *d = 2.0 * (y - t) / n * y * (1.0 - y);
    }
    for l in (0..3).rev() {
        let (i, o) = (SIZES[l], SIZES[l + 1]);
        let input = if l == 0 { &batch.x[..] } else { &buf.act[l - 1][..] };
        let dz = MatRef::row_major(&buf.delta[l], BATCH, o);
        gemm(1.0, MatRef::row_major(input, BATCH, i).t(), dz, 0.0, &mut buf.dw[l]);
        if l > 0 {
            let (below, here) = buf.delta.split_at_mut(l);
            let dz = MatRef::row_major(&here[0], BATCH, o);
            let da = &mut below[l - 1];
            gemm(1.0, dz, MatRef::row_major(&mlp.w[l], i, o).t(), 0.0, da);
            for (d, &a) in da.iter_mut().zip(&buf.act[l - 1]) {
                *d *= a * (1.0 - a);
            }
        }
        for row in buf.delta[l].chunks_exact(o) {
            mlp.b[l].iter_mut().zip(row).for_each(|(b, g)| *b -= LR * g);
        }
        sgd(&mut mlp.w[l], Some(&buf.dw[l]), LR);
    }
    loss / n
}
