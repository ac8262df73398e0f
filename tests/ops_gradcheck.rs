//! Every op's backward rule against central differences (`gradcheck` with
//! PyTorch's defaults), on random shapes and values from proptest.
//!
//! Inputs stay clear of the points where an op is not differentiable or
//! the difference quotient is unreliable: relu/abs/maximum kinks, the pole
//! of 1/x, and the edge of the domain of ln/sqrt/powf.

mod common;

use common::{any_tensor, assert_gradcheck, away_from_zero, positive, small_shape, tensor_of, weighted_sum};
use proptest::prelude::*;
use std::slice::from_ref;
use tapegrad::{Tape, Tensor, Var, loss};

/// A unary Var method, as a plain function so the tests can loop over them.
type Unary = for<'t> fn(Var<'t>) -> Var<'t>;

/// Ops defined on the whole real line (away from 0 for the kinks).
const UNARY_ANYWHERE: [(&str, Unary); 10] = [
    ("exp", |x| x.exp()),
    ("abs", |x| x.abs()),
    ("sin", |x| x.sin()),
    ("cos", |x| x.cos()),
    ("tanh", |x| x.tanh()),
    ("sigmoid", |x| x.sigmoid()),
    ("relu", |x| x.relu()),
    ("square", |x| x.square()),
    ("neg", |x| -x),
    ("powi3", |x| x.powi(3)),
];

/// Ops that need a positive input.
const UNARY_POSITIVE: [(&str, Unary); 3] = [("ln", |x| x.ln()), ("sqrt", |x| x.sqrt()), ("powf", |x| x.powf(1.7))];

/// Shape pairs for Var-Var ops: equal shapes and the broadcasting cases of
/// the issue (outer-product style, bias over a batch, scalar with tensor
/// on either side, a 3-D tensor against a 2-D column).
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::sample::select(vec![
        (vec![2, 3], vec![2, 3]),
        (vec![3, 1], vec![1, 4]),
        (vec![2, 4], vec![4]),
        (vec![4], vec![2, 4]),
        (vec![], vec![2, 3]),
        (vec![2, 3], vec![]),
        (vec![2, 3, 4], vec![3, 1]),
        (vec![3, 1], vec![2, 3, 4]),
    ])
}

/// Two tensors of a broadcasting shape pair, elements away from zero.
fn broadcast_operands() -> impl Strategy<Value = (Tensor, Tensor)> {
    broadcast_pair().prop_flat_map(|(sa, sb)| (tensor_of(sa, away_from_zero()), tensor_of(sb, away_from_zero())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn unary_ops_on_the_real_line(x in any_tensor(away_from_zero())) {
        for (name, op) in UNARY_ANYWHERE {
            eprintln!("op {name}");
            assert_gradcheck(|tape, v| weighted_sum(tape, op(v[0])), from_ref(&x));
        }
    }

    #[test]
    fn unary_ops_on_positive_inputs(x in any_tensor(positive())) {
        for (name, op) in UNARY_POSITIVE {
            eprintln!("op {name}");
            assert_gradcheck(|tape, v| weighted_sum(tape, op(v[0])), from_ref(&x));
        }
    }

    #[test]
    fn integer_and_real_powers(x in any_tensor(away_from_zero()), n in -3i32..5,
                               base in any_tensor(positive()), p in -2.5f64..2.5) {
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].powi(n)), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].powf(p)), from_ref(&base));
    }

    #[test]
    fn var_with_f64_on_either_side(x in any_tensor(away_from_zero()), c in away_from_zero()) {
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] + c), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, c + v[0]), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] - c), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, c - v[0]), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] * c), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, c * v[0]), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] / c), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, c / v[0]), from_ref(&x));
    }

    #[test]
    fn var_var_arithmetic_broadcasts((a, b) in broadcast_operands()) {
        let inputs = [a, b];
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] + v[1]), &inputs);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] - v[1]), &inputs);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] * v[1]), &inputs);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] / v[1]), &inputs);
    }

    #[test]
    fn maximum_broadcasts_away_from_ties((a, b) in broadcast_operands()) {
        let gap = a.try_zip_with("gap", &b, |x, y| (x - y).abs()).unwrap();
        prop_assume!(gap.data().iter().all(|&d| d > 1e-3));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].maximum(v[1])), &[a, b]);
    }

    #[test]
    fn matmul_and_transpose(dims in (1usize..5, 1usize..5, 1usize..5), seed in any::<u64>()) {
        let (m, k, n) = dims;
        let (a, b) = seeded_pair(seed, &[m, k], &[k, n]);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].matmul(v[1])), &[a.clone(), b]);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].t()), from_ref(&a));
        // A^T A reads the same Var through both operands and a transpose;
        // S S (a square S) sends both gradients into one adjoint.
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].t().matmul(v[0])), &[a]);
        let (s, _) = seeded_pair(seed ^ 1, &[k, k], &[]);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].matmul(v[0])), &[s]);
    }

    #[test]
    fn reshape_keeps_gradient_order(x in any_tensor(away_from_zero())) {
        let n = x.len();
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].reshape(&[n])), from_ref(&x));
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].reshape(&[1, n, 1]).sin()), from_ref(&x));
    }

    #[test]
    fn sum_and_mean(x in any_tensor(away_from_zero())) {
        assert_gradcheck(|_, v| v[0].sin().sum(), from_ref(&x));
        assert_gradcheck(|_, v| v[0].sin().mean(), from_ref(&x));
        assert_gradcheck(|_, v| v[0].sum().square(), from_ref(&x));
        assert_gradcheck(|_, v| v[0].mean().exp(), from_ref(&x));
    }

    #[test]
    fn axis_reductions_on_every_axis(x in small_shape()
            .prop_filter("needs an axis", |s| !s.is_empty())
            .prop_flat_map(|s| tensor_of(s, away_from_zero()))) {
        for axis in 0..x.ndim() {
            for keepdim in [false, true] {
                eprintln!("axis {axis} keepdim {keepdim}");
                assert_gradcheck(|tape, v| weighted_sum(tape, v[0].sum_axis(axis, keepdim).sin()),
                                 from_ref(&x));
                assert_gradcheck(|tape, v| weighted_sum(tape, v[0].mean_axis(axis, keepdim).sin()),
                                 from_ref(&x));
            }
        }
    }

    #[test]
    fn log_softmax_rows(x in (1usize..4, 1usize..6)
            .prop_flat_map(|(r, c)| tensor_of(vec![r, c], -3.0f64..3.0))) {
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].log_softmax()), from_ref(&x));
        let row = x.reshape(&[x.len()]);
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].log_softmax()), &[row]);
    }

    #[test]
    fn regression_losses(p in any_tensor(-2.0f64..2.0), seed in any::<u64>()) {
        let (t, _) = seeded_pair(seed, p.shape(), &[]);
        let inputs = [p, t];
        assert_gradcheck(|_, v| loss::mse(v[0], v[1]), &inputs);
        assert_gradcheck(|_, v| loss::mse_half(v[0], v[1]), &inputs);
        assert_gradcheck(|_, v| loss::sse_half(v[0], v[1]), &inputs);
        assert_gradcheck(|_, v| loss::l2(&[v[0], v[1]]), &inputs);
    }

    #[test]
    fn cross_entropy_from_logits(z in (1usize..5, 2usize..5)
            .prop_flat_map(|(n, c)| tensor_of(vec![n, c], -3.0f64..3.0)), picks in prop::collection::vec(any::<usize>(), 4)) {
        let (n, c) = (z.shape()[0], z.shape()[1]);
        let targets: Vec<usize> = (0..n).map(|i| picks[i] % c).collect();
        assert_gradcheck(|_, v| loss::cross_entropy(v[0], &targets), &[z]);
    }

    #[test]
    fn hinge_away_from_the_margin(scores in prop::collection::vec(-3.0f64..3.0, 1..6), signs in prop::collection::vec(any::<bool>(), 6)) {
        let n = scores.len();
        let labels: Vec<f64> = (0..n).map(|i| if signs[i] { 1.0 } else { -1.0 }).collect();
        // relu(1 - y s) has its kink at y s = 1.
        prop_assume!(scores.iter().zip(&labels).all(|(s, y)| (1.0 - y * s).abs() > 1e-3));
        let (s, y) = (Tensor::from_vec(scores, &[n]), Tensor::from_vec(labels, &[n]));
        assert_gradcheck(|tape, v| loss::hinge(v[0], tape.constant(&y)), &[s]);
    }

    #[test]
    fn var_used_several_times(x in any_tensor(away_from_zero())) {
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0] * v[0] * v[0] + v[0].sin() * v[0]),
                         from_ref(&x));
        assert_gradcheck(|tape, v| { let h = v[0].tanh(); weighted_sum(tape, h * h + h / (h * h + 1.0)) },
                         from_ref(&x));
    }

    #[test]
    fn custom_ops(a in (1usize..4, 1usize..4).prop_flat_map(|(r, c)| tensor_of(vec![r, c], -2.0f64..2.0)), seed in any::<u64>()) {
        let (b, _) = seeded_pair(seed, a.shape(), &[]);
        assert_gradcheck(|tape, v| weighted_sum(tape, tape.custom(Softplus, &[v[0]])), from_ref(&a));
        assert_gradcheck(|tape, v| weighted_sum(tape, tape.custom(MulSin, &[v[0], v[1]])), &[a, b]);
    }
}

#[test]
fn detach_blocks_the_gradient() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![0.5, -1.5, 2.0], &[3]));
    // f = sum(x * stop(x)) + sum(stop(x)^3): df/dx = stop(x), not 2x + 3x^2.
    let f = (x * x.detach()).sum() + x.detach().powi(3).sum();
    assert_eq!(f.backward().wrt(x).data(), &[0.5, -1.5, 2.0]);
    // And gradcheck sees the difference from the true derivative 2x.
    let err = tapegrad::check::gradcheck(
        |_, v| (v[0] * v[0].detach()).sum(),
        &[x.value()],
        &tapegrad::check::GradcheckOptions::default(),
    );
    // analytic stop(x) against the numeric 2x, at every element
    let Err(tapegrad::check::GradcheckError::Mismatch(m)) = err else { panic!("expected mismatches, got {err:?}") };
    let pairs: Vec<(f64, f64)> = m.iter().map(|m| (m.analytic, (m.numeric * 1e6).round() / 1e6)).collect();
    assert_eq!(pairs, vec![(0.5, 1.0), (-1.5, -3.0), (2.0, 4.0)]);
}

/// Two seeded normal tensors, for inputs where only the shape is random.
fn seeded_pair(seed: u64, sa: &[usize], sb: &[usize]) -> (Tensor, Tensor) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
    (Tensor::randn(sa, &mut rng), Tensor::randn(sb, &mut rng))
}

/// softplus(x) = ln(1 + e^x) with its hand-written VJP, grad * sigmoid(x).
struct Softplus;
impl tapegrad::ops::custom::CustomOp for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].map(|v| v.max(0.0) + (-v.abs()).exp().ln_1p())
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[0].map(|v| 1.0 / (1.0 + (-v).exp())))]
    }
}

/// A two-input op, y = a * sin(b), with VJPs g sin(b) and g a cos(b).
struct MulSin;
impl tapegrad::ops::custom::CustomOp for MulSin {
    fn name(&self) -> &'static str {
        "mul_sin"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].mul(&x[1].map(f64::sin))
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[1].map(f64::sin)), g.mul(&x[0]).mul(&x[1].map(f64::cos))]
    }
}
