//! The pendulum chain: 20,000 steps of symplectic Euler,
//! `p -= h sin q; q += h p`, and the derivative d q_N / d q_0 of the final
//! angle with respect to the first, by reverse mode.
//!
//! The issue that asked for this bench gives the derivative
//! (4.853531040020061) but not the start; h = 0.01 (200 time units),
//! q_0 = 0.5, p_0 = 0 reproduce it to 6e-14, and `tests/pendulum.rs` checks
//! both versions below against it and against forward mode and central
//! differences.

use tapegrad::Tape;

/// Steps of the chain.
pub const STEPS: usize = 20_000;
/// Elementary ops per step on the tape: sin, times h, minus, times h, plus.
pub const OPS_PER_STEP: usize = 5;
/// Time step.
pub const H: f64 = 0.01;
/// Start angle and momentum.
pub const Q0: f64 = 0.5;
pub const P0: f64 = 0.0;
/// d q_N / d q_0 for the constants above, as the issue states it.
pub const DQN_DQ0: f64 = 4.853531040020061;

/// Records the chain on a cleared tape and differentiates it; returns
/// (q_N, d q_N / d q_0).
pub fn tape_chain(tape: &mut Tape, steps: usize) -> (f64, f64) {
    tape.clear();
    let tape = &*tape;
    let q0 = tape.scalar(Q0);
    let (mut q, mut p) = (q0, tape.scalar(P0));
    for _ in 0..steps {
        p = p - q.sin() * H;
        q = q + p * H;
    }
    let g = q.backward();
    (q.item(), g.with_grad(q0, |d| d.expect("q_N depends on q_0")[0]))
}

/// The chain recorded once (`Tape::replay`): its tape and the nodes of
/// q_0, p_0 and q_N.
pub struct ReplayChain {
    tape: Tape,
    q0: usize,
    p0: usize,
    q: usize,
}

impl ReplayChain {
    /// Records the chain of `steps` steps once.
    pub fn record(steps: usize) -> ReplayChain {
        let tape = Tape::new();
        let q0 = tape.scalar(Q0);
        let p0 = tape.scalar(P0);
        let (mut q, mut p) = (q0, p0);
        for _ in 0..steps {
            p = p - q.sin() * H;
            q = q + p * H;
        }
        let (q0, p0, q) = (q0.index(), p0.index(), q.index());
        ReplayChain { tape, q0, p0, q }
    }

    /// The chain from `(q0, p0)` by replay, then differentiated: returns
    /// (q_N, d q_N / d q_0), as `tape_chain`.
    pub fn run(&self, q0: f64, p0: f64) -> (f64, f64) {
        let tape = &self.tape;
        let (q0v, q) = (tape.node(self.q0), tape.node(self.q));
        tape.set(q0v, &[q0]);
        tape.set(tape.node(self.p0), &[p0]);
        tape.replay();
        let g = q.backward();
        (q.item(), g.with_grad(q0v, |d| d.expect("q_N depends on q_0")[0]))
    }
}

/// The same chain by hand: the forward pass stores the one partial that is
/// not a constant, cos q, per step; the reverse sweep carries the adjoints
/// of q and p back through `q += h p` and `p -= h sin q`. `cos_q` is reused
/// between calls, so steady state allocates nothing.
pub fn hand_chain(cos_q: &mut Vec<f64>, steps: usize) -> (f64, f64) {
    cos_q.clear();
    let (mut q, mut p) = (Q0, P0);
    for _ in 0..steps {
        let (s, c) = q.sin_cos();
        cos_q.push(c);
        p -= H * s;
        q += H * p;
    }
    // Adjoints of (q, p) after the last step: d q_N / d (q, p).
    let (mut qb, mut pb) = (1.0, 0.0);
    for &c in cos_q.iter().rev() {
        pb += H * qb; // q' = q + h p'
        qb -= H * c * pb; // p' = p - h sin q
    }
    (q, qb)
}
