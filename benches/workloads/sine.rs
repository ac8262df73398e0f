//! One per-sample SGD step of the notes' 1-3-1 sine network, written
//! directly with tape ops: `h = sigmoid(x w1 + b1)`, `y = h w2 + b2`, error
//! `0.5 (y - t)^2`. The hand-written side is
//! `sine_loops::LoopsNet`.

use tapegrad::nn::Params;
use tapegrad::{Tape, Tensor, Var, loss};

/// The network's parameters, as plain arrays (`w1` is 1x3, `w2` is 3x1).
#[derive(Clone, Debug, PartialEq)]
pub struct SineNet {
    pub w1: [f64; 3],
    pub b1: [f64; 3],
    pub w2: [f64; 3],
    pub b2: [f64; 1],
}

impl SineNet {
    /// Fixed small weights (the bench needs a typical step, not a trained net).
    pub fn new() -> SineNet {
        SineNet { w1: [0.3, -0.5, 0.8], b1: [0.1, 0.0, -0.2], w2: [0.7, -0.4, 0.2], b2: [0.05] }
    }

    /// The weights under the names `nn` uses, e.g. to start the
    /// hand-written `sine_loops::LoopsNet` from the same point.
    pub fn params(&self) -> Params {
        let mut p = Params::new();
        p.insert("hidden.w", Tensor::from_vec(self.w1.to_vec(), &[1, 3]));
        p.insert("hidden.b", Tensor::from_vec(self.b1.to_vec(), &[3]));
        p.insert("out.w", Tensor::from_vec(self.w2.to_vec(), &[3, 1]));
        p.insert("out.b", Tensor::from_vec(self.b2.to_vec(), &[1]));
        p
    }
}

/// The sample the step trains on.
pub const X: f64 = 1.2;
pub const T: f64 = 0.932039085967; // sin(1.2)
pub const LR: f64 = 0.1;

fn sgd(p: &mut [f64], g: Option<&[f64]>, lr: f64) {
    let g = g.expect("every parameter reaches the loss");
    p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
}

/// Records the step's forward pass: the inputs, then the error. Returns
/// `[x, w1, b1, w2, b2, t, error]`.
fn record<'t>(tape: &'t Tape, net: &SineNet, x: f64, t: f64) -> [Var<'t>; 7] {
    let xv = tape.constant_from_slice(&[x], &[1, 1]);
    let w1 = tape.var_from_slice(&net.w1, &[1, 3]);
    let b1 = tape.var_from_slice(&net.b1, &[3]);
    let w2 = tape.var_from_slice(&net.w2, &[3, 1]);
    let b2 = tape.var_from_slice(&net.b2, &[1]);
    let tv = tape.constant_from_slice(&[t], &[1, 1]);
    let h = (xv.matmul(w1) + b1).sigmoid();
    let y = h.matmul(w2) + b2;
    [xv, w1, b1, w2, b2, tv, loss::sse_half(y, tv)]
}

/// Backward from the error, then SGD through `with_grad` (no `Tensor` is
/// built). Returns the error before the update.
fn backward_and_update(vars: [Var<'_>; 7], net: &mut SineNet, lr: f64) -> f64 {
    let [_, w1, b1, w2, b2, _, err] = vars;
    let g = err.backward();
    g.with_grad(w1, |d| sgd(&mut net.w1, d, lr));
    g.with_grad(b1, |d| sgd(&mut net.b1, d, lr));
    g.with_grad(w2, |d| sgd(&mut net.w2, d, lr));
    g.with_grad(b2, |d| sgd(&mut net.b2, d, lr));
    err.item()
}

/// The step on a reused tape: record, backward, update. Returns the error
/// before the update.
pub fn tape_step(tape: &mut Tape, net: &mut SineNet, x: f64, t: f64, lr: f64) -> f64 {
    tape.clear();
    let vars = record(tape, net, x, t);
    backward_and_update(vars, net, lr)
}

/// The step recorded once (`Tape::replay`): its tape and where the
/// recording's Vars sit on it.
pub struct SineReplay {
    tape: Tape,
    nodes: [usize; 7],
}

impl SineReplay {
    /// Records the step once, from `net`'s weights and a zero sample.
    pub fn record(net: &SineNet) -> SineReplay {
        let tape = Tape::new();
        let nodes = record(&tape, net, 0.0, 0.0).map(|v| v.index());
        SineReplay { tape, nodes }
    }

    /// The step by replay: the weights and the sample written in, the tape
    /// replayed, then backward and update as in `tape_step`.
    pub fn step(&self, net: &mut SineNet, x: f64, t: f64, lr: f64) -> f64 {
        let tape = &self.tape;
        let vars = self.nodes.map(|i| tape.node(i));
        let [xv, w1, b1, w2, b2, tv, _] = vars;
        tape.set(xv, &[x]);
        tape.set(w1, &net.w1);
        tape.set(b1, &net.b1);
        tape.set(w2, &net.w2);
        tape.set(b2, &net.b2);
        tape.set(tv, &[t]);
        tape.replay();
        backward_and_update(vars, net, lr)
    }
}
