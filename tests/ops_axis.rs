//! The axis ops a custom model needs (softmax / log_softmax on any axis,
//! max_axis / min_axis / argmax, concat / stack, narrow, index_select /
//! gather): their gradients against central differences (reverse mode)
//! and against forward mode, their Hessian-vector products against
//! differences of the gradient, their errors, and their edge values.

mod common;

use common::{assert_gradcheck, tensor_of, weighted_sum};
use proptest::prelude::*;
use std::slice::from_ref;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::{Tape, Tensor, Var};

/// Reverse mode against central differences, forward mode against reverse
/// mode, and (when `hvp`) the HVP along a fixed direction against
/// differences of the gradient: the three checks every op here passes.
fn check_all(f: impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t> + Copy, inputs: &[Tensor], hvp: bool) {
    assert_gradcheck(f, inputs);
    if let Err(e) = gradcheck_forward(f, inputs, 1e-12) {
        panic!("forward mode: {e}\ninputs: {inputs:?}");
    }
    if hvp {
        let v: Vec<Tensor> = inputs
            .iter()
            .map(|x| Tensor::from_vec((0..x.len()).map(|i| 1.0 - 0.37 * i as f64).collect(), x.shape()))
            .collect();
        if let Err(e) = hvpcheck(f, inputs, &v, &GradcheckOptions::default()) {
            panic!("hvp: {e}\ninputs: {inputs:?}");
        }
    }
}

/// Shapes of rank 1 to 3 with small extents (every op here needs an axis).
fn shape_with_axis() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1usize..5).prop_map(|n| vec![n]),
        (1usize..4, 1usize..4).prop_map(|(a, b)| vec![a, b]),
        (1usize..3, 1usize..4, 1usize..4).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
}

/// A tensor of rank 1 to 3 with values in [-3, 3).
fn tensor_with_axis() -> impl Strategy<Value = Tensor> {
    shape_with_axis().prop_flat_map(|s| tensor_of(s, -3.0f64..3.0))
}

/// Three tensors that join along `axis`: the same extents elsewhere.
fn join_operands() -> impl Strategy<Value = (Tensor, Tensor, Tensor, usize)> {
    shape_with_axis().prop_flat_map(|s| (Just(s.clone()), 0..s.len(), 0usize..3, 1usize..3)).prop_flat_map(
        |(s, axis, m1, m2)| {
            let with = |m: usize| {
                let mut s = s.clone();
                s[axis] = m;
                tensor_of(s, -3.0f64..3.0)
            };
            (tensor_of(s.clone(), -3.0f64..3.0), with(m1), with(m2), Just(axis))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn softmax_and_log_softmax_on_every_axis(x in tensor_with_axis()) {
        for axis in 0..x.ndim() {
            // `sin` after softmax: a non-linear use, so the HVP is not trivially zero.
            check_all(move |tape, v| weighted_sum(tape, v[0].softmax(axis).sin()), from_ref(&x), true);
            check_all(move |tape, v| weighted_sum(tape, v[0].log_softmax_axis(axis)), from_ref(&x), true);
        }
    }

    #[test]
    fn concat_stack_and_narrow_on_every_axis((a, b, c, axis) in join_operands()) {
        let parts = [a.clone(), b, c];
        // concat of three Vars (the third in the spill list), then sin: non-linear
        check_all(move |tape, v| weighted_sum(tape, Var::concat(v, axis).sin()), &parts, true);
        // stack needs equal shapes: a three times (a Var used thrice collects three blocks)
        for new_axis in 0..=a.ndim() {
            check_all(move |tape, v| weighted_sum(tape, Var::stack(&[v[0], v[0].cos(), v[0]], new_axis).sin()), from_ref(&a), true);
        }
        let n = a.shape()[axis];
        for start in 0..n {
            for len in 0..=n - start {
                check_all(move |tape, v| weighted_sum(tape, v[0].narrow(axis, start, len).sin()) + v[0].sum(), from_ref(&a), true);
            }
        }
    }

    /// Ids drawn with repeats (three to six per axis extent of 1 to 4), so
    /// the accumulation of a slice read twice is checked too.
    #[test]
    fn index_select_and_gather_on_every_axis(x in tensor_with_axis(), picks in prop::collection::vec(any::<usize>(), 1..40)) {
        for axis in 0..x.ndim() {
            let n = x.shape()[axis];
            let ids: Vec<usize> = picks.iter().take(3 + axis).map(|p| p % n).collect();
            check_all(|tape, v| weighted_sum(tape, v[0].index_select(axis, &ids).sin()), from_ref(&x), true);
            // gather: two indices per lane
            let mut index_shape = x.shape().to_vec();
            index_shape[axis] = 2;
            let count: usize = index_shape.iter().product();
            let idx: Vec<usize> = (0..count).map(|i| picks[i % picks.len()].wrapping_add(i) % n).collect();
            check_all(|tape, v| weighted_sum(tape, v[0].gather(axis, &idx, &index_shape).sin()), from_ref(&x), true);
        }
    }

    /// Random values have no ties (the gap to the runner-up is far above
    /// the difference step), so max and min are differentiable there.
    #[test]
    fn max_and_min_on_every_axis(x in tensor_with_axis()) {
        for axis in 0..x.ndim() {
            for keepdim in [false, true] {
                check_all(move |tape, v| weighted_sum(tape, v[0].max_axis(axis, keepdim).sin()), from_ref(&x), true);
                check_all(move |tape, v| weighted_sum(tape, v[0].min_axis(axis, keepdim).sin()), from_ref(&x), true);
            }
        }
    }
}

#[test]
fn softmax_errors_name_the_op_the_shape_and_the_axis() {
    let tape = Tape::new();
    let x = tape.var(Tensor::zeros(&[2, 3]));
    assert_eq!(
        x.try_softmax(2).unwrap_err().to_string(),
        "softmax: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    assert_eq!(
        x.try_log_softmax_axis(7).unwrap_err().to_string(),
        "log_softmax: shape [2, 3]: axis 7 is out of range for 2 dimensions"
    );
    assert!(tape.scalar(1.0).try_softmax(0).is_err());
}

/// At +-1e300 the shift by the lane's maximum keeps every value and
/// gradient finite; an element at -inf gets probability 0 and gradient 0;
/// a lane of only -inf is NaN (no distribution), as PyTorch's.
#[test]
fn softmax_is_stable_at_extremes_and_next_to_minus_infinity() {
    let tape = Tape::new();
    // axis 0 of a [2, 3] matrix: lanes are the columns
    let x = tape.var(Tensor::from_vec(vec![1e300, 0.0, f64::NEG_INFINITY, -1e300, 0.0, 1.0], &[2, 3]));
    let p = x.softmax(0);
    assert_eq!(p.value().data(), &[1.0, 0.5, 0.0, 0.0, 0.5, 1.0]);
    let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    let g = (p * w).sum().backward().wrt(x);
    // p (w - sum w p): column 0 is saturated (0 gradient), column 1 is
    // 0.5 * (w - 3.5) = [-0.75, 0.75], column 2 is saturated.
    assert_eq!(g.data(), &[0.0, -0.75, 0.0, 0.0, 0.75, 0.0]);
    let ly = x.log_softmax_axis(0);
    assert_eq!(ly.value().data(), &[0.0, -2f64.ln(), f64::NEG_INFINITY, -2e300, -2f64.ln(), 0.0]);
    let g = (ly * tape.constant(Tensor::from_vec(vec![1.0, 1.0, 0.0, 1.0, 1.0, 1.0], &[2, 3]))).sum().backward();
    assert!(g.wrt(x).data().iter().all(|v| v.is_finite()), "{}", g.wrt(x));
    // a lane of -inf only: NaN, not a made-up distribution
    let z = tape.var(Tensor::from_vec(vec![f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0, 1.0], &[2, 2]));
    let p = z.softmax(1).value();
    assert!(p.data()[0].is_nan() && p.data()[1].is_nan());
    assert!((p.data()[3] - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-15);
}

#[test]
fn max_min_and_argmax_errors_name_the_op_the_shape_and_the_axis() {
    let tape = Tape::new();
    let x = tape.var(Tensor::zeros(&[2, 3]));
    assert_eq!(
        x.try_max_axis(2, true).unwrap_err().to_string(),
        "max_axis: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    assert_eq!(
        x.try_min_axis(5, false).unwrap_err().to_string(),
        "min_axis: shape [2, 3]: axis 5 is out of range for 2 dimensions"
    );
    assert_eq!(
        x.try_argmin(2).unwrap_err().to_string(),
        "argmin: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    let e = tape.var(Tensor::zeros(&[0, 3]));
    assert_eq!(e.try_argmax(0).unwrap_err().to_string(), "argmax: shape [0, 3]: axis 0 is empty: no element to choose");
    // over the non-empty axis an empty batch is fine: no lanes
    assert_eq!(e.max_axis(1, false).shape().as_slice(), &[0]);
    assert_eq!(e.argmax(1), Vec::<usize>::new());
}

/// PyTorch's rules, one gradient per lane: ties to the first index (a
/// 3-D input, along the middle axis, so the lanes are strided), NaN wins
/// and takes the gradient; the same winner in both sweeps and in argmax.
#[test]
fn max_axis_ties_and_nan_in_a_3d_input() {
    let tape = Tape::new();
    // [2, 3, 2]: lane (0, 0) = [1, 1, 0] (tie), lane (0, 1) = [0, 5, 5] (tie),
    // lane (1, 0) = [NaN, 7, NaN], lane (1, 1) = [-1, -1, -1]
    let data = vec![1.0, 0.0, 1.0, 5.0, 0.0, 5.0, f64::NAN, -1.0, 7.0, -1.0, f64::NAN, -1.0];
    let x = tape.var(Tensor::from_vec(data, &[2, 3, 2]));
    let m = x.max_axis(1, false);
    let v = m.value();
    assert_eq!((v.data()[0], v.data()[1], v.data()[3]), (1.0, 5.0, -1.0));
    assert!(v.data()[2].is_nan());
    assert_eq!(x.argmax(1), vec![0, 1, 0, 0]);
    let g = m.sum().backward().wrt(x);
    assert_eq!(g.data(), &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    let dx = Tensor::from_vec((0..12).map(|i| i as f64).collect(), &[2, 3, 2]);
    assert_eq!(m.jvp(&[(x, &dx)]).unwrap().data(), &[0.0, 3.0, 6.0, 7.0]);
    // the differentiable backward puts the gradient on the same elements
    let gg = m.sum().grad_graph().unwrap().wrt(x).value();
    assert_eq!(gg.data(), g.data());
}

#[test]
fn concat_stack_and_narrow_errors_name_the_op_the_shapes_and_the_axis() {
    let tape = Tape::new();
    let a = tape.var(Tensor::zeros(&[2, 3]));
    let b = tape.var(Tensor::zeros(&[2, 4]));
    assert_eq!(Var::try_concat(&[], 0).unwrap_err().to_string(), "concat: no Vars to join: the list is empty");
    assert_eq!(Var::try_stack(&[], 0).unwrap_err().to_string(), "stack: no Vars to stack: the list is empty");
    assert_eq!(
        Var::try_concat(&[a, a, b], 0).unwrap_err().to_string(),
        "concat: shapes [2, 3] and [2, 4]: Var 2 does not match Var 0 outside axis 0"
    );
    assert_eq!(Var::concat(&[a, b], 1).shape().as_slice(), &[2, 7]);
    assert_eq!(
        Var::try_concat(&[a, b], 2).unwrap_err().to_string(),
        "concat: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    let s = tape.scalar(1.0);
    assert!(Var::try_concat(&[s, s], 0).is_err()); // a 0-d Var has no axis to join along
    assert_eq!(Var::stack(&[s, s], 0).shape().as_slice(), &[2]); // but stacks
    let flat = tape.var(Tensor::zeros(&[6]));
    assert!(Var::try_concat(&[a, flat], 0).is_err());
    assert_eq!(
        Var::try_stack(&[a, b], 0).unwrap_err().to_string(),
        "stack: shapes [2, 3] and [2, 4]: Var 1 differs from Var 0"
    );
    // a Var from another tape is an error naming the op, not a panic
    let other = Tape::new();
    let c = other.var(Tensor::zeros(&[2, 3]));
    assert!(
        Var::try_concat(&[a, c], 0)
            .unwrap_err()
            .to_string()
            .starts_with("concat: shapes [2, 3] and [2, 3]: an operand belongs to another tape")
    );
    assert!(Var::try_stack(&[a, c], 0).is_err());
    // narrow: out of range names the shape, the axis, start and len
    assert_eq!(
        a.try_narrow(1, 1, 3).unwrap_err().to_string(),
        "narrow: shape [2, 3]: start 1 + len 3 is past the end of axis 1 (extent 3)"
    );
    assert_eq!(
        a.try_narrow(0, usize::MAX, 2).unwrap_err().to_string(),
        format!("narrow: shape [2, 3]: start {} + len 2 is past the end of axis 0 (extent 2)", usize::MAX)
    );
    assert_eq!(
        a.try_narrow(2, 0, 1).unwrap_err().to_string(),
        "narrow: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    assert!(s.try_narrow(0, 0, 1).is_err());
}

/// The split a sequence model does (a row per time step, `narrow`) and
/// the join after it (`stack`), round trip: the value comes back whole and
/// every element's gradient is its weight, as for the identity.
#[test]
fn narrow_then_stack_is_the_identity() {
    let tape = Tape::new();
    let x = tape.var(Tensor::arange(0.0, 12.0, 1.0).reshape(&[4, 3]));
    let steps: Vec<Var<'_>> = (0..4).map(|t| x.narrow(0, t, 1).reshape(&[3])).collect();
    let y = Var::stack(&steps, 0);
    assert_eq!(y.value(), x.value());
    let w = Tensor::arange(1.0, 13.0, 1.0).reshape(&[4, 3]);
    assert_eq!(y.backward_with(&w).wrt(x), w);
}

#[test]
fn index_select_and_gather_errors_name_the_op_the_shapes_and_the_axis() {
    let tape = Tape::new();
    let x = tape.var(Tensor::zeros(&[3, 2]));
    assert_eq!(
        x.try_index_select(2, &[0]).unwrap_err().to_string(),
        "index_select: shape [3, 2]: axis 2 is out of range for 2 dimensions"
    );
    assert_eq!(
        x.try_index_select(1, &[0, 1, 2]).unwrap_err().to_string(),
        "index_select: shapes [3, 2] and [3]: index 2 is out of range for axis 1 (extent 2)"
    );
    assert_eq!(
        x.try_gather(0, &[0, 1, 2], &[1, 2]).unwrap_err().to_string(),
        "gather: shapes [3, 2] and [1, 2]: 3 indices cannot fill 2 elements"
    );
    assert_eq!(
        x.try_gather(0, &[0, 3], &[1, 2]).unwrap_err().to_string(),
        "gather: shapes [3, 2] and [1, 2]: index 3 is out of range for axis 0 (extent 3)"
    );
    assert_eq!(
        x.try_gather(0, &[0, 0], &[2]).unwrap_err().to_string(),
        "gather: shapes [3, 2] and [2]: the index shape must equal the input's except along axis 0"
    );
    assert!(x.try_gather(0, &[], &[usize::MAX, 2]).is_err());
    assert!(tape.scalar(1.0).try_index_select(0, &[0]).is_err());
}

/// An embedding lookup, as a sequence model does it: a token that occurs
/// three times sends three gradients into its row, which add up; rows of
/// tokens that never occur get 0. Reverse mode, the differentiable
/// backward and forward mode agree with the hand count.
#[test]
fn embedding_rows_accumulate_repeated_tokens() {
    let tape = Tape::new();
    let table = tape.var(Tensor::arange(0.0, 8.0, 1.0).reshape(&[4, 2])); // 4 tokens, dim 2
    let ids = [3, 1, 3, 3];
    let e = table.index_select(0, &ids);
    let w = Tensor::arange(1.0, 9.0, 1.0).reshape(&[4, 2]);
    let g = e.backward_with(&w).wrt(table);
    // row 3 = w[0] + w[2] + w[3] = [1 + 5 + 7, 2 + 6 + 8]; row 1 = w[1]
    assert_eq!(g.data(), &[0.0, 0.0, 3.0, 4.0, 0.0, 0.0, 13.0, 16.0]);
    let gg = (e * tape.constant(&w)).sum().grad_graph().unwrap().wrt(table).value();
    assert_eq!(gg.data(), g.data());
    let dt = Tensor::arange(0.0, 0.8, 0.1).reshape(&[4, 2]);
    let t = e.jvp(&[(table, &dt)]).unwrap();
    let d = dt.data();
    assert_eq!(t.data(), &[d[6], d[7], d[2], d[3], d[6], d[7], d[6], d[7]]);
}
