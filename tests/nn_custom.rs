//! A user-defined op and a user-defined model, from outside the crate,
//! checked against central differences like any built-in op.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::check::{GradcheckError, GradcheckOptions, gradcheck};
use tapegrad::nn::{Init, ParamVars, Params};
use tapegrad::ops::custom::CustomOp;
use tapegrad::ops::elementwise::UnaryFn;
use tapegrad::tensor::stable_sigmoid;
use tapegrad::{Tape, Tensor, Var, loss};

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// softplus with its hand-written VJP, `grad * sigmoid(x)`.
struct Softplus;
impl CustomOp for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn forward(&self, inputs: &[Tensor]) -> Tensor {
        inputs[0].map(softplus)
    }
    fn backward(&self, inputs: &[Tensor], _: &Tensor, grad: &Tensor) -> Vec<Tensor> {
        vec![grad.mul(&inputs[0].map(stable_sigmoid))]
    }
}

/// A two-input custom op, `a * b^2`, VJP `(g b^2, 2 g a b)`.
struct MulSquare;
impl CustomOp for MulSquare {
    fn name(&self) -> &'static str {
        "mul_square"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].mul(&x[1].mul(&x[1]))
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[1].mul(&x[1])), g.mul(&x[0]).mul(&x[1]).scale(2.0)]
    }
}

/// A wrong VJP (forgets the factor 2).
struct MulSquareWrong;
impl CustomOp for MulSquareWrong {
    fn name(&self) -> &'static str {
        "mul_square_wrong"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].mul(&x[1].mul(&x[1]))
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[1].mul(&x[1])), g.mul(&x[0]).mul(&x[1])]
    }
}

/// The same op as a `UnaryFn` rule: value and local derivative side by side.
struct SoftplusRule;

impl UnaryFn for SoftplusRule {
    const NAME: &'static str = "softplus";
    const TEXT: &'static str = "sigmoid(x)";
    fn f(x: f64, _: f64) -> f64 {
        softplus(x)
    }
    fn df(x: f64, _: f64, _: f64) -> f64 {
        stable_sigmoid(x)
    }
}

fn inputs(seed: u64, shape: &[usize]) -> Tensor {
    Tensor::randn(shape, &mut ChaCha12Rng::seed_from_u64(seed)).scale(3.0)
}

#[test]
fn custom_softplus_passes_gradcheck() {
    let x = inputs(1, &[4, 5]);
    // weights make the upstream gradient non-uniform, so a VJP that ignores it would fail
    let wts = inputs(2, &[4, 5]);
    let r = gradcheck(
        |tape, v| (tape.custom(Softplus, &[v[0]]) * tape.constant(&wts)).sum(),
        &[x],
        &GradcheckOptions::default(),
    )
    .unwrap();
    assert_eq!(r.checked, 20);
}

#[test]
fn custom_softplus_matches_the_closed_form_and_the_unary_rule() {
    let tape = Tape::new();
    let x = tape.var(inputs(3, &[6]));
    let a = tape.custom(Softplus, &[x]);
    let b = x.apply(SoftplusRule, 0.0);
    let ga = a.sum().backward().wrt(x);
    let gb = b.sum().backward().wrt(x);
    x.with_value(|xs| {
        for (i, &xi) in xs.iter().enumerate() {
            let closed = (1.0 + xi.exp()).ln(); // the textbook form, fine at these magnitudes
            assert!((a.value().data()[i] - closed).abs() < 1e-12);
            assert!((ga.data()[i] - 1.0 / (1.0 + (-xi).exp())).abs() < 1e-15);
        }
    });
    assert_eq!(a.value(), b.value());
    assert_eq!(ga, gb);
}

#[test]
fn two_input_custom_op_passes_gradcheck_and_a_wrong_vjp_fails() {
    let ins = [inputs(4, &[3]), inputs(5, &[3])];
    gradcheck(|tape, v| tape.custom(MulSquare, &[v[0], v[1]]).sum(), &ins, &GradcheckOptions::default()).unwrap();
    let err = gradcheck(|tape, v| tape.custom(MulSquareWrong, &[v[0], v[1]]).sum(), &ins, &GradcheckOptions::default())
        .unwrap_err();
    match err {
        // only the second input's gradient is wrong
        GradcheckError::Mismatch(ms) => assert!(ms.iter().all(|m| m.input == 1) && ms.len() == 3),
        other => panic!("{other}"),
    }
}

/// A residual block with a linear head: `(x + softplus(x W1 + b1) W2) w + c`.
fn residual<'t>(p: ParamVars<'t>, x: Var<'t>) -> Var<'t> {
    let [w1, b1, w2, w, c] = [0, 1, 2, 3, 4].map(|i| p.get(i));
    let h = x + x.tape().custom(Softplus, &[x.matmul(w1) + b1]).matmul(w2);
    h.matmul(w) + c
}

#[test]
fn residual_model_passes_gradcheck() {
    let mut rng = ChaCha12Rng::seed_from_u64(9);
    let mut p = Params::new();
    p.insert("w1", Init::XavierNormal.draw(&[3, 5], 3, 5, &mut rng));
    p.insert("b1", Tensor::randn(&[5], &mut rng));
    p.insert("w2", Init::XavierNormal.draw(&[5, 3], 5, 3, &mut rng));
    p.insert("w", Tensor::randn(&[3, 1], &mut rng));
    p.insert("c", Tensor::randn(&[1], &mut rng));
    let x = Tensor::randn(&[4, 3], &mut rng);
    let t = Tensor::randn(&[4, 1], &mut rng);
    let r = p
        .gradcheck(|tape, v| loss::mse(residual(v, tape.constant(&x)), tape.constant(&t)), &GradcheckOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.checked, p.numel());
    assert!(r.tolerance_used <= 1.0, "{r}");
}
