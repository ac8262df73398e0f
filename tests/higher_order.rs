//! The differentiable backward (`grad_graph`) and the functions built on
//! it (`func::hvp`, `func::hessian`, `check::hvpcheck`), against closed
//! forms written in plain f64 and against central differences of the
//! plain first-order gradient.

mod common;

use common::CubeRule;
use tapegrad::check::{GradcheckOptions, hvpcheck};
use tapegrad::func::{hessian, hvp};
use tapegrad::{Tape, Tensor, Var};

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * (1.0 + want.abs())
}

/// The k-th derivative of `f` at `x0`, by `k` differentiable backwards.
fn nth_derivative(f: impl for<'a> Fn(Var<'a>) -> Var<'a>, x0: f64, k: usize) -> f64 {
    let tape = Tape::new();
    let x = tape.scalar(x0);
    let mut d = f(x);
    for _ in 0..k {
        d = d.grad_graph().unwrap().wrt(x);
    }
    d.item()
}

#[test]
fn sigmoid_second_derivative_matches_its_closed_form() {
    for x0 in [-6.0, -2.5, -1.0, -0.3, 0.0, 0.7, 2.0, 6.0] {
        let s = 1.0 / (1.0 + f64::exp(-x0));
        let want = s * (1.0 - s) * (1.0 - 2.0 * s);
        let got = nth_derivative(|x| x.sigmoid(), x0, 2);
        assert!(close(got, want, 1e-14), "sigmoid''({x0}) = {got}, want {want}");
        let want3 = s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s);
        let got3 = nth_derivative(|x| x.sigmoid(), x0, 3);
        assert!(close(got3, want3, 1e-14), "sigmoid'''({x0}) = {got3}, want {want3}");
    }
}

#[test]
fn tanh_second_derivative_matches_its_closed_form() {
    for x0 in [-3.0, -1.0, -0.2, 0.0, 0.5, 1.5, 4.0] {
        let t = f64::tanh(x0);
        let want = -2.0 * t * (1.0 - t * t);
        let got = nth_derivative(|x| x.tanh(), x0, 2);
        assert!(close(got, want, 1e-14), "tanh''({x0}) = {got}, want {want}");
    }
}

#[test]
fn derivatives_of_sin_exp_up_to_fourth_order_match_the_closed_form() {
    // d^k/dx^k sin(x) e^x = 2^(k/2) e^x sin(x + k pi/4)
    for x0 in [-1.3f64, 0.0, 0.4, 2.2] {
        for k in 1..=4 {
            let want = 2f64.powf(k as f64 / 2.0) * x0.exp() * (x0 + k as f64 * std::f64::consts::FRAC_PI_4).sin();
            let got = nth_derivative(|x| x.sin() * x.exp(), x0, k);
            assert!(close(got, want, 1e-13), "k = {k} at {x0}: {got} vs {want}");
        }
    }
}

fn rosenbrock<'t>(x: Var<'t>, y: Var<'t>) -> Var<'t> {
    (1.0 - x).square() + 100.0 * (y - x.square()).square()
}

#[test]
fn rosenbrock_hessian_matches_its_closed_form() {
    for (x, y) in [(-1.2, 1.0), (1.0, 1.0), (0.3, -0.5), (2.0, 3.5)] {
        let h = hessian(|_, v| rosenbrock(v[0], v[1]), &[Tensor::scalar(x), Tensor::scalar(y)]).unwrap();
        let want = [1200.0 * x * x - 400.0 * y + 2.0, -400.0 * x, -400.0 * x, 200.0];
        for (g, w) in h.data().iter().zip(want) {
            assert!(close(*g, w, 1e-13), "at ({x}, {y}): {:?} vs {want:?}", h.data());
        }
    }
}

#[test]
fn cross_entropy_hessian_wrt_logits_is_diag_p_minus_p_p_transpose() {
    let z = [0.3, -1.2, 2.0, 0.5];
    let target = Tensor::from_vec(vec![0.0, 0.0, 1.0, 0.0], &[1, 4]);
    let h = hessian(
        |tape, v| -(v[0].log_softmax() * tape.constant(&target)).sum(),
        &[Tensor::from_vec(z.to_vec(), &[1, 4])],
    )
    .unwrap();
    // The same loss through `pick` (how `loss::cross_entropy` reads the target).
    let h_pick =
        hessian(|_, v| -v[0].log_softmax().pick(&[2]).sum(), &[Tensor::from_vec(z.to_vec(), &[1, 4])]).unwrap();
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let p: Vec<f64> = e.iter().map(|v| v / e.iter().sum::<f64>()).collect();
    for i in 0..4 {
        for j in 0..4 {
            let want = if i == j { p[i] } else { 0.0 } - p[i] * p[j];
            assert!(close(h.data()[i * 4 + j], want, 1e-15), "H[{i}][{j}] = {} vs {want}", h.data()[i * 4 + j]);
            assert!(close(h_pick.data()[i * 4 + j], want, 1e-15), "pick: H[{i}][{j}] = {}", h_pick.data()[i * 4 + j]);
        }
    }
}

/// A small network touching matmul, broadcasting, reductions, log_softmax
/// and every activation: the program the second-order checks run on.
fn net<'t>(tape: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
    let (w, b, x) = (v[0], v[1], v[2]);
    let h = (x.matmul(w) + b).tanh(); // [3, 2] + [2]
    let a =
        h.sigmoid() * h.softplus() + h.abs().sqrt() * 0.5 - h.relu() + h.maximum(tape.constant(Tensor::scalar(0.1)));
    let logits =
        a.matmul(w.t()) / 1.5 + a.sum_axis(1, true).exp() - a.mean_axis(0, false).reshape(&[1, 2]).sum_to(&[1, 1]);
    let y = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.25, 0.25], &[3, 3]));
    -(logits.log_softmax() * y).mean() + (x.cos() * x.sin()).sum() + w.powi(3).sum() + b.powf(2.0).log1p().sum()
        - (1.0 / (w.square() + 1.0)).sum()
        + (b.ln() * 2.0).mean()
}

fn net_inputs() -> Vec<Tensor> {
    vec![
        Tensor::from_vec(vec![0.4, -0.3, 0.8, 0.1, -0.5, 0.6], &[3, 2]),
        Tensor::from_vec(vec![0.7, 1.3], &[2]),
        Tensor::from_vec(vec![0.2, -1.1, 0.5, 0.9, -0.4, 1.4, 0.3, 0.6, -0.8], &[3, 3]),
    ]
}

#[test]
fn hvps_match_central_differences_of_the_gradient() {
    let inputs = net_inputs();
    let dirs = [
        vec![
            Tensor::from_vec(vec![1.0, 0.5, -0.3, 0.2, 0.9, -1.0], &[3, 2]),
            Tensor::from_vec(vec![0.3, -0.6], &[2]),
            Tensor::from_vec(vec![0.1, 0.2, -0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9], &[3, 3]),
        ],
        vec![Tensor::zeros(&[3, 2]), Tensor::from_vec(vec![1.0, 0.0], &[2]), Tensor::zeros(&[3, 3])],
    ];
    let options = GradcheckOptions { eps: 1e-5, atol: 1e-7, rtol: 1e-5 };
    for v in &dirs {
        let r = hvpcheck(net, &inputs, v, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.checked, 6 + 2 + 9);
    }
}

#[test]
fn hessians_are_symmetric() {
    let h = hessian(net, &net_inputs()).unwrap();
    let n = h.shape()[0];
    assert_eq!(n, 17);
    let scale = h.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (h.data()[i * n + j], h.data()[j * n + i]);
            assert!((a - b).abs() <= 1e-13 * scale, "H[{i}][{j}] = {a}, H[{j}][{i}] = {b}");
        }
    }
    // And each column is an HVP with a unit vector, checked against central
    // differences above; here, one column against `hvp` itself is the
    // bookkeeping check (rows land where they belong).
    let mut e = vec![Tensor::zeros(&[3, 2]), Tensor::zeros(&[2]), Tensor::zeros(&[3, 3])];
    e[1].data_mut()[1] = 1.0;
    let hv = hvp(net, &net_inputs(), &e).unwrap();
    let flat: Vec<f64> = hv.iter().flat_map(|t| t.data().to_vec()).collect();
    for (i, want) in flat.iter().enumerate() {
        assert!((h.data()[i * n + 7] - want).abs() <= 1e-13 * scale);
    }
}

/// `||d f / d x||^2` computed with the plain first-order backward (no
/// recording): the independent truth the gradient penalty is differenced against.
fn penalty_plain(w: &Tensor, x: &Tensor) -> f64 {
    let tape = Tape::new();
    let (wv, xv) = (tape.constant(w), tape.var(x));
    let f = penalty_f(&tape, wv, xv);
    f.backward().wrt(xv).data().iter().map(|g| g * g).sum()
}

fn penalty_f<'t>(tape: &'t Tape, w: Var<'t>, x: Var<'t>) -> Var<'t> {
    let b = tape.constant(Tensor::from_vec(vec![0.1, -0.2, 0.3], &[3]));
    let logits = (x.matmul(w) + b).tanh();
    let y = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[2, 3]));
    -(logits.log_softmax() * y).sum_axis(1, false).mean() + logits.sum_axis(0, true).square().sum()
}

#[test]
fn gradient_penalty_grad_of_grad_through_matmul_broadcasting_log_softmax_and_reductions() {
    let w = Tensor::from_vec(vec![0.5, -0.4, 0.3, 0.9, 0.2, -0.7], &[2, 3]);
    let x = Tensor::from_vec(vec![0.6, -1.0, 0.25, 0.8], &[2, 2]);
    let tape = Tape::new();
    let (wv, xv) = (tape.var(&w), tape.var(&x));
    let dx = penalty_f(&tape, wv, xv).grad_graph().unwrap().wrt(xv);
    let penalty = dx.square().sum();
    assert!(close(penalty.item(), penalty_plain(&w, &x), 1e-14));
    let g = penalty.backward().wrt(wv);
    let h = 1e-6;
    for i in 0..w.len() {
        let (mut wp, mut wm) = (w.clone(), w.clone());
        wp.data_mut()[i] += h;
        wm.data_mut()[i] -= h;
        let numeric = (penalty_plain(&wp, &x) - penalty_plain(&wm, &x)) / (2.0 * h);
        assert!(close(g.data()[i], numeric, 1e-7), "d penalty/dW[{i}]: {} vs {numeric}", g.data()[i]);
    }
}

#[test]
fn differentiable_backward_gives_the_plain_backwards_numbers() {
    // Elementwise ops, broadcasting and reductions: the same arithmetic in
    // the same order, so the same bits.
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![0.3, -1.2, 2.5, 0.7, -0.1, 1.9], &[2, 3]));
    let b = tape.var(Tensor::from_vec(vec![0.5, -0.25, 1.5], &[3]));
    let y = ((x * b).sigmoid() + (x - b).tanh() * x.exp() / (b.square() + 1.0)).log_softmax().sum_axis(0, false);
    let loss = (y.softplus() + y.abs() + y.relu()).mean() + x.maximum(b).sum() + (x.sin() * 3.0 - 2.0).powi(2).sum();
    let plain = loss.backward();
    let graph = loss.grad_graph().unwrap();
    assert_eq!(plain.wrt(x).data(), graph.wrt(x).value().data());
    // `b` is broadcast: the plain sweep sums its repeats straight into a
    // slot already holding other contributions, the recorded one sums them
    // first (`sum_to`) and adds after, so the last bit may differ.
    for (p, g) in plain.wrt(b).data().iter().zip(graph.wrt(b).value().data()) {
        assert!(close(*g, *p, 1e-15));
    }
    // Matmul: the GEMM may order its sums differently on explicit transposes.
    let w = tape.var(Tensor::from_vec(vec![0.2, -0.6, 1.1, 0.4, 0.9, -0.3], &[3, 2]));
    let loss = x.matmul(w).tanh().sum();
    let (plain, graph) = (loss.backward(), loss.grad_graph().unwrap());
    for v in [x, w] {
        for (p, g) in plain.wrt(v).data().iter().zip(graph.wrt(v).value().data()) {
            assert!(close(*g, *p, 1e-15));
        }
    }
    // And calling it leaves later plain backwards unchanged.
    let again = loss.backward();
    assert_eq!(again.wrt(x).data(), plain.wrt(x).data());
}

#[test]
fn the_recorded_backward_is_ordinary_nodes_in_the_table_and_the_trace() {
    let tape = Tape::new();
    let x = tape.scalar(0.5).named("x");
    let y = x.sigmoid();
    let before = tape.len();
    let dx = y.grad_graph().unwrap().wrt(x).named("dx");
    // The seed 1, then s(1-s) as rsub_scalar and mul, times the seed.
    let table = tape.table();
    let rows: Vec<&str> = table.lines().skip(1 + before).collect();
    assert_eq!(rows.len(), 4, "{table}");
    for (row, op) in rows.iter().zip(["constant", "rsub_scalar(1)", "mul", "mul"]) {
        assert!(row.contains(op), "{row} is not {op}:\n{table}");
    }
    assert!(table.lines().last().unwrap().contains("dx"));
    let (_, trace) = dx.backward_traced();
    assert!(trace.to_string().contains("rsub_scalar"), "{trace}");
}

#[test]
fn ops_without_a_differentiable_backward_say_so() {
    let tape = Tape::new();
    let x = tape.scalar(2.0);
    let y = x.apply(CubeRule, 0.0);
    assert_eq!(y.backward().wrt(x).item(), 12.0); // first order still works
    let err = y.grad_graph().unwrap_err().to_string();
    assert!(err.starts_with("op cube is not twice differentiable (node 1)"), "{err}");
    let err = hvp(|_, v| v[0].apply(CubeRule, 0.0), &[Tensor::scalar(1.0)], &[Tensor::scalar(1.0)]).unwrap_err();
    assert!(err.to_string().contains("cube"));
    // A direction of the wrong shape is an error naming the input.
    let err = hvp(|_, v| v[0].sum(), &[Tensor::ones(&[2])], &[Tensor::ones(&[3])]).unwrap_err();
    assert_eq!(err.to_string(), "input 0 has shape [2], but the direction given for it has shape [3]");
}

#[test]
fn detach_and_constants_get_no_second_derivative() {
    // f = x^2 * detach(x): df/dx = 2x detach(x) = 2x^2 at this point, d2f/dx2 = 2 detach(x).
    let tape = Tape::new();
    let x = tape.scalar(3.0);
    let dx = (x * x * x.detach()).grad_graph().unwrap().wrt(x);
    assert_eq!(dx.item(), 18.0);
    assert_eq!(dx.backward().wrt(x).item(), 6.0);
}
