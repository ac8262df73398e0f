//! Bad input gets a clear message naming the op and the shapes, from the
//! panicking form and as an `Err` from the `try_` form; nothing fails with
//! an index error from deep inside.

use std::panic::{AssertUnwindSafe, catch_unwind};
use tapegrad::check::{GradcheckError, GradcheckOptions, gradcheck};
use tapegrad::ops::custom::CustomOp;
use tapegrad::{BackwardError, Tape, Tensor, loss};

/// The message `f` panics with (panics if it does not).
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(p) => p,
    };
    match (payload.downcast_ref::<String>(), payload.downcast_ref::<&str>()) {
        (Some(s), _) => s.clone(),
        (_, Some(s)) => s.to_string(),
        _ => panic!("panic payload is not a string"),
    }
}

const ADD_MSG: &str = "add: shapes [2, 3] and [4]: cannot broadcast (dimension 1 is 3 in one and 4 in the other)";
const MATMUL_MSG: &str = "matmul: shapes [2, 3] and [4, 5]: inner dimensions 3 and 4 differ";

#[test]
fn add_mismatch_names_the_op_and_both_shapes() {
    let (a, b) = (Tensor::zeros(&[2, 3]), Tensor::zeros(&[4]));
    assert_eq!(a.try_add(&b).unwrap_err().to_string(), ADD_MSG);
    assert_eq!(panic_message(|| &a + &b), ADD_MSG);
    let tape = Tape::new();
    let (x, y) = (tape.var(&a), tape.var(&b));
    assert_eq!(x.try_add(y).unwrap_err().to_string(), ADD_MSG);
    assert_eq!(panic_message(|| x + y), ADD_MSG);
    // The other ops name themselves.
    assert!(panic_message(|| x * y).starts_with("mul: shapes [2, 3] and [4]"));
    assert!(panic_message(|| x - y).starts_with("sub: shapes [2, 3] and [4]"));
    assert!(panic_message(|| x / y).starts_with("div: shapes [2, 3] and [4]"));
    assert!(panic_message(|| x.maximum(y)).starts_with("maximum: shapes [2, 3] and [4]"));
    assert!(a.try_mul(&b).unwrap_err().to_string().starts_with("mul: shapes [2, 3] and [4]"));
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4]: cannot broadcast")]
fn add_operator_panics_with_the_shapes() {
    let tape = Tape::new();
    let _ = tape.var(Tensor::zeros(&[2, 3])) + tape.var(Tensor::zeros(&[4]));
}

#[test]
fn matmul_mismatch_names_the_op_and_both_shapes() {
    let (a, b) = (Tensor::zeros(&[2, 3]), Tensor::zeros(&[4, 5]));
    assert_eq!(a.try_matmul(&b).unwrap_err().to_string(), MATMUL_MSG);
    assert_eq!(panic_message(|| a.matmul(&b)), MATMUL_MSG);
    let tape = Tape::new();
    let (x, y) = (tape.var(&a), tape.var(&b));
    let err = x.try_matmul(y).unwrap_err();
    assert_eq!((err.op, err.shapes.len()), ("matmul", 2));
    assert_eq!(err.to_string(), MATMUL_MSG);
    assert_eq!(panic_message(|| x.matmul(y)), MATMUL_MSG);
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3] and [4, 5]: inner dimensions 3 and 4 differ")]
fn matmul_method_panics_with_the_shapes() {
    let tape = Tape::new();
    let _ = tape.var(Tensor::zeros(&[2, 3])).matmul(tape.var(Tensor::zeros(&[4, 5])));
}

#[test]
fn matmul_and_transpose_need_2d() {
    let v = Tensor::zeros(&[3]);
    let want = "matmul: shapes [3] and [3]: both operands must be 2-D";
    assert_eq!(v.try_matmul(&v).unwrap_err().to_string(), want);
    let tape = Tape::new();
    let x = tape.var(&v);
    // A Var's matmul also takes batches (3-D), and says so.
    let want_var = "matmul: shapes [3] and [3]: operands must be 2-D (a matrix) or 3-D (a batch of matrices)";
    assert_eq!(x.try_matmul(x).unwrap_err().to_string(), want_var);
    assert_eq!(panic_message(|| x.t()), "t: shape [3]: expected a 2-D tensor");
    assert_eq!(panic_message(|| v.t()), "t: shape [3]: expected a 2-D tensor");
    assert_eq!(panic_message(|| v.as_mat()), "as_mat: shape [3]: expected a 2-D tensor");
}

#[test]
fn reshape_and_axis_errors_name_op_and_shape() {
    let t = Tensor::zeros(&[2, 3]);
    let want = "reshape: shapes [2, 3] and [4]: 6 elements cannot become 4";
    assert_eq!(t.try_reshape(&[4]).unwrap_err().to_string(), want);
    assert_eq!(panic_message(|| t.reshape(&[4])), want);
    let tape = Tape::new();
    let x = tape.var(&t);
    assert_eq!(x.try_reshape(&[4]).unwrap_err().to_string(), want);
    assert_eq!(panic_message(|| x.reshape(&[4])), want);

    let axis = |op: &str| format!("{op}: shape [2, 3]: axis 2 is out of range for 2 dimensions");
    assert_eq!(x.try_sum_axis(2, false).unwrap_err().to_string(), axis("sum_axis"));
    assert_eq!(x.try_mean_axis(2, true).unwrap_err().to_string(), axis("mean_axis"));
    assert_eq!(panic_message(|| x.sum_axis(2, true)), axis("sum_axis"));
    assert_eq!(panic_message(|| x.mean_axis(2, false)), axis("mean_axis"));
    assert_eq!(panic_message(|| t.sum_axis(2, false)), axis("sum_axis"));
    assert_eq!(panic_message(|| t.mean_axis(2, false)), axis("mean_axis"));
    let s = tape.scalar(1.0);
    assert_eq!(
        s.try_sum_axis(0, false).unwrap_err().to_string(),
        "sum_axis: shape []: axis 0 is out of range for 0 dimensions"
    );
}

#[test]
fn backward_of_a_non_scalar_says_how_to_fix_it() {
    let tape = Tape::new();
    let x = tape.var(Tensor::ones(&[3]));
    let y = x * 2.0;
    let want = "backward: node 1 has shape [3], not a single element; reduce it first \
                (e.g. .sum() or .mean()) or call backward_with(seed) with a seed of that shape";
    let err = y.try_backward().unwrap_err();
    assert!(matches!(&err, BackwardError::NotScalar { node: 1, shape } if shape.as_slice() == [3]));
    assert_eq!(err.to_string(), want);
    assert_eq!(panic_message(|| y.backward()), want);
    // An empty output is not a scalar either.
    let e = tape.var(Tensor::zeros(&[0]));
    assert!(e.try_backward().unwrap_err().to_string().starts_with("backward: node 2 has shape [0]"));
    // A seed of the wrong shape.
    let want = "backward_with: the seed has shape [2] but the output has shape [3]";
    assert_eq!(y.try_backward_with(&Tensor::ones(&[2])).unwrap_err().to_string(), want);
    assert_eq!(panic_message(|| y.backward_with(&Tensor::ones(&[2]))), want);
}

#[test]
fn a_var_from_another_tape_is_caught_in_ops_and_in_wrt() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = t1.scalar(1.0);
    let _pad = t2.scalar(0.0);
    let b = t2.scalar(2.0);
    let op_msg = |op: &str| {
        format!(
            "{op}: shapes [] and []: an operand belongs to another tape (node 1 of a different Tape); \
             Vars can only be combined with Vars recorded on the same tape"
        )
    };
    assert_eq!(panic_message(|| a + b), op_msg("add"));
    // The try_ forms return the same message as an error, without panicking.
    assert_eq!(a.try_mul(b).unwrap_err().to_string(), op_msg("mul"));
    assert_eq!(a.try_maximum(b).unwrap_err().to_string(), op_msg("maximum"));
    let (m1, m2) = (t1.var(Tensor::ones(&[1, 1])), t2.var(Tensor::ones(&[1, 1])));
    let want = "matmul: shapes [1, 1] and [1, 1]: an operand belongs to another tape (node 2 of a different Tape)";
    assert!(panic_message(|| m1.matmul(m2)).starts_with(want));
    assert!(m1.try_matmul(m2).unwrap_err().to_string().starts_with(want));
    let want = "identity: shape []: an operand belongs to another tape (node 1 of a different Tape)";
    assert!(panic_message(|| t1.custom(Identity, &[b])).starts_with(want));
    assert!(t1.try_custom(Identity, &[b]).unwrap_err().to_string().starts_with(want));
    let (p1, p2) = (t1.var(Tensor::ones(&[2])), t2.var(Tensor::ones(&[2])));
    for e in [loss::try_mse(p1, p2), loss::try_hinge(p1, p2), loss::try_l2(&[p1, p2])] {
        assert!(e.unwrap_err().to_string().contains("an operand belongs to another tape"));
    }
    let g = (a * a).backward();
    assert_eq!(panic_message(|| g.wrt(b)), "wrt: node 1 belongs to another tape than these gradients");
    assert!(panic_message(|| g.with_grad(b, |_| ())).starts_with("wrt: node 1 belongs to another tape"));
    // The tape stays usable after the refused op.
    assert_eq!((a * 3.0).backward().wrt(a).item(), 3.0);
}

#[test]
fn from_vec_with_a_wrong_length() {
    let want = "from_vec: shape [2, 3]: 5 values cannot fill 6 elements";
    assert_eq!(Tensor::try_from_vec(vec![0.0; 5], &[2, 3]).unwrap_err().to_string(), want);
    assert_eq!(panic_message(|| Tensor::from_vec(vec![0.0; 5], &[2, 3])), want);
    let tape = Tape::new();
    assert_eq!(
        panic_message(|| tape.var_from_slice(&[1.0; 3], &[2])),
        "var_from_slice: shape [2]: 3 values cannot fill 2 elements"
    );
    assert_eq!(
        panic_message(|| tape.constant_from_slice(&[1.0; 3], &[4])),
        "constant_from_slice: shape [4]: 3 values cannot fill 4 elements"
    );
}

#[test]
fn cross_entropy_with_bad_targets() {
    let tape = Tape::new();
    let z = tape.var(Tensor::zeros(&[2, 4]));
    let cases: [(&[usize], &str); 2] = [
        (&[1, 4], "cross_entropy: shapes [2, 4] and [2]: class 4 is out of range for 4 classes"),
        (&[1, 2, 3], "cross_entropy: shapes [2, 4] and [3]: 3 targets for a batch of 2"),
    ];
    for (targets, want) in cases {
        assert_eq!(loss::try_cross_entropy(z, targets).unwrap_err().to_string(), want);
        assert_eq!(panic_message(|| loss::cross_entropy(z, targets)), want);
    }
    let flat = tape.var(Tensor::zeros(&[4]));
    assert_eq!(
        loss::try_cross_entropy(flat, &[0]).unwrap_err().to_string(),
        "cross_entropy: shapes [4] and [1]: logits must be 2-D [batch, classes]"
    );
}

#[test]
fn element_access_out_of_range() {
    let t = Tensor::zeros(&[2, 3]);
    assert_eq!(panic_message(|| t.get(&[2, 0])), "get: index [2, 0] is outside shape [2, 3]");
    assert_eq!(panic_message(|| t.get(&[1])), "get: index [1] is outside shape [2, 3]");
    assert_eq!(panic_message(|| t.item()), "item: shape [2, 3] holds 6 elements, not one");
    assert_eq!(panic_message(|| t.select_rows(&[0, 2])), "select_rows: row 2 is out of range for shape [2, 3]");
    assert_eq!(
        panic_message(|| Tensor::zeros(&[3]).select_rows(&[0])),
        "select_rows: shape [3]: expected a 2-D tensor"
    );
    let tape = Tape::new();
    let x = tape.var(&t);
    assert_eq!(panic_message(|| x.item()), "item: node 0 has shape [2, 3] (6 elements), not one element");
    assert_eq!(panic_message(|| tape.node(5)), "node: index 5 is past the tape's 1 nodes");
    assert!(
        panic_message(|| t.clone().axpy(1.0, &Tensor::zeros(&[3]))).starts_with("axpy: shapes [2, 3] and [3] differ")
    );
    assert!(panic_message(|| t.max_abs_diff(&Tensor::zeros(&[3]))).starts_with("max_abs_diff: shapes [2, 3] and [3]"));
}

#[test]
fn bad_constructor_arguments() {
    assert_eq!(panic_message(|| Tensor::arange(0.0, 1.0, 0.0)), "arange: step must be finite and non-zero, got 0");
    assert_eq!(
        panic_message(|| Tensor::arange(0.0, f64::INFINITY, 1.0)),
        "arange: bounds must be finite, got 0 to inf"
    );
    assert!(panic_message(|| Tensor::arange(0.0, 1.0, 1e-300)).starts_with("arange: 0 to 1 by 0.000"));
    let mut rng = <rand_chacha::ChaCha12Rng as rand::SeedableRng>::seed_from_u64(0);
    assert!(panic_message(|| Tensor::uniform(&[2], 1.0, 1.0, &mut rng)).starts_with("uniform: bad range [1, 1)"));
    let tape = Tape::new();
    assert_eq!(panic_message(|| loss::l2(&[])), "l2: needs at least one parameter");
    assert!(panic_message(|| tape.var(Tensor::zeros(&[1; 256]))).contains("more than 255 dimensions"));
}

#[test]
fn gradcheck_with_nothing_to_check() {
    let opts = GradcheckOptions::default();
    let none = gradcheck(|_, v| v[0].sum(), &[], &opts).unwrap_err();
    assert_eq!(none, GradcheckError::NoElements);
    assert_eq!(none.to_string(), "gradcheck: the inputs hold no elements, so nothing can be checked");
    let empty = gradcheck(|_, v| v[0].sum(), &[Tensor::zeros(&[0, 3])], &opts).unwrap_err();
    assert_eq!(empty, GradcheckError::NoElements);
}

#[test]
fn public_broadcast_helper_refuses_shapes_that_do_not_fit() {
    let msg = panic_message(|| tapegrad::tensor::for_each_broadcast(&[2, 2], &[3], &[2], |_, _, _| ()));
    assert_eq!(msg, "for_each_broadcast: shapes [3] and [2] do not broadcast to [2, 2]");
    let msg = panic_message(|| tapegrad::tensor::for_each_broadcast(&[2], &[1, 2], &[2], |_, _, _| ()));
    assert!(msg.starts_with("for_each_broadcast:"));
}

/// y = x, with a backward rule the test can break in two ways.
struct Identity;
impl CustomOp for Identity {
    fn name(&self) -> &'static str {
        "identity"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].clone()
    }
    fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.clone()]
    }
}

struct TooManyGrads;
impl CustomOp for TooManyGrads {
    fn name(&self) -> &'static str {
        "too_many"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].clone()
    }
    fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.clone(), g.clone()]
    }
}

struct WrongShapeGrad;
impl CustomOp for WrongShapeGrad {
    fn name(&self) -> &'static str {
        "wrong_shape"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].sum_axis(0, false)
    }
    fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.clone()] // shaped like the output, not the input
    }
}

#[test]
fn custom_op_returning_wrong_gradients() {
    let tape = Tape::new();
    let x = tape.var(Tensor::ones(&[2, 3]));
    let y = tape.custom(TooManyGrads, &[x]).sum();
    assert!(panic_message(|| y.backward()).contains("too_many: backward returned 2 gradients for 1 inputs"));
    let y = tape.custom(WrongShapeGrad, &[x]).sum();
    assert!(
        panic_message(|| y.backward())
            .contains("wrong_shape: backward returned a gradient of shape [3] for input 0 of shape [2, 3]")
    );
    // A failed sweep leaves the tape usable, and the broken ops, off the
    // path of a new output, are not run again.
    let y = tape.custom(Identity, &[x]).sum();
    assert_eq!(y.backward().wrt(x).data(), &[1.0; 6]);
}

#[test]
fn recording_inside_with_value_is_a_clear_error() {
    let tape = Tape::new();
    let x = tape.var(Tensor::ones(&[2]));
    let want = "mul_scalar: cannot record on the tape while its values are borrowed (inside Var::with_value?)";
    assert_eq!(panic_message(|| x.with_value(|_| x * 2.0)), want);
    assert!(panic_message(|| x.with_value(|_| x.named("x"))).starts_with("named: cannot record"));
    assert!(panic_message(|| x.with_value(|_| tape.custom(Identity, &[x]))).starts_with("identity: cannot record"));
    // Reading inside is fine, and so is recording afterwards.
    assert_eq!(x.with_value(|v| v.len() + x.shape().len()), 3);
    assert_eq!((x * 2.0).sum().item(), 4.0);
}

#[test]
fn a_target_that_would_enlarge_the_prediction_is_refused() {
    let tape = Tape::new();
    let p = tape.var(Tensor::zeros(&[3, 1]));
    let t = tape.constant(Tensor::zeros(&[3]));
    let msg = |op: &str| {
        format!("{op}: shapes [3, 1] and [3]: the target would broadcast the prediction to [3, 3]; reshape one of them")
    };
    assert_eq!(panic_message(|| loss::mse(p, t)), msg("mse"));
    assert_eq!(panic_message(|| loss::mse_half(p, t)), msg("mse_half"));
    assert_eq!(panic_message(|| loss::sse_half(p, t)), msg("sse_half"));
    assert_eq!(panic_message(|| loss::hinge(p, t)), msg("hinge"));
    assert!(
        panic_message(|| loss::mse(p, tape.constant(Tensor::zeros(&[2])))).starts_with("mse: shapes [3, 1] and [2]")
    );
    // A target that broadcasts without enlarging is fine: a scalar, or [1].
    assert_eq!(loss::mse(p, tape.constant(Tensor::scalar(1.0))).item(), 1.0);
    assert_eq!(loss::sse_half(p, tape.constant(Tensor::ones(&[1]))).item(), 1.5);
}

#[test]
fn empty_tensors_flow_through_every_op() {
    let tape = Tape::new();
    let a = tape.var(Tensor::zeros(&[2, 0]));
    let b = tape.var(Tensor::zeros(&[0, 3]));
    let c = a.matmul(b); // [2, 3] of zeros: an empty inner sum
    assert_eq!(c.value(), Tensor::zeros(&[2, 3]));
    let e = (a.exp() * a + 1.0).log_softmax().t().reshape(&[0]).sum() + c.sum() + a.sum_axis(1, true).sum();
    let g = e.backward();
    assert_eq!((g.wrt(a).shape(), g.wrt(b).shape()), (&[2, 0][..], &[0, 3][..]));
    assert_eq!(a.sum_axis(0, false).shape().as_slice(), &[0]);
    assert!(Tensor::zeros(&[0]).mean().is_nan());
    assert_eq!(Tensor::zeros(&[3, 0]).select_rows(&[2, 1]).shape(), &[2, 0]);
}
