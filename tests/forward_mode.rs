//! Forward mode (tangent sweep) against independent truths: reverse mode
//! (full Jacobians by JVPs and by VJPs agree to 1e-12 on random programs
//! over every op, broadcasting included), central differences (each op's
//! tangent), and closed forms.

mod common;

use common::{away_from_zero, tensor_of, weighted_sum};
use proptest::prelude::*;
use tapegrad::check::{GradcheckError, GradcheckOptions, gradcheck, gradcheck_forward};
use tapegrad::func::{jacobian_fwd, jacobian_rev, jvp};
use tapegrad::ops::custom::CustomOp;
use tapegrad::ops::registry::{Step, cases, program};
use tapegrad::{TangentError, Tape, Tensor, Var};

/// A random program over every op of the registry that takes part in
/// forward mode (`tapegrad::ops::registry::program`).
fn run<'t>(inputs: &[Var<'t>], steps: &[Step]) -> Var<'t> {
    let cases: Vec<_> = cases().filter(|c| c.checks.programs && c.checks.forward).collect();
    program(inputs, steps, &cases)
}

/// `|a - b| <= 1e-12 * max(1, max |b|)`, element by element: the two
/// derivations sum in different orders, so they agree to rounding, scaled
/// by the Jacobian's size.
fn assert_same(a: &Tensor, b: &Tensor, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let scale = b.data().iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.data().iter().zip(b.data()).enumerate() {
        assert!((x - y).abs() <= 1e-12 * scale, "{what}[{i}]: forward {x} vs reverse {y}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn jacobians_by_jvps_and_by_vjps_agree(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        program in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..10),
    ) {
        let inputs = [a, b, c];
        let fwd = jacobian_fwd(|_, v| run(v, &program), &inputs).unwrap();
        let rev = jacobian_rev(|_, v| run(v, &program), &inputs);
        for (k, (f, r)) in fwd.iter().zip(&rev).enumerate() {
            assert_same(f, r, &format!("input {k}"));
        }
    }

    #[test]
    fn programs_pass_the_forward_mode_gradcheck(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        program in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..8),
    ) {
        gradcheck_forward(|tape, v| weighted_sum(tape, run(v, &program).sin()), &[a, b], 1e-12).unwrap();
    }
}

/// Every op's tangent `J t` against the central difference
/// `(f(x + h t) - f(x - h t)) / 2h` along a random direction `t`.
fn tangent_vs_central(f: impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>, x: &[Tensor], t: &[Tensor]) {
    let (_, tangent) = jvp(&f, x, t).unwrap();
    let h = 1e-6;
    let shifted = |s: f64| -> Tensor {
        let moved: Vec<Tensor> = x.iter().zip(t).map(|(x, t)| x.add(&t.scale(s * h))).collect();
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = moved.iter().map(|m| tape.var(m)).collect();
        f(&tape, &vars).value()
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    for (i, &got) in tangent.data().iter().enumerate() {
        let numeric = (plus.data()[i] - minus.data()[i]) / (2.0 * h);
        // PyTorch's gradcheck rule: |analytic - numeric| <= atol + rtol |numeric|.
        assert!((got - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs(), "tangent[{i}]: {got} vs numeric {numeric}");
    }
}

/// Every registered op's tangent against central differences along a
/// direction with a different value per element.
#[test]
fn each_ops_tangent_matches_central_differences() {
    for case in cases().filter(|c| c.checks.forward && c.checks.central) {
        for seed in 0..2 {
            let x = case.inputs(seed);
            let t: Vec<Tensor> = x.iter().map(|x| x.map(|v| (v * 3.7 + seed as f64).sin())).collect();
            eprintln!("op {}", case.name);
            tangent_vs_central(|_, v| (case.run)(v), &x, &t);
        }
    }
}

#[test]
fn the_tangent_of_sin_x_exp_x_is_its_closed_form() {
    // d/dx sin(x) e^x = e^x (sin x + cos x), at several points, through
    // forward mode on a tensor of points (elementwise, so the tangent along
    // all-ones is the derivative at each point).
    let xs = [-2.0, -0.5, 0.0, 0.3, 1.0, 2.5];
    let (value, tangent) =
        jvp(|_, v| v[0].sin() * v[0].exp(), &[Tensor::from_vec(xs.to_vec(), &[6])], &[Tensor::ones(&[6])]).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        assert!((value.data()[i] - x.sin() * x.exp()).abs() <= 1e-15 * x.exp().max(1.0));
        let want = x.exp() * (x.sin() + x.cos());
        assert!((tangent.data()[i] - want).abs() <= 1e-15 * want.abs().max(1.0), "at {x}: {}", tangent.data()[i]);
    }
}

#[test]
fn every_nodes_tangent_can_be_read() {
    // y = (a b) + sin(a): with da = 1, db = 0 each node's tangent is its
    // partial in a, written out by hand.
    let tape = Tape::new();
    let (a, b) = (tape.scalar(0.7), tape.scalar(-1.5));
    let p = a * b;
    let s = a.sin();
    let y = p + s;
    let t = y.tangents(&[(a, &Tensor::scalar(1.0))]).unwrap();
    assert_eq!(
        [t.of(a), t.of(b), t.of(p), t.of(s), t.of(y)].map(|t| t.item()),
        [1.0, 0.0, -1.5, 0.7f64.cos(), -1.5 + 0.7f64.cos()]
    );
}

#[test]
fn func_jvp_errors_name_the_problem() {
    let x = Tensor::ones(&[3]);
    let e = jvp(|_, v| v[0].sum(), std::slice::from_ref(&x), &[]).unwrap_err();
    assert_eq!(e, TangentError::Count { primals: 1, tangents: 0 });
    let e = jvp(|_, v| v[0].sum(), std::slice::from_ref(&x), &[Tensor::ones(&[4])]).unwrap_err();
    assert_eq!(e.to_string(), "jvp: the tangent given for node 0 has shape [4] but the node has shape [3]");
}

/// x^2 with a backward rule wrong by one part in 1e7 (2.0000002 x) and a
/// right tangent rule: central differences with PyTorch's tolerances cannot
/// see it; forward vs reverse can.
struct SlightlyWrongSquare;
impl CustomOp for SlightlyWrongSquare {
    fn name(&self) -> &'static str {
        "slightly_wrong_square"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].mul(&x[0])
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[0].scale(2.0000002))]
    }
    fn jvp(&self, x: &[Tensor], _: &Tensor, t: &[Tensor]) -> Result<Tensor, TangentError> {
        Ok(t[0].mul(&x[0].scale(2.0)))
    }
}

#[test]
fn forward_mode_gradcheck_catches_what_central_differences_let_pass() {
    let x = [Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3])];
    fn f<'t>(tape: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
        tape.custom(SlightlyWrongSquare, &[v[0]]).sum()
    }
    gradcheck(f, &x, &GradcheckOptions::default()).expect("the 1e-7 slip hides under rtol = 1e-3");
    let err = gradcheck_forward(f, &x, 1e-12).unwrap_err();
    let GradcheckError::ForwardMismatch(ms) = &err else { panic!("{err}") };
    assert_eq!(ms.len(), 3);
    assert!(err.to_string().starts_with("gradcheck: 3 element(s) disagree with forward mode:"), "{err}");
    // A user op with no tangent rule is an error, not a pass.
    struct NoTangent;
    impl CustomOp for NoTangent {
        fn name(&self) -> &'static str {
            "no_tangent"
        }
        fn forward(&self, x: &[Tensor]) -> Tensor {
            x[0].clone()
        }
        fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
            vec![g.clone()]
        }
    }
    let err = gradcheck_forward(|tape, v| tape.custom(NoTangent, &[v[0]]).sum(), &x, 1e-12).unwrap_err();
    assert_eq!(err, GradcheckError::Tangent(TangentError::NoRule { op: "no_tangent" }));
}
