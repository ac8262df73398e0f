//! The notes' chapter 2: gradient descent on f(x) = x0^2 + x1^2 from
//! (-3, 4) with numerical gradients (central differences, h = 1e-4), and
//! the same run with exact gradients from the tape.
//!
//! Run with `cargo run --release --example numerical_gd`.

use clap::Parser;
use tapegrad::check::numerical_gradient;
use tapegrad::notes::gd::{NOTES_H, gradient_descent, gradient_descent_tape};

#[path = "common/args.rs"]
mod args;

/// Gradient descent with numerical and with tape gradients.
#[derive(Parser)]
struct Args {
    /// Learning rate (the notes use 0.1).
    #[arg(long, default_value_t = 0.1, value_parser = args::positive, allow_hyphen_values = true)]
    lr: f64,
    /// Number of steps (the notes use 100).
    #[arg(long, default_value_t = 100, value_parser = args::at_least_one, allow_hyphen_values = true)]
    steps: usize,
}

fn f(x: &[f64]) -> f64 {
    x[0] * x[0] + x[1] * x[1]
}

fn main() {
    let args = Args::parse();
    let init = [-3.0, 4.0];
    println!("f(x) = x0^2 + x1^2 from {init:?}, lr = {}, {} steps", args.lr, args.steps);
    let g = numerical_gradient(f, &init, NOTES_H);
    println!("numerical gradient at the start (h = {NOTES_H:e}): [{:.6}, {:.6}]  (exact: [-6, 8])", g[0], g[1]);

    let numeric = gradient_descent(f, &init, args.lr, args.steps);
    let tape = gradient_descent_tape(|x| x.square().sum(), &init, args.lr, args.steps);
    let factor = (1.0 - 2.0 * args.lr).powi(args.steps as i32);
    let closed = [init[0] * factor, init[1] * factor];
    println!("numerical gradients: [{:.8e}, {:.8e}]", numeric[0], numeric[1]);
    println!("tape gradients:      [{:.8e}, {:.8e}]", tape[0], tape[1]);
    println!("closed form x0 (1 - 2 lr)^k: [{:.8e}, {:.8e}]", closed[0], closed[1]);
    println!("the notes print:     [-6.11110793e-10, 8.14814391e-10]");
    let gap = (numeric[0] - tape[0]).abs().max((numeric[1] - tape[1]).abs());
    println!("largest gap numerical vs tape: {gap:.2e} (central differences of x^2 are exact up to rounding)");
}
