//! Regression tests for misuse (issue 9, "Bad errors and gaps"): counts
//! that overflow, `try_` forms that must return an error rather than
//! panic, regression inputs named for what is wrong with them, `detach`,
//! and name look-ups.

use tapegrad::notes::linreg::{LinRegError, normal_equation, ridge};
use tapegrad::tensor::{broadcast_shape, try_numel};
use tapegrad::{Tape, Tensor, loss};

const BIG: usize = 1 << 40;

/// A shape whose element count overflows a usize is refused, not wrapped.
#[test]
fn element_counts_are_checked_everywhere_a_shape_is_multiplied_out() {
    let e = Tensor::try_from_vec(vec![], &[1 << 32, 1 << 32]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "from_vec: shape [4294967296, 4294967296]: more elements than a usize can count \
         (the product of the extents overflows)"
    );
    // A zero extent makes any shape empty, however large the rest.
    assert_eq!(try_numel(&[BIG, BIG, 0]), Some(0));
    let empty = Tensor::zeros(&[BIG, BIG, 0]);
    assert!(empty.is_empty());
    // ...but reducing the empty axis away leaves an uncountable result.
    assert!(empty.try_sum_axis(2, false).unwrap_err().to_string().contains("overflows"));
    assert!(empty.try_mean_axis(2, true).is_err()); // keepdim: [BIG, BIG, 1] is as uncountable
    let tape = Tape::new();
    let x = tape.var(&empty);
    assert!(x.try_sum_axis(2, false).unwrap_err().to_string().starts_with("sum_axis: shape"));
    assert!(x.try_reshape(&[1 << 32, 1 << 32]).unwrap_err().to_string().contains("overflows"));
    assert!(x.try_pick(&[]).is_err()); // BIG * BIG rows
    // Empty operands whose product would be uncountable.
    let (a, b) = (tape.var(Tensor::zeros(&[BIG, 0])), tape.var(Tensor::zeros(&[0, BIG])));
    let e = a.try_matmul(b).unwrap_err();
    assert!(e.to_string().starts_with("matmul: shapes [1099511627776, 0] and [0, 1099511627776]: the result"));
    assert!(Tensor::zeros(&[BIG, 0]).try_matmul(&Tensor::zeros(&[0, BIG])).is_err());
    assert!(broadcast_shape("add", &[BIG, 1], &[1, BIG]).unwrap_err().to_string().contains("overflows"));
    assert!(tape.try_var_from_slice(&[], &[1 << 32, 1 << 32]).is_err());
    assert!(tape.try_constant_from_slice(&[], &[1 << 32, 1 << 32]).is_err());
}

/// Every op with a panicking form has a `try_` form that returns the same
/// message as an error.
#[test]
fn try_forms_return_errors_instead_of_panicking() {
    let tape = Tape::new();
    let v = tape.var(Tensor::zeros(&[3]));
    let m = tape.var(Tensor::zeros(&[2, 3]));
    assert_eq!(v.try_t().unwrap_err().to_string(), "t: shape [3]: expected a 2-D tensor");
    assert_eq!(Tensor::zeros(&[3]).try_t().unwrap_err().to_string(), "t: shape [3]: expected a 2-D tensor");
    assert!(v.try_maximum(m.t()).is_err());
    assert_eq!(
        tape.try_var_from_slice(&[1.0], &[2]).unwrap_err().to_string(),
        "var_from_slice: shape [2]: 1 values cannot fill 2 elements"
    );
    assert_eq!(
        Tensor::zeros(&[2, 3]).try_sum_axis(2, false).unwrap_err().to_string(),
        "sum_axis: shape [2, 3]: axis 2 is out of range for 2 dimensions"
    );
    assert!(Tensor::zeros(&[2]).try_mean_axis(1, false).is_err());
    assert_eq!(
        m.try_pick(&[0, 3]).unwrap_err().to_string(),
        "pick: shapes [2, 3] and [2]: index 3 is out of range for an axis of 3"
    );
    assert_eq!(m.try_pick(&[0]).unwrap_err().to_string(), "pick: shapes [2, 3] and [1]: 1 indices for 2 rows");
    assert!(tape.scalar(1.0).try_pick(&[0]).unwrap_err().to_string().contains("0-d"));
    assert!(loss::try_mse(m, tape.constant(Tensor::zeros(&[4]))).is_err());
    assert!(loss::try_mse(v.reshape(&[3, 1]), v).is_err()); // would enlarge the prediction to [3, 3]
    assert!(loss::try_mse_half(v, tape.constant(Tensor::zeros(&[2]))).is_err());
    assert!(loss::try_sse_half(v, tape.constant(Tensor::zeros(&[2]))).is_err());
    assert!(loss::try_hinge(v, tape.constant(Tensor::zeros(&[2]))).is_err());
    assert_eq!(loss::try_l2(&[]).unwrap_err().to_string(), "l2: needs at least one parameter");
    assert!(loss::try_cross_entropy(m, &[0, 3]).is_err());
    // and the panicking forms panic with those messages
    let r = std::panic::catch_unwind(|| Tensor::zeros(&[3]).t());
    assert_eq!(*r.unwrap_err().downcast::<String>().unwrap(), "t: shape [3]: expected a 2-D tensor");
}

/// ridge and the normal equation name a bad lambda or a NaN, not "rank-deficient".
#[test]
fn regression_names_the_real_cause() {
    let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[3, 2]);
    let y = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    for lambda in [-1.0, f64::NAN, f64::INFINITY] {
        let e = ridge(&x, &y, lambda).unwrap_err();
        assert!(matches!(e, LinRegError::InvalidInput(_)), "{e}");
        assert_eq!(e.to_string(), format!("ridge: lambda must be finite and >= 0, got {lambda}"));
    }
    let mut bad_x = x.clone();
    bad_x.data_mut()[3] = f64::NAN;
    let e = normal_equation(&bad_x, &y).unwrap_err();
    assert_eq!(
        e.to_string(),
        "normal_equation: X holds NaN at element 3 (shape [3, 2]); a regression needs finite data"
    );
    let mut bad_y = y.clone();
    bad_y.data_mut()[0] = f64::INFINITY;
    assert!(ridge(&x, &bad_y, 0.5).unwrap_err().to_string().starts_with("ridge: y holds inf at element 0"));
    // good input still solves: y = 1 + x exactly
    let theta = ridge(&x, &y, 0.0).unwrap();
    assert!((theta[0] - 1.0).abs() < 1e-12 && (theta[1] - 1.0).abs() < 1e-12);
}

/// A detached Var needs no gradient, and none flows through it.
#[test]
fn detach_does_not_require_grad() {
    let tape = Tape::new();
    let x = tape.scalar(3.0);
    let d = x.detach();
    assert!(x.requires_grad() && !d.requires_grad());
    assert!(!(d * d).requires_grad());
    assert!((d * x).requires_grad());
    let g = (d * x).backward();
    assert_eq!((g.wrt(x).item(), g.wrt(d).item()), (3.0, 0.0)); // d/dx (c x) = c
}

/// Names are looked up once per call; the latest name of a node wins.
#[test]
fn snapshot_and_table_use_the_latest_name() {
    let tape = Tape::new();
    let w = tape.scalar(2.0).named("old").named("w");
    let y = (w * w).named("y");
    let g = y.backward();
    assert_eq!(g.snapshot(), "w: shape []\n  4.000000000e0\ny: shape []\n  1.000000000e0\n");
    let table = tape.table();
    assert!(table.contains(" w ") && !table.contains("old"), "{table}");
}

/// Many named nodes: the snapshot lists each once, in tape order.
#[test]
fn snapshot_of_many_named_nodes_lists_each_once() {
    let tape = Tape::new();
    let xs: Vec<_> = (0..5000).map(|i| tape.scalar(i as f64).named(&format!("x{i}"))).collect();
    let total = xs.iter().skip(1).fold(xs[0], |acc, &x| acc + x);
    let text = total.backward().snapshot();
    assert_eq!(text.lines().count(), 2 * 5000);
    assert!(text.starts_with("x0: shape []\n  1.000000000e0\nx1: shape []"));
    assert!(text.ends_with("x4999: shape []\n  1.000000000e0\n"));
}
