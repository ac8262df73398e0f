//! The checker has to be checked too: gradcheck must fail on a wrong
//! backward rule and say where, and numerical_gradient must agree with a
//! closed form.

use tapegrad::check::{GradcheckError, GradcheckOptions, Mismatch, gradcheck, numerical_gradient};
use tapegrad::ops::custom::CustomOp;
use tapegrad::{Tensor, Var};

/// y = x^2 elementwise, with a deliberately wrong VJP: `g * x` instead of
/// `g * 2x`, except at element 0 where it is right.
struct WrongSquare;
impl CustomOp for WrongSquare {
    fn name(&self) -> &'static str {
        "wrong_square"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].map(|v| v * v)
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        let mut d = x[0].clone();
        d.data_mut()[0] *= 2.0;
        vec![g.mul(&d)]
    }
}

#[test]
fn gradcheck_fails_on_a_wrong_vjp_and_lists_each_element() {
    let x = Tensor::from_vec(vec![1.0, 2.0, -3.0], &[3]);
    let keep = Tensor::scalar(0.5); // a second input whose gradient is right
    let err = gradcheck(
        |tape, v: &[Var<'_>]| (tape.custom(WrongSquare, &[v[1]]) * 1.0).sum() + v[0].square(),
        &[keep, x],
        &GradcheckOptions::default(),
    )
    .unwrap_err();
    let GradcheckError::Mismatch(ms) = &err else { panic!("expected a mismatch, got {err}") };
    // Elements 1 and 2 of input 1: analytic x, numeric 2x.
    assert_eq!(ms.len(), 2, "{err}");
    let want = [(1, 1, 2.0, 4.0), (1, 2, -3.0, -6.0)];
    for (m, (input, index, analytic, numeric)) in ms.iter().zip(want) {
        let Mismatch { input: i, index: k, analytic: a, numeric: n, .. } = *m;
        assert_eq!((i, k), (input, index));
        assert_eq!(a, analytic);
        assert!((n - numeric).abs() < 1e-6, "numeric {n} vs {numeric}");
    }
    let text = err.to_string();
    assert!(text.starts_with("gradcheck: 2 element(s) disagree with central differences:"), "{text}");
    // One line per element: input, index, analytic, numeric, difference.
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, (prefix, numeric, diff)) in lines.iter().zip([
        ("  input 1 index 1: analytic 2.0000000000e0, numeric ", 4.0, "difference 2.000e0"),
        ("  input 1 index 2: analytic -3.0000000000e0, numeric ", -6.0, "difference 3.000e0"),
    ]) {
        let rest = line.strip_prefix(prefix).unwrap_or_else(|| panic!("{line:?} lacks {prefix:?}"));
        let shown: f64 = rest.split(',').next().unwrap().parse().unwrap();
        assert!((shown - numeric).abs() < 1e-6, "{line}");
        assert!(line.ends_with(diff), "{line}");
    }
}

#[test]
fn gradcheck_reports_what_it_checked() {
    let x = Tensor::from_vec(vec![0.5, 1.5, -0.25, 2.0], &[2, 2]);
    let r = gradcheck(|_, v| v[0].exp().sum(), &[x], &GradcheckOptions::default()).unwrap();
    assert_eq!(r.checked, 4);
    assert!(r.max_abs_error < 1e-8 && r.max_rel_error < 1e-8, "{r:?}");
}

#[test]
fn gradcheck_rejects_a_non_scalar_function() {
    let err = gradcheck(|_, v| v[0].exp(), &[Tensor::ones(&[2])], &GradcheckOptions::default()).unwrap_err();
    assert_eq!(err, GradcheckError::NotScalar([2].into_iter().collect()));
    assert_eq!(err.to_string(), "gradcheck: the function returned shape [2], not a scalar");
}

#[test]
fn gradcheck_fails_on_nan_gradients() {
    // sqrt at 0 has an infinite derivative: no real comparison, so no pass.
    let err = gradcheck(|_, v| v[0].sqrt().sum(), &[Tensor::zeros(&[1])], &GradcheckOptions::default());
    match err {
        Err(GradcheckError::Mismatch(m)) => {
            assert_eq!((m.len(), m[0].input, m[0].index), (1, 0, 0));
            assert!(!m[0].analytic.is_finite(), "analytic {}", m[0].analytic);
        }
        other => panic!("expected a mismatch at input 0, index 0, got {other:?}"),
    }
}

#[test]
fn numerical_gradient_matches_a_closed_form() {
    // f(x) = sum x_i sin x_i + x_0 x_1, so df/dx_i = sin x_i + x_i cos x_i (+ the other x).
    let x = [0.3, -1.2, 2.5];
    let f = |x: &[f64]| x.iter().map(|v| v * v.sin()).sum::<f64>() + x[0] * x[1];
    let g = numerical_gradient(f, &x, 1e-5);
    let want =
        [x[0].sin() + x[0] * x[0].cos() + x[1], x[1].sin() + x[1] * x[1].cos() + x[0], x[2].sin() + x[2] * x[2].cos()];
    for (g, w) in g.iter().zip(want) {
        assert!((g - w).abs() < 1e-8, "{g} vs {w}");
    }
    // The notes' step h = 1e-4 on a quadratic is exact up to rounding.
    let g = numerical_gradient(|x| 3.0 * x[0] * x[0], &[2.0], 1e-4);
    assert!((g[0] - 12.0).abs() < 1e-8);
}

/// A gradient that is truly 0 (softmax is shift-invariant, so the shift `b`
/// changes nothing) comes out of the tape as rounding noise (~1e-17), and
/// the central difference as noise too. Both checks pass, and their
/// reports must say so: the relative error is measured as the pass rule
/// measures it, over `max(1, |reference|)`, so noise over noise does not
/// read as a 100% error; `tolerance_used` is the pass rule's own quantity.
#[test]
fn a_passing_check_of_a_zero_gradient_reads_as_a_pass() {
    let x = Tensor::from_vec(vec![0.3, -1.2, 2.5, 0.7], &[4]);
    let w = Tensor::from_vec(vec![1.0, -2.0, 0.5, 3.0], &[4]);
    let b = Tensor::scalar(0.37);
    let f = tapegrad::func::program(|tape, v| ((v[0] + v[1]).softmax(0) * tape.constant(&w)).sum());
    let opts = GradcheckOptions::default();
    for (name, r) in [
        ("gradcheck", gradcheck(f, &[x.clone(), b.clone()], &opts).unwrap()),
        ("gradcheck_forward", tapegrad::check::gradcheck_forward(f, &[x.clone(), b.clone()], 1e-12).unwrap()),
    ] {
        assert_eq!(r.checked, 5, "{name}");
        assert!(r.max_rel_error < 1e-9, "{name}: {r:?}");
        assert!(r.tolerance_used <= 1.0, "{name}: {r:?}");
        assert!(r.to_string().contains("passed"), "{name}: {r}");
    }
}

/// y = x^2 with a VJP off by 5e-6 at element 1 only, where the true
/// gradient is 0: inside gradcheck's tolerance there (atol 1e-5), so the
/// check passes, and the report names that element as the one that used
/// most of its tolerance (about half).
struct NearlySquare;
impl CustomOp for NearlySquare {
    fn name(&self) -> &'static str {
        "nearly_square"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].map(|v| v * v)
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        let mut d = x[0].map(|v| 2.0 * v);
        d.data_mut()[1] += 5e-6;
        vec![g.mul(&d)]
    }
}

#[test]
fn the_report_names_the_element_closest_to_failing() {
    let x = Tensor::from_vec(vec![0.5, 0.0, 0.25], &[3]);
    let r = gradcheck(
        |tape, v| tape.custom(NearlySquare, &[v[1]]).sum() + v[0].sum(),
        &[Tensor::ones(&[2]), x],
        &GradcheckOptions::default(),
    )
    .unwrap();
    assert_eq!((r.worst_input, r.worst_index), (1, 1), "{r:?}");
    assert!((r.tolerance_used - 0.5).abs() < 0.01, "{r:?}");
    assert!((r.max_abs_error - 5e-6).abs() < 1e-8, "{r:?}");
    let text = r.to_string();
    assert!(text.starts_with("5 elements passed"), "{text}");
    assert!(text.contains("input 1 index 1"), "{text}");
}

/// b * b with one factor detached: the tape says b where the truth is 2b.
fn wrong_in_b<'t>(_: &'t tapegrad::Tape, v: tapegrad::nn::ParamVars<'t>) -> Var<'t> {
    v.get(0).tanh().sum() + (v.get(1) * v.get(1).detach()).sum()
}

fn right<'t>(_: &'t tapegrad::Tape, v: tapegrad::nn::ParamVars<'t>) -> Var<'t> {
    v.get(0).tanh().sum() + v.get(1).square().sum()
}

#[test]
fn a_models_gradcheck_names_the_parameter_not_only_its_position() {
    use tapegrad::nn::Params;
    let mut p = Params::new();
    p.insert("w", Tensor::from_vec(vec![0.5, -2.0], &[2]));
    p.insert("b", Tensor::from_vec(vec![1.5, 3.0], &[2]));
    let err = p.gradcheck(wrong_in_b, &GradcheckOptions::default()).unwrap_err();
    let GradcheckError::Mismatch(ms) = &err else { panic!("{err}") };
    assert_eq!(ms.len(), 2, "{err}");
    assert!(ms.iter().all(|m| (m.input, m.name.as_deref()) == (1, Some("b"))), "{err}");
    assert!(err.to_string().contains("  input 1 (b) index 0: analytic 1.5"), "{err}");
    // A passing check names its closest-to-failing parameter too.
    // (Forward mode sees the detach too, so it agrees with the tape there.)
    for report in [p.gradcheck(right, &GradcheckOptions::default()), p.gradcheck_forward(right, 1e-12)] {
        let report = report.unwrap();
        let name = p.names().nth(report.worst_input).unwrap();
        assert_eq!(report.worst_name.as_deref(), Some(name));
        assert!(report.to_string().contains(&format!("input {} ({name}) index", report.worst_input)), "{report}");
    }
}
