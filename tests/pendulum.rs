//! The pendulum bench's chain (`benches/workloads/pendulum.rs`) computes the
//! derivative the issue states, d q_N / d q_0 = 4.853531040020061, on the tape
//! and by the hand-written reverse sweep; forward mode and central
//! differences, written here independently, agree.

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use tapegrad::Tape;
use workloads::pendulum::{self, DQN_DQ0, H, P0, Q0, STEPS};

/// The chain's forward map from q_0, with the tangent d(q, p)/d q_0 carried
/// alongside (forward mode by hand): returns (q_N, d q_N / d q_0).
fn forward_mode(q0: f64) -> (f64, f64) {
    let (mut q, mut p, mut dq, mut dp) = (q0, P0, 1.0, 0.0);
    for _ in 0..STEPS {
        dp -= H * q.cos() * dq;
        p -= H * q.sin();
        dq += H * dp;
        q += H * p;
    }
    (q, dq)
}

#[test]
fn the_tape_and_the_hand_sweep_give_the_stated_derivative() {
    let (q_tape, d_tape) = pendulum::tape_chain(&mut Tape::new(), STEPS);
    let (q_hand, d_hand) = pendulum::hand_chain(&mut Vec::new(), STEPS);
    assert!((d_tape - DQN_DQ0).abs() < 1e-12, "tape: {d_tape}");
    assert!((d_hand - DQN_DQ0).abs() < 1e-12, "hand: {d_hand}");
    let (q_fwd, d_fwd) = forward_mode(Q0);
    assert!((d_fwd - DQN_DQ0).abs() < 1e-12, "forward mode: {d_fwd}");
    assert_eq!(q_tape, q_fwd, "the tape's forward pass is the same arithmetic");
    assert_eq!(q_hand, q_fwd);
}

#[test]
fn central_differences_agree() {
    let e = 1e-6;
    let numeric = (forward_mode(Q0 + e).0 - forward_mode(Q0 - e).0) / (2.0 * e);
    assert!((numeric - DQN_DQ0).abs() < 1e-6, "central difference {numeric}");
}

#[test]
fn short_chains_match_too() {
    // One step by hand: q_1 = q + h (p - h sin q), so d q_1 / d q_0 = 1 - h^2 cos q.
    let (_, d) = pendulum::tape_chain(&mut Tape::new(), 1);
    assert!((d - (1.0 - H * H * Q0.cos())).abs() < 1e-15);
    for steps in [2, 3, 10, 1000] {
        let (_, dt) = pendulum::tape_chain(&mut Tape::new(), steps);
        let (_, dh) = pendulum::hand_chain(&mut Vec::new(), steps);
        assert!((dt - dh).abs() < 1e-12 * dh.abs(), "{steps} steps: tape {dt}, hand {dh}");
    }
}

#[test]
fn the_replayed_chain_equals_fresh_recordings_from_other_starts() {
    // Recorded once from (Q0, P0), replayed from other starts: bit for bit
    // a fresh recording from each start, and the stated derivative again
    // when replayed from (Q0, P0).
    let chain = pendulum::ReplayChain::record(STEPS);
    for (q0, p0) in [(0.3, 0.1), (-1.0, 0.5), (Q0, P0)] {
        let (q, d) = chain.run(q0, p0);
        let tape = Tape::new();
        let (fq0, fp0) = (tape.scalar(q0), tape.scalar(p0));
        let (mut fq, mut fp) = (fq0, fp0);
        for _ in 0..STEPS {
            fp = fp - fq.sin() * H;
            fq = fq + fp * H;
        }
        let fd = fq.backward().wrt(fq0).item();
        assert_eq!((q.to_bits(), d.to_bits()), (fq.item().to_bits(), fd.to_bits()), "from ({q0}, {p0})");
    }
    assert!((chain.run(Q0, P0).1 - DQN_DQ0).abs() < 1e-12);
}
