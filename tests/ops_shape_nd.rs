//! The shape ops on any rank (`permute transpose unsqueeze squeeze`), the
//! model ops (`layer_norm masked_fill dropout`) and
//! negative axes: each op's gradient against central differences, forward
//! mode and second order; every op that takes an axis gives the same
//! result for `-1` as for the last axis, and the same error wording.
//!
//! The cases are a table (name, function of one Var, input shape) so each
//! row can move into the op registry as is.

mod common;

use common::{assert_gradcheck, weighted_sum};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::{Tape, Tensor, Var};

type Unary = for<'t> fn(Var<'t>) -> Var<'t>;

/// (name, op, input shape). Each op is followed by `tanh` in the checks so
/// the second derivative is not trivially zero (most of the ops are linear).
const CASES: [(&str, Unary, &[usize]); 10] = [
    ("permute", |x| x.permute(&[2, 0, 1]), &[2, 3, 4]),
    ("permute 4-D", |x| x.permute(&[0, 2, 1, 3]), &[2, 3, 2, 2]),
    ("transpose", |x| x.transpose(-2, -1), &[2, 3, 4]),
    ("transpose outer", |x| x.transpose(0, 2), &[2, 3, 4]),
    ("unsqueeze", |x| x.unsqueeze(-2), &[2, 3]),
    ("squeeze", |x| x.squeeze(1), &[3, 1, 2]),
    // The model ops (a fresh seeded rng per call: the same mask every call).
    ("layer_norm", |x| x.layer_norm(1e-5), &[2, 3, 4]),
    ("masked_fill", |x| x.masked_fill(&Tensor::from_vec(vec![0., 1., 1., 0.], &[4]), 0.5), &[3, 4]),
    ("masked_fill -inf", |x| x.masked_fill(&causal(), f64::NEG_INFINITY).softmax(-1), &[2, 3, 3]),
    ("dropout", |x| x.dropout(0.3, true, &mut StdRng::seed_from_u64(1)), &[3, 4]),
];

/// A `[3, 3]` causal mask: 1 above the diagonal.
fn causal() -> Tensor {
    Tensor::from_vec(vec![0., 1., 1., 0., 0., 1., 0., 0., 0.], &[3, 3])
}

fn input(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn shape_ops_against_differences_forward_mode_and_second_order() {
    for (i, (name, op, shape)) in CASES.into_iter().enumerate() {
        let x = [input(shape, i as u64)];
        let v = [input(shape, 100 + i as u64)];
        assert_gradcheck(|t, v| weighted_sum(t, op(v[0]).tanh()), &x);
        gradcheck_forward(|t, v| weighted_sum(t, op(v[0]).tanh()), &x, 1e-12).unwrap_or_else(|e| panic!("{name}: {e}"));
        hvpcheck(|t, v| weighted_sum(t, op(v[0]).tanh()), &x, &v, &GradcheckOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn shape_ops_are_exact_at_1e300() {
    // They move elements only: the extremes arrive unchanged.
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1e300, -1e300, f64::MAX, -0.0, 1.0, f64::MIN_POSITIVE], &[1, 2, 3]));
    let y = x.permute(&[2, 1, 0]).transpose(0, 1).unsqueeze(0).squeeze(-1);
    let mut got = y.value().data().to_vec();
    let mut want = x.value().data().to_vec();
    got.sort_by(f64::total_cmp);
    want.sort_by(f64::total_cmp);
    assert_eq!(got, want);
    assert!(y.sum().backward().wrt(x).data().iter().all(|&g| g == 1.0));
}

/// The 2-D `t()` still works and still refuses other ranks.
#[test]
fn t_is_unchanged() {
    let tape = Tape::new();
    let x = tape.var(Tensor::zeros(&[2, 3, 4]));
    assert_eq!(x.try_t().unwrap_err().to_string(), "t: shape [2, 3, 4]: expected a 2-D tensor");
    assert_eq!(x.transpose(-1, -2).shape().as_slice(), &[2, 4, 3]);
}

type AxisOp = for<'t> fn(Var<'t>, i32) -> Var<'t>;

/// Every op that takes an axis, called with a signed axis.
const AXIS_OPS: [(&str, AxisOp); 12] = [
    ("sum_axis", |x, a| x.sum_axis(a, false)),
    ("mean_axis", |x, a| x.mean_axis(a, true)),
    ("softmax", |x, a| x.softmax(a)),
    ("log_softmax", |x, a| x.log_softmax_axis(a)),
    ("max_axis", |x, a| x.max_axis(a, false)),
    ("min_axis", |x, a| x.min_axis(a, true)),
    ("concat", |x, a| Var::concat(&[x, x], a)),
    ("stack", |x, a| Var::stack(&[x, x], a)),
    ("narrow", |x, a| x.narrow(a, 1, 1)),
    ("index_select", |x, a| x.index_select(a, &[1, 0, 1])),
    ("gather", |x, a| x.gather(a, &[1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0], &[2, 3, 2])),
    ("unsqueeze", |x, a| x.unsqueeze(a)),
];

#[test]
fn every_axis_op_reads_minus_one_as_the_last_axis() {
    let tape = Tape::new();
    let x = tape.var(input(&[2, 3, 2], 7));
    for (name, op) in AXIS_OPS {
        // stack and unsqueeze insert a new axis: -1 is after the last one.
        let last = if name == "stack" || name == "unsqueeze" { 3 } else { 2 };
        assert_eq!(op(x, -1).value(), op(x, last).value(), "{name}");
        assert_eq!(op(x, -3).value(), op(x, if last == 3 { 1 } else { 0 }).value(), "{name}");
    }
    assert_eq!(x.argmax(-1), x.argmax(2));
    assert_eq!(x.argmin(-2), x.argmin(1));
    let u: usize = 1;
    assert_eq!(x.sum_axis(u, false).value(), x.sum_axis(-2, false).value());
    assert_eq!(x.transpose(-1, 0).value(), x.permute(&[2, 1, 0]).value());
}

#[test]
fn an_axis_out_of_range_names_the_op_the_shape_and_the_rank() {
    let tape = Tape::new();
    let x = tape.var(Tensor::zeros(&[2, 3]));
    let msg = |r: Result<Var<'_>, tapegrad::ShapeError>| r.unwrap_err().to_string();
    let tail = "shape [2, 3]: axis -3 is out of range for 2 dimensions";
    assert_eq!(msg(x.try_sum_axis(-3, false)), format!("sum_axis: {tail}"));
    assert_eq!(msg(x.try_mean_axis(-3, false)), format!("mean_axis: {tail}"));
    assert_eq!(msg(x.try_softmax(-3)), format!("softmax: {tail}"));
    assert_eq!(msg(x.try_log_softmax_axis(-3)), format!("log_softmax: {tail}"));
    assert_eq!(msg(x.try_max_axis(-3, false)), format!("max_axis: {tail}"));
    assert_eq!(msg(x.try_min_axis(-3, false)), format!("min_axis: {tail}"));
    assert_eq!(msg(Var::try_concat(&[x, x], -3)), format!("concat: {tail}"));
    assert_eq!(msg(x.try_narrow(-3, 0, 1)), format!("narrow: {tail}"));
    assert_eq!(msg(x.try_index_select(-3, &[0])), format!("index_select: {tail}"));
    assert_eq!(msg(x.try_gather(-3, &[0], &[1])), format!("gather: {tail}"));
    assert_eq!(msg(x.try_squeeze(-3)), format!("squeeze: {tail}"));
    assert_eq!(msg(x.try_transpose(0, -3)), format!("transpose: {tail}"));
    assert_eq!(msg(x.try_permute(&[0, -3])), format!("permute: {tail}"));
    assert_eq!(x.try_argmax(-3).unwrap_err().to_string(), format!("argmax: {tail}"));
    assert_eq!(
        x.try_argmin(2).unwrap_err().to_string(),
        "argmin: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    let new = "shape [2, 3]: axis -4 is out of range for a new axis of 2 dimensions";
    assert_eq!(msg(Var::try_stack(&[x, x], -4)), format!("stack: {new}"));
    assert_eq!(msg(x.try_unsqueeze(-4)), format!("unsqueeze: {new}"));
}

#[test]
fn model_ops_at_1e300() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1e300, -1e300, 2.0, -1e300], &[2, 2]));
    // masked_fill keeps the unmasked elements exactly, whatever their size.
    let y = x.masked_fill(&Tensor::from_vec(vec![0.0, 1.0], &[2]), 7.0);
    assert_eq!(y.value().data(), &[1e300, 7.0, 2.0, 7.0]);
    // A row of scores at +-1e300 with the future masked: still a distribution.
    let p = x.masked_fill(&causal_2(), f64::NEG_INFINITY).softmax(-1);
    assert_eq!(p.value().data(), &[1.0, 0.0, 1.0, 0.0]);
    let g = (p * tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]))).sum().backward().wrt(x);
    assert!(g.data().iter().all(|v| v.is_finite()), "{g:?}");
    // dropout scales by 1 / (1 - p) = 2: 1e300 stays finite.
    let d = x.dropout(0.5, true, &mut StdRng::seed_from_u64(0)).value();
    assert!(d.data().iter().all(|v| v.is_finite() && (*v == 0.0 || v.abs() >= 4.0)), "{d:?}");
}

fn causal_2() -> Tensor {
    Tensor::from_vec(vec![0.0, 1.0, 0.0, 0.0], &[2, 2])
}
