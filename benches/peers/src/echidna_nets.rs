//! The pendulum chain and the sine step written with echidna's scalars,
//! generic over its `Scalar` trait so one function serves both its tapes.

use crate::workloads::pendulum::{H, P0, Q0};
use echidna::{BytecodeTape, Scalar};

/// q_N after `steps` steps from inputs `[q_0, p_0]`.
pub fn pendulum<T: Scalar<Float = f64>>(x: &[T], steps: usize) -> T {
    let h = T::from_f(H);
    let (mut q, mut p) = (x[0], x[1]);
    for _ in 0..steps {
        p = p - q.sin() * h;
        q = q + p * h;
    }
    q
}

/// d q_N / d q_0 on echidna's Adept-style tape (recorded every call).
pub fn pendulum_tape(steps: usize) -> f64 {
    echidna::grad(|x| pendulum(x, steps), &[Q0, P0])[0]
}

/// The pendulum of `steps` steps recorded once on echidna's bytecode tape.
pub fn pendulum_bytecode(steps: usize) -> BytecodeTape<f64> {
    echidna::record(|x| pendulum(x, steps), &[Q0, P0]).0
}

/// d q_N / d q_0 by re-evaluating the recorded tape.
pub fn pendulum_replay(tape: &mut BytecodeTape<f64>, buf: &mut Vec<f64>) -> f64 {
    tape.gradient_with_buf(&[Q0, P0], buf)[0]
}

/// Hidden units of the sine network.
pub const HIDDEN: usize = 3;
/// Parameters: w1 (3), b1 (3), w2 (3), b2 (1), in tapegrad's order.
pub const PARAMS: usize = 3 * HIDDEN + 1;

/// The sine network's error `0.5 (y - t)^2` from inputs
/// `[w1.., b1.., w2.., b2, x, t]`. The sigmoid is `1 / (1 + e^-z)` without a
/// branch on the sign, so the bytecode tape's recording holds for any input.
pub fn sine_error<T: Scalar<Float = f64>>(v: &[T]) -> T {
    let one = T::from_f(1.0);
    let (x, t) = (v[PARAMS], v[PARAMS + 1]);
    let mut y = v[3 * HIDDEN];
    for j in 0..HIDDEN {
        let z = x * v[j] + v[HIDDEN + j];
        let h = one / (one + (-z).exp());
        y = y + h * v[2 * HIDDEN + j];
    }
    let d = y - t;
    T::from_f(0.5) * d * d
}

/// Parameters, sample and a reused input buffer for the sine step.
pub struct SineState {
    /// `[w1.., b1.., w2.., b2, x, t]`: the parameters, then the sample.
    pub inputs: Vec<f64>,
}

impl SineState {
    /// From tapegrad's parameters (`hidden.w`, `hidden.b`, `out.w`, `out.b`).
    pub fn from_params(p: &tapegrad::nn::Params) -> SineState {
        let mut inputs = Vec::with_capacity(PARAMS + 2);
        for name in ["hidden.w", "hidden.b", "out.w", "out.b"] {
            inputs.extend_from_slice(p.get(name).expect("a 1-3-1 sine network").data());
        }
        inputs.extend([0.0, 0.0]);
        SineState { inputs }
    }

    fn sgd(&mut self, grad: &[f64], lr: f64) {
        self.inputs[..PARAMS].iter_mut().zip(grad).for_each(|(p, g)| *p -= lr * g);
    }

    /// One step on echidna's Adept-style tape (`echidna::grad` returns the
    /// gradient only, so no error is returned).
    pub fn step_tape(&mut self, x: f64, t: f64, lr: f64) {
        self.inputs[PARAMS] = x;
        self.inputs[PARAMS + 1] = t;
        let g = echidna::grad(sine_error, &self.inputs);
        self.sgd(&g, lr);
    }

    /// Records the error once on echidna's bytecode tape.
    pub fn record(&self) -> BytecodeTape<f64> {
        echidna::record(sine_error, &self.inputs).0
    }

    /// One step by re-evaluating the recorded tape; returns the error before it.
    pub fn step_replay(&mut self, tape: &mut BytecodeTape<f64>, buf: &mut Vec<f64>, x: f64, t: f64, lr: f64) -> f64 {
        self.inputs[PARAMS] = x;
        self.inputs[PARAMS + 1] = t;
        let g = tape.gradient_with_buf(&self.inputs, buf);
        let e = tape.output_value();
        self.sgd(&g, lr);
        e
    }
}
