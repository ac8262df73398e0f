//! micrograd's neuron, `o = tanh(x1 w1 + x2 w2 + b)`, with Karpathy's
//! numbers and labels: the picture every backprop lecture draws, recorded
//! once here for the examples (`graph`, `stepper`) and the tests that check
//! it against micrograd's published gradients (x1 -1.5, w1 1.0, x2 0.5,
//! w2 0.0, b and n 0.5).

use crate::{Tape, Var};

/// The neuron's leaves and the nodes the lecture names.
#[derive(Clone, Copy)]
pub struct Neuron<'t> {
    /// An input, 2.
    pub x1: Var<'t>,
    /// An input, 0.
    pub x2: Var<'t>,
    /// A weight, -3.
    pub w1: Var<'t>,
    /// A weight, 1.
    pub w2: Var<'t>,
    /// The bias, 6.8813735870195432 (so that `n` is 0.8813735870195432 and `o = 1/sqrt 2`).
    pub b: Var<'t>,
    /// `x1 w1 + x2 w2 + b`.
    pub n: Var<'t>,
    /// `tanh(n)`, the output.
    pub o: Var<'t>,
}

impl<'t> Neuron<'t> {
    /// Records the neuron on `tape`, every node named as micrograd labels it.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let nn = tapegrad::notes::neuron::Neuron::record(&tape);
    /// let g = nn.o.backward();
    /// assert!((g.wrt(nn.x1).item() + 1.5).abs() < 1e-12); // micrograd's README
    /// ```
    pub fn record(tape: &'t Tape) -> Neuron<'t> {
        let x1 = tape.scalar(2.0).named("x1");
        let x2 = tape.scalar(0.0).named("x2");
        let w1 = tape.scalar(-3.0).named("w1");
        let w2 = tape.scalar(1.0).named("w2");
        let b = tape.scalar(6.881_373_587_019_543).named("b");
        let sum = ((x1 * w1).named("x1w1") + (x2 * w2).named("x2w2")).named("x1w1+x2w2");
        let n = (sum + b).named("n");
        let o = n.tanh().named("o");
        Neuron { x1, x2, w1, w2, b, n, o }
    }
}
