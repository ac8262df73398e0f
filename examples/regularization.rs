//! Overfitting and its cure (the notes' chapter 3): a degree-9 polynomial
//! fitted to 10 noisy samples of sin(pi x). Without a penalty it threads
//! every training point and swings wildly between them; an L2 penalty on
//! the weights trades a little training error for a much smaller held-out
//! error. Prints a table over several lambdas, checks one of them against
//! gradient descent on the tape (`loss::mse_half + lambda/2 * loss::l2`),
//! and writes an SVG of the fitted curves.
//!
//! Run with `cargo run --release --example regularization [-- --out DIR]`.

use clap::Parser;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use std::f64::consts::PI;
use std::path::PathBuf;
use tapegrad::nn::Params;
use tapegrad::notes::linreg::ridge;
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{Tape, Tensor, loss};

const DEGREE: usize = 9;

#[path = "common/args.rs"]
mod args;

/// Polynomial regression with and without an L2 penalty.
#[derive(Parser)]
struct Args {
    /// Directory for the SVG.
    #[arg(long, default_value = "target/examples-out")]
    out: PathBuf,
    /// Seed of the samples and their noise.
    #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
    seed: u64,
}

/// Rows `[1, x, x^2, ..., x^9]`.
fn poly_features(xs: &[f64]) -> Tensor {
    let data = xs.iter().flat_map(|&x| (0..=DEGREE).map(move |k| x.powi(k as i32))).collect();
    Tensor::from_vec(data, &[xs.len(), DEGREE + 1])
}

fn predict(theta: &[f64], x: f64) -> f64 {
    theta.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

fn mse(theta: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter().zip(ys).map(|(&x, &y)| (predict(theta, x) - y).powi(2)).sum::<f64>() / xs.len() as f64
}

/// Noisy samples of sin(pi x) at `n` evenly spaced points of [-1, 1]
/// (even spacing keeps the unpenalised normal equation solvable: random
/// points that nearly coincide make X^T X numerically singular).
fn samples(n: usize, rng: &mut ChaCha12Rng) -> (Vec<f64>, Vec<f64>) {
    let xs: Vec<f64> = (0..n).map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64).collect();
    let noise = Tensor::randn(&[n], rng).scale(0.2);
    let ys = xs.iter().zip(noise.data()).map(|(&x, e)| (PI * x).sin() + e).collect();
    (xs, ys)
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha12Rng::seed_from_u64(args.seed);
    let (train_x, train_y) = samples(10, &mut rng);
    let (test_x, test_y) = samples(201, &mut rng);
    println!("degree-{DEGREE} polynomial (10 coefficients) on 10 noisy samples of sin(pi x); 201 held-out samples");
    println!("loss: sum((X theta - y)^2) / (2N) + lambda/2 * sum_(j>=1) theta_j^2 (bias not penalised)\n");

    let x = poly_features(&train_x);
    let y = Tensor::from_vec(train_y.clone(), &[10]);
    let lambdas = [0.0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];
    println!("{:>8} {:>12} {:>14} {:>14}", "lambda", "train MSE", "held-out MSE", "|theta|_max");
    let mut fits = Vec::new();
    for lambda in lambdas {
        match ridge(&x, &y, lambda) {
            Ok(theta) => {
                let (train, test) = (mse(&theta, &train_x, &train_y), mse(&theta, &test_x, &test_y));
                let biggest = theta.iter().fold(0.0f64, |m, t| m.max(t.abs()));
                println!("{lambda:>8.0e} {train:>12.2e} {test:>14.4} {biggest:>14.1}");
                fits.push((lambda, theta));
            }
            Err(e) => println!("{lambda:>8.0e}  {e}"),
        }
    }
    println!("(lambda = 0 interpolates the training points: train error ~0, held-out error large, huge");
    println!(" coefficients. A moderate lambda cures it; too large a lambda underfits.)\n");

    let lambda = 1e-2;
    let exact = ridge(&x, &y, lambda)?;
    let (by_tape, steps) = fit_on_tape(&x, &y, lambda);
    let gap = by_tape.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("lambda = {lambda}: Adam on the tape (mse_half + lambda/2 * l2, {steps} steps) vs the closed form:");
    println!(
        "  largest coefficient gap {gap:.2e}; held-out MSE {:.4} vs {:.4}",
        mse(&by_tape, &test_x, &test_y),
        mse(&exact, &test_x, &test_y)
    );

    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("regularization_fits.svg");
    plot(&path, &train_x, &train_y, &fits)?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// Minimises the same penalised loss with Adam, gradients from the tape:
/// the bias and the weights as named parameters, so only the weights are
/// penalised and one `opt.step` moves both.
fn fit_on_tape(x: &Tensor, y: &Tensor, lambda: f64) -> (Vec<f64>, usize) {
    let steps = 20_000;
    let n = x.shape()[0];
    let mut opt = Adam::new(AdamConfig { lr: 0.01, ..Default::default() }).expect("valid hyperparameters");
    let mut params = Params::new();
    params.insert("bias", Tensor::zeros(&[1, 1]));
    params.insert("weights", Tensor::zeros(&[DEGREE, 1]));
    // X without its ones column: the bias is its own parameter
    let powers = Tensor::from_vec(x.data().chunks(DEGREE + 1).flat_map(|r| r[1..].to_vec()).collect(), &[n, DEGREE]);
    let target = y.reshape(&[n, 1]);
    let mut tape = Tape::new();
    for _ in 0..steps {
        tape.clear();
        let vars = params.on_tape(&tape);
        let (bias, weights) = (vars.get(0), vars.get(1));
        let pred = tape.constant(&powers).matmul(weights) + bias;
        let l = loss::mse_half(pred, tape.constant(&target)) + 0.5 * lambda * loss::l2(&[weights]);
        let grads = l.backward();
        opt.step(&mut params, vars, &grads).expect("lengths match");
    }
    let theta = params.iter().flat_map(|(_, t)| t.data().to_vec()).collect();
    (theta, steps)
}

fn plot(path: &PathBuf, xs: &[f64], ys: &[f64], fits: &[(f64, Vec<f64>)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Degree-9 fits to 10 points: no penalty vs L2", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-1.0..1.0, -2.0..2.0)?;
    chart.configure_mesh().x_desc("x").y_desc("y").draw()?;
    let grid: Vec<f64> = (0..=400).map(|i| -1.0 + i as f64 / 200.0).collect();
    chart
        .draw_series(LineSeries::new(grid.iter().map(|&x| (x, (PI * x).sin())), BLACK.stroke_width(1)))?
        .label("sin(pi x)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    let colors = [RED, MAGENTA, BLUE, GREEN];
    let shown = fits.iter().filter(|(l, _)| [0.0, 1e-4, 1e-2, 1.0].contains(l));
    for ((lambda, theta), color) in shown.zip(colors) {
        let points = grid.iter().map(|&x| (x, predict(theta, x).clamp(-2.0, 2.0)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(if *lambda == 0.0 { "no penalty".to_string() } else { format!("lambda = {lambda:.0e}") })
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.draw_series(xs.iter().zip(ys).map(|(&x, &y)| Circle::new((x, y), 4, BLACK.filled())))?;
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw()?;
    root.present()?;
    Ok(())
}
