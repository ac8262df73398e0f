//! The notes' 1-3-1 sine network (sigmoid hidden layer, identity output,
//! loss `0.5 (y - t)^2`) recorded on a tape with the notes' names, and the
//! edges along which the notes' hand-written deltas flow. The `trace` and
//! `stepper` examples both record it from here, so the words the trace
//! prints and the page the stepper writes tell the same numbers.
//!
//! ```
//! use tapegrad::{Tape, Tensor, notes::one_sample::{OneSample, Weights}};
//! let tape = Tape::new();
//! let x = Tensor::from_vec(vec![1.0], &[1, 1]);
//! let net = OneSample::record(&tape, &x, &x.map(f64::sin), &Weights::drawn(0));
//! let (_, trace) = net.loss.backward_traced();
//! let (what, from, to) = net.deltas()[0];
//! assert_eq!(what, "delta_out = y - t");
//! assert_eq!(trace.sent(from, to).unwrap().item(), net.y.value().item() - 1f64.sin());
//! ```

use crate::tape::{Tape, Var};
use crate::tensor::Tensor;
use rand::SeedableRng;

/// The network's weights: `HiddenLayer(1, 3)` then `OutputLayer(3, 1)`.
#[derive(Clone, Debug)]
pub struct Weights {
    /// Hidden weights `[1, 3]`.
    pub w1: Tensor,
    /// Hidden biases `[3]`.
    pub b1: Tensor,
    /// Output weights `[3, 1]`.
    pub w2: Tensor,
    /// Output bias `[1]`.
    pub b2: Tensor,
}

impl Weights {
    /// Standard-normal weights from `seed` (ChaCha12, as every example
    /// seeds), drawn in the notes' order (`w1`, `b1`, `w2`, `b2`).
    ///
    /// ```
    /// let w = tapegrad::notes::one_sample::Weights::drawn(0);
    /// assert_eq!((w.w1.shape(), w.b2.shape()), (&[1, 3][..], &[1][..]));
    /// ```
    pub fn drawn(seed: u64) -> Weights {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
        let w1 = Tensor::randn(&[1, 3], &mut rng);
        let b1 = Tensor::randn(&[3], &mut rng);
        let w2 = Tensor::randn(&[3, 1], &mut rng);
        let b2 = Tensor::randn(&[1], &mut rng);
        Weights { w1, b1, w2, b2 }
    }
}

/// Every node of the recorded network that a delta flows along.
#[derive(Clone, Copy)]
pub struct OneSample<'t> {
    /// The input (a constant, `[batch, 1]`).
    pub x: Var<'t>,
    /// The target (a constant, `[batch, 1]`).
    pub t: Var<'t>,
    /// `hidden.w`, `hidden.b`, `output.w`, `output.b`: the leaves.
    pub w1: Var<'t>,
    /// See `w1`.
    pub b1: Var<'t>,
    /// See `w1`.
    pub w2: Var<'t>,
    /// See `w1`.
    pub b2: Var<'t>,
    /// `x w1`.
    pub xw1: Var<'t>,
    /// `hidden.u = x w1 + b1`.
    pub u1: Var<'t>,
    /// `hidden.y = sigmoid(u1)`.
    pub h: Var<'t>,
    /// `h w2`.
    pub hw2: Var<'t>,
    /// `output.y = h w2 + b2`.
    pub y: Var<'t>,
    /// `y - t`.
    pub diff: Var<'t>,
    /// `loss = sum(0.5 (y - t)^2)`.
    pub loss: Var<'t>,
}

impl<'t> OneSample<'t> {
    /// Records the forward pass on `tape`: the input `x` and target `t`
    /// as constants, the weights as leaves.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, notes::one_sample::{OneSample, Weights}};
    /// let tape = Tape::new();
    /// let x = Tensor::from_vec(vec![0.5], &[1, 1]);
    /// let net = OneSample::record(&tape, &x, &x, &Weights::drawn(1));
    /// assert_eq!((tape.len(), net.loss.index()), (15, 14));
    /// ```
    pub fn record(tape: &'t Tape, x: &Tensor, t: &Tensor, w: &Weights) -> OneSample<'t> {
        let x = tape.constant(x).named("x");
        let t = tape.constant(t).named("t");
        let w1 = tape.var(&w.w1).named("hidden.w");
        let b1 = tape.var(&w.b1).named("hidden.b");
        let w2 = tape.var(&w.w2).named("output.w");
        let b2 = tape.var(&w.b2).named("output.b");
        let xw1 = x.matmul(w1);
        let u1 = (xw1 + b1).named("hidden.u");
        let h = u1.sigmoid().named("hidden.y");
        let hw2 = h.matmul(w2);
        let y = (hw2 + b2).named("output.y");
        let diff = y - t;
        let loss = (diff.square() * 0.5).sum().named("loss");
        OneSample { x, t, w1, b1, w2, b2, xw1, u1, h, hw2, y, diff, loss }
    }

    /// The notes' deltas and gradients, each as (its formula, the node
    /// that sends it, the input it is sent to): what `OutputLayer` and
    /// `HiddenLayer` compute by hand is what the tape sends along that edge.
    ///
    /// ```
    /// # use tapegrad::{Tape, Tensor, notes::one_sample::{OneSample, Weights}};
    /// # let tape = Tape::new();
    /// # let x = Tensor::from_vec(vec![0.5], &[1, 1]);
    /// let net = OneSample::record(&tape, &x, &x, &Weights::drawn(1));
    /// let (what, from, to) = net.deltas()[4];
    /// assert_eq!((what, from.index(), to.index()), ("delta_hidden = grad_h h(1-h)", 8, 7));
    /// ```
    pub fn deltas(&self) -> [(&'static str, Var<'t>, Var<'t>); 7] {
        [
            ("delta_out = y - t", self.diff, self.y),
            ("grad_w2 = h^T delta_out", self.hw2, self.w2),
            ("grad_b2 = sum_0 delta_out", self.y, self.b2),
            ("grad_h = delta_out w2^T", self.hw2, self.h),
            ("delta_hidden = grad_h h(1-h)", self.h, self.u1),
            ("grad_w1 = x^T delta_hidden", self.xw1, self.w1),
            ("grad_b1 = sum_0 delta_hidden", self.u1, self.b1),
        ]
    }
}
