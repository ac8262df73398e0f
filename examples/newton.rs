//! Beyond first order: Newton's method with the exact Hessian from the
//! tape, next to gradient descent and Adam, on Rosenbrock's function
//! `f(x, y) = (1 - x)^2 + 100 (y - x^2)^2` from the classic start
//! (-1.2, 1); then the first three derivatives of `sigmoid` by
//! differentiating the backward pass again and again.
//!
//! Run: `cargo run --release --example newton`

use tapegrad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use tapegrad::{Tape, Tensor, Var, func};

/// The loss every method reaches for: 1e-10.
const TARGET: f64 = 1e-10;

fn rosenbrock<'t>(x: Var<'t>, y: Var<'t>) -> Var<'t> {
    (1.0 - x).square() + 100.0 * (y - x.square()).square()
}

/// Solves the 2x2 system `h d = g` by elimination with partial pivoting:
/// Newton solves, it never inverts (the notes' rule, as for the normal
/// equation). `None` when the matrix is singular.
fn solve2(h: &[f64], g: [f64; 2]) -> Option<[f64; 2]> {
    let (mut a, mut b) = ([h[0], h[1], g[0]], [h[2], h[3], g[1]]);
    if a[0].abs() < b[0].abs() {
        std::mem::swap(&mut a, &mut b); // pivot: the larger first column entry
    }
    if a[0] == 0.0 {
        return None;
    }
    let m = b[0] / a[0];
    let (b1, b2) = (b[1] - m * a[1], b[2] - m * a[2]);
    if b1 == 0.0 {
        return None;
    }
    let d1 = b2 / b1;
    Some([(a[2] - a[1] * d1) / a[0], d1])
}

fn loss_and_grad(tape: &mut Tape, p: [f64; 2]) -> (f64, [f64; 2]) {
    tape.clear();
    let (x, y) = (tape.scalar(p[0]), tape.scalar(p[1]));
    let f = rosenbrock(x, y);
    let g = f.backward();
    (f.item(), [g.wrt(x).item(), g.wrt(y).item()])
}

/// Plain Newton: `x <- x - H^-1 g`, with `H` from `func::hessian`
/// (reverse over reverse on the tape). The Hessian can be indefinite far
/// from the minimum (where `1200 x^2 - 400 y + 2 < 0` or its determinant is
/// negative), and then the Newton step need not go downhill. Along this path
/// it never is (the example checks and says so); a damped or trust-region
/// step would be the remedy, not needed here.
fn newton() {
    println!("Newton (exact Hessian from the tape, 2x2 solve):");
    let mut p = [-1.2, 1.0];
    let mut tape = Tape::new();
    for k in 0..50 {
        let (loss, g) = loss_and_grad(&mut tape, p);
        println!("  step {k}: x = [{}, {}]  loss {loss:e}", p[0], p[1]);
        if loss < TARGET {
            println!("  Newton reaches loss < 1e-10 in {k} steps\n");
            return;
        }
        let inputs = [Tensor::scalar(p[0]), Tensor::scalar(p[1])];
        let h = func::hessian(|_, v| rosenbrock(v[0], v[1]), &inputs).expect("rosenbrock is twice differentiable");
        let h = h.data();
        if !(h[0] > 0.0 && h[0] * h[3] - h[1] * h[2] > 0.0) {
            println!("  (the Hessian is not positive definite here: the step may go uphill)");
        }
        let d = solve2(h, g).expect("a singular Hessian");
        p = [p[0] - d[0], p[1] - d[1]];
    }
    println!("  Newton did not reach 1e-10 in 50 steps\n");
}

/// Gradient descent or Adam, printing the first steps, every power of ten,
/// and the step that reaches the target (every step would be thousands of lines).
fn first_order(name: &str, opt: &mut dyn Optimizer, max_steps: usize) {
    println!("{name}:");
    let mut p = [-1.2, 1.0];
    let mut tape = Tape::new();
    for k in 0..=max_steps {
        let (loss, g) = loss_and_grad(&mut tape, p);
        let power_of_ten = k.to_string().trim_end_matches('0') == "1";
        if k < 3 || power_of_ten || loss < TARGET {
            println!("  step {k}: x = [{}, {}]  loss {loss:e}", p[0], p[1]);
        }
        if loss < TARGET {
            println!("  {name} reaches loss < 1e-10 in {k} steps\n");
            return;
        }
        opt.update("xy", &mut p, &g).expect("same length every step");
    }
    println!("  {name} does not reach 1e-10 in {max_steps} steps\n");
}

fn sigmoid_derivatives(x0: f64) {
    println!("Derivatives of sigmoid at x = {x0}, by differentiating the backward pass again:");
    let tape = Tape::new();
    let x = tape.scalar(x0);
    let s = 1.0 / (1.0 + (-x0).exp());
    let closed = [s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s), s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)];
    let words = ["s(1-s)", "s(1-s)(1-2s)", "s(1-s)(1-6s+6s^2)"];
    let mut d = x.sigmoid();
    for (k, (want, w)) in closed.iter().zip(words).enumerate() {
        d = d.grad_graph().expect("sigmoid is smooth").wrt(x);
        let got = d.item();
        let order = k + 1;
        println!(
            "  d{order}/dx{order}: tape {got:<22} closed form {w:<17} = {want:<22} difference {:e}",
            (got - want).abs()
        );
    }
    println!("  ({} nodes on the tape: the recorded backward passes are ordinary nodes)", tape.len());
}

#[path = "common/args.rs"]
mod args;

fn main() {
    args::no_options("Newton's method with the tape's Hessian against first-order optimizers; derivatives of sigmoid");
    newton();
    let mut gd = Sgd::new(SgdConfig { lr: 1e-3, ..SgdConfig::default() }).expect("valid");
    first_order("Gradient descent (lr 1e-3)", &mut gd, 200_000);
    let mut adam = Adam::new(AdamConfig { lr: 1e-2, ..AdamConfig::default() }).expect("valid");
    first_order("Adam (lr 1e-2)", &mut adam, 200_000);
    sigmoid_derivatives(0.7);
}
