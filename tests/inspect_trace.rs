//! The traced backward sweep against the notes' hand-written layers: the
//! deltas of `OutputLayer` and `HiddenLayer`, computed here with plain
//! tensor math (no tape), must be exactly what the tape's nodes sent.

use rand::SeedableRng;
use tapegrad::inspect::Trace;
use tapegrad::{Gradients, Tape, Tensor, Var};

/// The notes' 1-3-1 network's parameters and one batch of samples.
struct Setup {
    x: Tensor,
    t: Tensor,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

fn setup(batch: usize, seed: u64) -> Setup {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
    let x = Tensor::from_vec((0..batch).map(|i| 0.7 + 1.3 * i as f64).collect(), &[batch, 1]);
    let t = x.map(f64::sin);
    let w1 = Tensor::randn(&[1, 3], &mut rng);
    let b1 = Tensor::randn(&[3], &mut rng);
    let w2 = Tensor::randn(&[3, 1], &mut rng);
    let b2 = Tensor::randn(&[1], &mut rng);
    Setup { x, t, w1, b1, w2, b2 }
}

/// The notes' hand-written forward and backward (HiddenLayer, OutputLayer).
struct Deltas {
    delta_out: Tensor,
    grad_w2: Tensor,
    grad_b2: Tensor,
    grad_h: Tensor,
    delta_hidden: Tensor,
    grad_w1: Tensor,
    grad_b1: Tensor,
}

fn by_hand(s: &Setup) -> Deltas {
    let h = (&s.x.matmul(&s.w1) + &s.b1).map(|u| 1.0 / (1.0 + (-u).exp()));
    let y = &h.matmul(&s.w2) + &s.b2;
    let delta_out = &y - &s.t;
    let grad_h = delta_out.matmul(&s.w2.t());
    let delta_hidden = grad_h.mul(&h.map(|v| (1.0 - v) * v));
    Deltas {
        grad_w2: h.t().matmul(&delta_out),
        grad_b2: delta_out.sum_axis(0, false),
        grad_w1: s.x.t().matmul(&delta_hidden),
        grad_b1: delta_hidden.sum_axis(0, false),
        delta_out,
        grad_h,
        delta_hidden,
    }
}

/// The same network on a tape, traced; returns the trace and the Vars that
/// the notes' deltas flow along.
struct Traced<'t> {
    grads: Gradients<'t>,
    trace: Trace,
    v: [Var<'t>; 11], // w1 b1 w2 b2 xw1 u1 h hw2 y diff loss
}

fn traced<'t>(tape: &'t Tape, s: &Setup) -> Traced<'t> {
    let x = tape.constant(&s.x).named("x");
    let t = tape.constant(&s.t).named("t");
    let w1 = tape.var(&s.w1).named("hidden.w");
    let b1 = tape.var(&s.b1).named("hidden.b");
    let w2 = tape.var(&s.w2).named("output.w");
    let b2 = tape.var(&s.b2).named("output.b");
    let xw1 = x.matmul(w1);
    let u1 = (xw1 + b1).named("hidden.u");
    let h = u1.sigmoid().named("hidden.y");
    let hw2 = h.matmul(w2);
    let y = (hw2 + b2).named("output.y");
    let diff = y - t;
    let loss = (diff.square() * 0.5).sum().named("loss");
    let (grads, trace) = loss.backward_traced();
    Traced { grads, trace, v: [w1, b1, w2, b2, xw1, u1, h, hw2, y, diff, loss] }
}

fn assert_close(what: &str, hand: &Tensor, tape: &Tensor) {
    assert_eq!(hand.shape(), tape.shape(), "{what}: shapes");
    let diff = hand.max_abs_diff(tape);
    assert!(diff <= 1e-14, "{what}: by hand {hand} but the tape sent {tape} (diff {diff:e})");
}

fn check_against_hand(batch: usize, seed: u64) {
    let s = setup(batch, seed);
    let d = by_hand(&s);
    let tape = Tape::new();
    let tr = traced(&tape, &s);
    let [w1, b1, w2, b2, xw1, u1, h, hw2, y, diff, _loss] = tr.v;
    let sent = |from: Var<'_>, to: Var<'_>| tr.trace.sent(from, to).unwrap_or_else(|| panic!("no edge")).clone();
    assert_close("delta_out", &d.delta_out, &sent(diff, y));
    assert_close("delta_out is the upstream of y", &d.delta_out, &tr.trace.step(y).unwrap().upstream);
    assert_close("grad_w2", &d.grad_w2, &sent(hw2, w2));
    assert_close("grad_b2", &d.grad_b2, &sent(y, b2));
    assert_close("grad_h", &d.grad_h, &sent(hw2, h));
    assert_close("grad_h is the upstream of h", &d.grad_h, &tr.trace.step(h).unwrap().upstream);
    assert_close("delta_hidden", &d.delta_hidden, &sent(h, u1));
    assert_close("grad_w1", &d.grad_w1, &sent(xw1, w1));
    assert_close("grad_b1", &d.grad_b1, &sent(u1, b1));
    // The sigmoid's local derivative is h(1 - h), element by element.
    let local = tr.trace.step(h).unwrap().local[0].value.clone().unwrap();
    assert_close("sigmoid's local", &h.value().map(|v| v * (1.0 - v)), &local);
    // Each leaf's final gradient is the notes' gradient.
    for (leaf, want) in [(w1, &d.grad_w1), (b1, &d.grad_b1), (w2, &d.grad_w2), (b2, &d.grad_b2)] {
        assert_close("leaf gradient in the trace", want, &tr.trace.step(leaf).unwrap().upstream);
        assert_close("leaf gradient returned", want, &tr.grads.wrt(leaf));
    }
}

#[test]
fn one_sample_trace_equals_the_notes_deltas() {
    for seed in 0..5 {
        check_against_hand(1, seed);
    }
}

#[test]
fn batch_trace_sums_bias_deltas_over_axis_0_like_the_notes() {
    check_against_hand(5, 7);
}

#[test]
fn every_upstream_is_the_sum_of_what_later_nodes_sent() {
    let s = setup(3, 1);
    let tape = Tape::new();
    let tr = traced(&tape, &s);
    for step in &tr.trace.steps[1..] {
        let mut total = Tensor::zeros(step.upstream.shape());
        for later in &tr.trace.steps {
            for (to, g) in &later.sends {
                if *to == step.node {
                    total = total.add(g);
                }
            }
        }
        assert!(total.max_abs_diff(&step.upstream) <= 1e-15, "node {}", step.node);
    }
    // steps run from the output back to the first node
    assert!(tr.trace.steps.windows(2).all(|w| w[0].node > w[1].node));
}

#[test]
fn a_node_used_twice_sends_both_contributions() {
    let tape = Tape::new();
    let x = tape.scalar(3.0).named("x");
    let y = (x * x).named("y"); // dy/dx = b + a = 2x
    let z = (y + x).named("z"); // x also reaches z directly
    let (_, trace) = z.backward_traced();
    assert_eq!(trace.sent(y, x).unwrap().item(), 6.0);
    assert_eq!(trace.sent(z, x).unwrap().item(), 1.0);
    assert_eq!(trace.step(x).unwrap().upstream.item(), 7.0);
    insta::assert_snapshot!("reused_node", trace.to_string());
}

#[test]
fn one_sample_walk_reads_as_the_chain_rule() {
    let s = setup(1, 0);
    let tape = Tape::new();
    let tr = traced(&tape, &s);
    let text = tr.trace.to_string();
    assert!(text.contains("node 8 sigmoid \"hidden.y\": upstream ["), "{text}");
    assert!(text.contains("local s(1-s) = ["), "{text}");
    insta::assert_snapshot!("sine_walk", text);
}

#[test]
fn non_scalar_output_is_an_error_not_a_panic() {
    let tape = Tape::new();
    let x = tape.var(Tensor::ones(&[2, 2]));
    let err = x.sigmoid().try_backward_traced().unwrap_err();
    assert!(err.to_string().contains("shape [2, 2]"), "{err}");
}
