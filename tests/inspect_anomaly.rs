//! Checked mode: each classic way to get a NaN or an infinity is caught at
//! the op that made it, and reported (op, node, name, inputs) as an error.

use tapegrad::inspect::{Anomaly, Phase};
use tapegrad::{Tape, Tensor};

fn forward_anomaly(tape: &Tape) -> Box<Anomaly> {
    let err = tape.check().expect_err("checked mode should have caught a non-finite value");
    assert_eq!(err.phase, Phase::Forward);
    err
}

#[test]
fn ln_of_zero() {
    let tape = Tape::checked();
    let x = tape.var(Tensor::from_vec(vec![1.0, 0.0, 2.0], &[3])).named("x");
    let y = x.ln().named("log_x");
    let loss = (y * 2.0).sum(); // -inf spreads to every later node
    let err = forward_anomaly(&tape);
    assert_eq!((err.node, err.op.as_str(), err.name.as_deref()), (1, "ln", Some("log_x")));
    assert_eq!((err.output.min, err.output.inf), (f64::NEG_INFINITY, 1));
    assert_eq!((err.inputs[0].node, err.inputs[0].value.min, err.inputs[0].value.max), (0, 0.0, 2.0));
    // the checked backward refuses to run on it, with the same report
    let from_backward = loss.try_backward_checked().unwrap_err();
    assert_eq!(from_backward.anomaly(), Some(&*err));
    insta::assert_snapshot!("ln_zero", err.to_string());
}

#[test]
fn zero_over_zero() {
    let tape = Tape::checked();
    let a = tape.scalar(0.0).named("a");
    let b = tape.scalar(0.0).named("b");
    let _ = (a / b).named("q").exp();
    let err = forward_anomaly(&tape);
    assert_eq!((err.node, err.op.as_str()), (2, "div"));
    assert!(err.output.has_nan());
    assert_eq!(err.inputs.iter().map(|i| i.name.clone().unwrap()).collect::<Vec<_>>(), ["a", "b"]);
    insta::assert_snapshot!("zero_over_zero", err.to_string());
}

#[test]
fn exp_of_1000() {
    let tape = Tape::checked();
    let x = tape.scalar(1000.0).named("x");
    let y = (x * 1.0).exp().named("e");
    let err = forward_anomaly(&tape);
    assert_eq!((err.node, err.op.as_str(), err.name.as_deref()), (y.index(), "exp", Some("e")));
    assert_eq!(err.output.max, f64::INFINITY);
    assert_eq!(err.inputs[0].value.max, 1000.0);
    insta::assert_snapshot!("exp_1000", err.to_string());
}

/// Gradient descent on f(x) = x^4 with a learning rate far too large: x
/// jumps further out every step until x^4 overflows. The step and value at
/// which that happens are found first with plain f64 arithmetic.
#[test]
fn diverging_learning_rate() {
    let (x0, lr) = (2.0f64, 1.0);
    let (mut x, mut expected_step) = (x0, 0);
    while x.powi(4).is_finite() {
        x -= lr * 4.0 * x.powi(3);
        expected_step += 1;
    }
    let overflowing_x = x;
    assert!(expected_step > 2, "the run should diverge over several steps, not at once");

    let mut tape = Tape::checked();
    let mut x = x0;
    let mut caught = None;
    for step in 0..100 {
        tape.clear();
        let xv = tape.scalar(x).named("x");
        let loss = xv.powi(4).named("loss");
        match loss.try_backward_checked() {
            Ok(grads) => x -= lr * grads.wrt(xv).item(),
            Err(e) => {
                caught = Some((step, e.anomaly().expect("an anomaly, not a shape error").clone()));
                break;
            }
        }
    }
    let (step, err) = caught.expect("the divergence was never caught");
    assert_eq!(step, expected_step);
    assert_eq!(
        (err.phase, err.node, err.op.as_str(), err.name.as_deref()),
        (Phase::Forward, 1, "powi(4)", Some("loss"))
    );
    assert_eq!(err.inputs[0].value.max, overflowing_x);
    insta::assert_snapshot!("diverging_lr", format!("caught at step {step}\n{err}"));
}

#[test]
fn infinite_gradient_from_finite_values() {
    // sqrt(0) = 0 is fine, but its derivative 1/(2 sqrt x) is +inf at 0.
    let tape = Tape::checked();
    let x = tape.var(Tensor::from_vec(vec![4.0, 0.0], &[2])).named("x");
    let r = x.sqrt().named("root");
    let loss = (r * 3.0).sum().named("loss");
    assert!(tape.check().is_ok(), "every value is finite");
    let err = loss.try_backward_checked().unwrap_err();
    let a = err.anomaly().unwrap();
    assert_eq!((a.phase, a.node, a.op.as_str(), a.name.as_deref()), (Phase::Backward, 1, "sqrt", Some("root")));
    let (to, sent) = a.sent.clone().unwrap();
    assert_eq!((to, sent.max, sent.inf), (0, f64::INFINITY, 1));
    assert_eq!(a.output.max, 3.0); // the upstream, still finite
    insta::assert_snapshot!("sqrt_zero_backward", a.to_string());
}

#[test]
fn check_without_checked_mode_scans_the_values() {
    let tape = Tape::new();
    let x = tape.scalar(-1.0).named("x");
    let _ = x.ln(); // NaN
    let _ = x.exp().ln();
    let err = tape.check().unwrap_err();
    assert_eq!((err.node, err.op.as_str()), (1, "ln"));
}

#[test]
fn clear_forgets_the_anomaly_and_stays_checked() {
    let mut tape = Tape::checked();
    let _ = tape.scalar(0.0).ln();
    assert!(tape.check().is_err());
    tape.clear();
    assert!(tape.is_checked());
    let x = tape.scalar(2.0);
    let g = x.ln().try_backward_checked().unwrap();
    assert_eq!(g.wrt(x).item(), 0.5);
    assert!(tape.check().is_ok());
}

#[test]
fn anomaly_after_the_output_does_not_block_its_backward() {
    let tape = Tape::checked();
    let x = tape.scalar(3.0);
    let y = x.square();
    let _later = (x - 3.0).ln(); // -inf, recorded after y
    assert!(tape.check().is_err());
    assert_eq!(y.try_backward_checked().unwrap().wrt(x).item(), 6.0);
}

#[test]
fn checked_backward_of_a_vector_is_a_shape_error() {
    let tape = Tape::checked();
    let x = tape.var(Tensor::ones(&[3]));
    let err = x.exp().try_backward_checked().unwrap_err();
    assert!(err.anomaly().is_none());
    assert!(err.to_string().contains("shape [3]"), "{err}");
}

#[test]
fn a_stopped_checked_backward_leaves_no_stale_gradient_for_the_next_sweep() {
    // sqrt at 0 sends an infinite gradient to x, and the checked sweep stops
    // there, before visiting x. The next sweep on the same tape reuses the
    // adjoint buffer and must not find that infinity still in x's slot.
    let tape = Tape::checked();
    let x = tape.scalar(0.0);
    let y = x.sqrt();
    assert!(y.try_backward_checked().is_err());
    let z = x * 3.0;
    assert_eq!(z.backward().wrt(x).item(), 3.0); // d(3x)/dx, by hand
}
