//! The binary cross-entropies against their formulas written out in f64 at
//! chosen points (PyTorch's documented definitions), their reductions,
//! their edges (p = 0 and 1, logits at +-1e300) and their gradients against
//! central differences, forward mode and second order.

mod common;

use common::assert_gradcheck;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::loss::{self, Reduction};
use tapegrad::{Tape, Tensor};

const P: [f64; 4] = [0.1, 0.35, 0.5, 0.97];
const Z: [f64; 4] = [-3.0, -0.2, 0.7, 5.0];
const Y: [f64; 4] = [0.0, 1.0, 0.25, 1.0];

/// `-(y ln p + (1 - y) ln(1 - p))`, PyTorch's `BCELoss` per element.
fn bce(p: f64, y: f64) -> f64 {
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

/// `BCEWithLogitsLoss` per element, from its definition `bce(sigmoid(z), y)`.
fn bce_logits(z: f64, y: f64) -> f64 {
    let p = 1.0 / (1.0 + (-z).exp());
    bce(p, y)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn bce_matches_its_formula_under_each_reduction() {
    let tape = Tape::new();
    let p = tape.var(Tensor::from_vec(P.to_vec(), &[2, 2]));
    let y = tape.constant(Tensor::from_vec(Y.to_vec(), &[2, 2]));
    let want: Vec<f64> = P.iter().zip(Y).map(|(&p, y)| bce(p, y)).collect();
    let each = loss::binary_cross_entropy(p, y, Reduction::None);
    assert_eq!(each.shape().as_slice(), &[2, 2]);
    for (got, w) in each.value().data().iter().zip(&want) {
        assert!(close(*got, *w, 1e-14), "{got} vs {w}");
    }
    let sum: f64 = want.iter().sum();
    assert!(close(loss::binary_cross_entropy(p, y, Reduction::Sum).item(), sum, 1e-14));
    let mean = loss::binary_cross_entropy(p, y, Reduction::Mean);
    assert!(close(mean.item(), sum / 4.0, 1e-14));
    // d/dp = (p - y) / (p (1 - p)), over 4 for the mean.
    let g = mean.backward().wrt(p);
    for ((&gp, &pv), yv) in g.data().iter().zip(&P).zip(Y) {
        let want = (pv - yv) / (pv * (1.0 - pv)) / 4.0;
        assert!(close(gp, want, 1e-13), "{gp} vs {want}");
    }
    assert_eq!(Reduction::default(), Reduction::Mean);
}

#[test]
fn bce_with_logits_matches_its_formula_and_has_gradient_sigmoid_minus_y() {
    let tape = Tape::new();
    let z = tape.var(Tensor::from_vec(Z.to_vec(), &[4]));
    let y = tape.constant(Tensor::from_vec(Y.to_vec(), &[4]));
    let each = loss::binary_cross_entropy_with_logits(z, y, Reduction::None).value();
    for ((got, &zv), yv) in each.data().iter().zip(&Z).zip(Y) {
        assert!(close(*got, bce_logits(zv, yv), 1e-14), "{got} at z = {zv}");
    }
    let l = loss::binary_cross_entropy_with_logits(z, y, Reduction::Sum);
    let g = l.backward().wrt(z);
    for ((&gz, &zv), yv) in g.data().iter().zip(&Z).zip(Y) {
        let want = 1.0 / (1.0 + (-zv).exp()) - yv;
        assert!(close(gz, want, 1e-15), "{gz} vs {want}");
    }
    // Exactly at z = 0 the gradient is sigmoid(0) - y = 0.5 - y (no kink of
    // max(z, 0) or |z| leaks through).
    let z0 = tape.var(Tensor::zeros(&[1]));
    let y0 = tape.constant(Tensor::ones(&[1]));
    let l0 = loss::binary_cross_entropy_with_logits(z0, y0, Reduction::Mean);
    assert_eq!(l0.item(), 2f64.ln());
    assert_eq!(l0.backward().wrt(z0).data(), &[-0.5]);
}

#[test]
fn bce_edges_clamp_the_log_at_minus_100() {
    let tape = Tape::new();
    let p = tape.var(Tensor::from_vec(vec![0.0, 1.0, 0.0, 1.0], &[4]));
    let y = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[4]));
    let l = loss::binary_cross_entropy(p, y, Reduction::None);
    // Wrong and sure: 100 each (PyTorch's clamp); right and sure: 0.
    let v = l.value();
    assert!(close(v.data()[0], 100.0, 1e-14) && close(v.data()[1], 100.0, 1e-14), "{v:?}");
    assert_eq!(&v.data()[2..], &[0.0, 0.0]);
    // The gradient is finite: no 0 * inf from the log of 0.
    let g = l.sum().backward().wrt(p);
    assert!(g.data().iter().all(|x| x.is_finite()), "{g:?}");
}

#[test]
fn bce_with_logits_is_finite_at_1e300() {
    let tape = Tape::new();
    let z = tape.var(Tensor::from_vec(vec![1e300, -1e300, 1e300, -1e300], &[4]));
    let y = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[4]));
    let l = loss::binary_cross_entropy_with_logits(z, y, Reduction::None);
    assert_eq!(l.value().data(), &[0.0, 0.0, 1e300, 1e300]);
    let g = l.sum().backward().wrt(z);
    assert_eq!(g.data(), &[0.0, 0.0, 1.0, -1.0]); // sigmoid(z) - y
    // Where the probability form has long been inf: z = 40, y = 0.
    let z = tape.var(Tensor::from_vec(vec![40.0], &[1]));
    let y = tape.constant(Tensor::zeros(&[1]));
    let l = loss::binary_cross_entropy_with_logits(z, y, Reduction::Mean).item();
    assert!(close(l, 40.0 + (-40f64).exp().ln_1p(), 1e-15), "{l}");
}

#[test]
fn bce_gradients_against_differences_forward_mode_and_second_order() {
    let p = Tensor::from_vec(P.to_vec(), &[4]);
    let z = Tensor::from_vec(Z.to_vec(), &[4]);
    let y = Tensor::from_vec(Y.to_vec(), &[4]);
    let v = Tensor::from_vec(vec![1.0, -0.5, 0.25, 2.0], &[4]);
    // Both the prediction and the target as variables.
    type Loss = for<'t> fn(tapegrad::Var<'t>, tapegrad::Var<'t>, Reduction) -> tapegrad::Var<'t>;
    let losses: [(Loss, &Tensor); 2] = [(loss::binary_cross_entropy, &p), (loss::binary_cross_entropy_with_logits, &z)];
    for (f, x) in losses {
        let inputs = [x.clone(), y.clone()];
        assert_gradcheck(|_, v| f(v[0], v[1], Reduction::Mean), &inputs);
        gradcheck_forward(|_, v| f(v[0], v[1], Reduction::Sum), &inputs, 1e-12).unwrap_or_else(|e| panic!("{e}"));
        hvpcheck(|_, v| f(v[0], v[1], Reduction::Mean), &inputs, &[v.clone(), v.clone()], &GradcheckOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
