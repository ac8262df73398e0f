//! leaky_relu, gelu, clamp and where_ on random shapes and values: each op's
//! backward against central differences (`gradcheck`), against its forward
//! mode (`gradcheck_forward`, 1e-12), and its differentiable backward
//! against differences of the gradient (`hvpcheck`); then their errors,
//! their NaN handling and gelu far out.
//!
//! Inputs stay clear of the kinks (0 for leaky_relu, the bounds for clamp),
//! where central differences straddle two slopes. The piecewise-linear ops
//! are squared before the HVP check so their second derivative is not
//! trivially zero (`d2 (op x)^2 = 2 op'(x)^2`, read from `df_var`).

mod common;

use common::{any_tensor, assert_gradcheck, away_from_zero, small_shape, tensor_of, weighted_sum};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use std::slice::from_ref;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::{Tape, Tensor, Var};

type Unary = for<'t> fn(Var<'t>) -> Var<'t>;

const OPS: [(&str, Unary); 4] = [
    ("leaky_relu", |x| x.leaky_relu(0.1)),
    ("leaky_relu steep", |x| x.leaky_relu(-1.5)),
    ("gelu", |x| x.gelu()),
    ("clamp", |x| x.clamp(-0.5, 1.0)),
];

fn check_all(name: &str, op: Unary, x: &Tensor, v: &Tensor) {
    eprintln!("op {name}");
    assert_gradcheck(|tape, v| weighted_sum(tape, op(v[0])), from_ref(x));
    gradcheck_forward(|tape, v| weighted_sum(tape, op(v[0])), from_ref(x), 1e-12).unwrap_or_else(|e| panic!("{e}"));
    hvpcheck(|tape, w| weighted_sum(tape, op(w[0]).square()), from_ref(x), from_ref(v), &GradcheckOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A tensor and a direction of the same random shape, clear of the kinks
/// at 0, -0.5 and 1.
fn point_and_direction() -> impl Strategy<Value = (Tensor, Tensor)> {
    let clear =
        away_from_zero().prop_filter("off the clamp bounds", |x| (x + 0.5).abs() > 0.05 && (x - 1.0).abs() > 0.05);
    small_shape().prop_flat_map(move |s| (tensor_of(s.clone(), clear.clone()), tensor_of(s, -1.0f64..1.0)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn activations_pass_every_check((x, v) in point_and_direction()) {
        for (name, op) in OPS {
            check_all(name, op, &x, &v);
        }
    }

    #[test]
    fn gelu_anywhere_including_zero(x in any_tensor(-4.0f64..4.0)) {
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].gelu()), from_ref(&x));
    }

    #[test]
    fn where_passes_every_check(shape in small_shape(), seed in any::<u64>()) {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let mask = Tensor::from_vec((0..n).map(|_| f64::from(rng.random::<bool>())).collect(), &shape);
        let a = Tensor::randn(&shape, &mut rng);
        let b = Tensor::randn(&shape, &mut rng);
        let inputs = [a.clone(), b.clone()];
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].where_(&mask, v[1])), &inputs);
        gradcheck_forward(|tape, v| weighted_sum(tape, v[0].where_(&mask, v[1])), &inputs, 1e-12)
            .unwrap_or_else(|e| panic!("{e}"));
        // (a b) chosen elementwise against a^2: mixed second derivatives
        let dirs = [b.clone(), a.clone()];
        hvpcheck(|tape, v| weighted_sum(tape, (v[0] * v[1]).where_(&mask, v[0].square())), &inputs, &dirs,
                 &GradcheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn bad_arguments_are_errors_naming_the_op_and_shapes() {
    let (tape, other) = (Tape::new(), Tape::new());
    let x = tape.var(Tensor::zeros(&[2, 3]));
    let e = x.try_clamp(1.0, 0.0).unwrap_err().to_string();
    assert_eq!(e, "clamp: shape [2, 3]: lo 1 is above hi 0");
    assert!(x.try_clamp(f64::NAN, 0.0).is_err() && x.try_clamp(0.0, f64::NAN).is_err());
    let e = x.try_leaky_relu(f64::INFINITY).unwrap_err().to_string();
    assert_eq!(e, "leaky_relu: shape [2, 3]: the slope inf is not finite");
    let e = x.try_where_(&Tensor::ones(&[2, 3]), tape.var(Tensor::zeros(&[3]))).unwrap_err().to_string();
    assert_eq!(
        e,
        "where: shapes [2, 3] and [2, 3] and [3]: the mask, self and other must have one shape (use broadcast_to)"
    );
    let e = x.try_where_(&Tensor::full(&[2, 3], 2.0), x).unwrap_err().to_string();
    assert!(e.starts_with("where: shapes [2, 3] and [2, 3] and [2, 3]: the mask holds 2"), "{e}");
    // an operand from another tape: an error, not a panic
    let y = other.var(Tensor::zeros(&[2, 3]));
    assert!(x.try_where_(&Tensor::ones(&[2, 3]), y).unwrap_err().to_string().contains("another tape"));
    assert!(std::panic::catch_unwind(|| Tape::new().scalar(0.0).clamp(1.0, 0.0).item()).is_err());
}

#[test]
fn nan_goes_through_every_one_of_them() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![f64::NAN, 1.0], &[2]));
    for (name, op) in OPS {
        assert!(op(x).value().data()[0].is_nan(), "{name} swallowed a NaN");
    }
    let m = Tensor::from_vec(vec![1.0, 1.0], &[2]);
    assert!(x.where_(&m, tape.var(Tensor::zeros(&[2]))).value().data()[0].is_nan());
}

#[test]
fn gelu_far_out_is_the_identity_or_zero_in_every_mode() {
    let xs = [-1e300, -1e16, -50.0, 50.0, 1e16, 1e300];
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(xs.to_vec(), &[6]));
    let y = x.gelu();
    let want: Vec<f64> = xs.iter().map(|&v| v.max(0.0)).collect();
    assert_eq!(y.value().data(), want.as_slice());
    let slope = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    assert_eq!(y.sum().backward().wrt(x).data(), &slope);
    // the differentiable backward: the same slopes, and a zero curvature
    let g = y.sum().grad_graph().unwrap().wrt(x);
    assert_eq!(g.value().data(), &slope);
    assert_eq!(g.sum().backward().wrt(x).data(), &[0.0; 6]);
}

#[test]
fn leaky_relu_at_zero_has_the_slope_as_pytorch() {
    // torch.nn.functional.leaky_relu(torch.zeros(1, requires_grad=True), 0.3).backward() gives 0.3
    let tape = Tape::new();
    let x = tape.scalar(0.0);
    assert_eq!(x.leaky_relu(0.3).backward().wrt(x).item(), 0.3);
}
