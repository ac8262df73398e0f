//! The notes' chapter 1: linear regression by the normal equation and by
//! batch, mini-batch and stochastic gradient descent (tape gradients, MSE
//! with 1/(2N)), on a seeded synthetic data set. Prints the thetas side by
//! side and the loss per epoch, writes an SVG of the three loss curves, and
//! times the normal equation against gradient descent as features grow.
//!
//! Run with `cargo run --release --example normal_equation [-- --out DIR]`.

use clap::Parser;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use std::path::PathBuf;
use std::time::Instant;
use tapegrad::Tensor;
use tapegrad::data::Batching;
use tapegrad::notes::linreg::{GdFit, GdOptions, design_matrix, fit_gd, normal_equation};

#[path = "common/args.rs"]
mod args;

/// Normal equation vs gradient descent.
#[derive(Parser)]
struct Args {
    /// Directory for the SVG.
    #[arg(long, default_value = "target/examples-out")]
    out: PathBuf,
    /// Seed of the data and the shuffling.
    #[arg(long, default_value_t = 7, allow_hyphen_values = true)]
    seed: u64,
    /// Epochs of gradient descent.
    #[arg(long, default_value_t = 40, value_parser = args::at_least_one, allow_hyphen_values = true)]
    epochs: usize,
}

/// y = 4 + 3 x1 - 2 x2 + 0.5 x3 + noise(0.5), n samples of d features
/// (features past the third have weight 0.1).
fn synthetic(n: usize, d: usize, rng: &mut ChaCha12Rng) -> (Tensor, Tensor) {
    let x = design_matrix(&Tensor::randn(&[n, d], rng)).unwrap();
    let mut truth = vec![4.0, 3.0, -2.0, 0.5];
    truth.resize(d + 1, 0.1);
    let y = &x.matmul(&Tensor::from_vec(truth, &[d + 1, 1])) + &Tensor::randn(&[n, 1], rng).scale(0.5);
    (x, y)
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha12Rng::seed_from_u64(args.seed);
    let (x, y) = synthetic(200, 3, &mut rng);
    println!("200 samples, y = 4 + 3 x1 - 2 x2 + 0.5 x3 + noise(sd 0.5); design matrix 200 x 4 (ones first)\n");

    let exact = normal_equation(&x, &y)?;
    let flavours = [(Batching::Full, 0.3), (Batching::MiniBatch(16), 0.05), (Batching::Stochastic, 0.01)];
    let fits: Vec<(Batching, f64, GdFit)> = flavours
        .iter()
        .map(|&(batching, lr)| {
            let options = GdOptions { batching, lr, epochs: args.epochs, seed: args.seed };
            (batching, lr, fit_gd(&x, &y, &options).expect("shapes are right"))
        })
        .collect();

    println!("{:<24} {:>9} {:>9} {:>9} {:>9} {:>11}", "method", "theta0", "theta1", "theta2", "theta3", "final loss");
    let row = |name: &str, t: &[f64], l: f64| {
        println!("{name:<24} {:>9.5} {:>9.5} {:>9.5} {:>9.5} {l:>11.6}", t[0], t[1], t[2], t[3]);
    };
    let exact_loss = half_mse(&x, &y, &exact);
    row("normal equation", &exact, exact_loss);
    for (batching, lr, fit) in &fits {
        row(&format!("{} lr={lr}", batching.label()), &fit.theta, *fit.losses.last().unwrap());
    }

    println!("\nloss sum((X theta - y)^2) / (2N) after each epoch (0 = start):");
    println!("{:>6} {:>14} {:>16} {:>14}", "epoch", "batch", "mini-batch(16)", "stochastic");
    for epoch in [0, 1, 2, 5, 10, 20, args.epochs].into_iter().filter(|&e| e <= args.epochs) {
        println!(
            "{epoch:>6} {:>14.6} {:>16.6} {:>14.6}",
            fits[0].2.losses[epoch], fits[1].2.losses[epoch], fits[2].2.losses[epoch]
        );
    }
    println!("(batch GD falls smoothly; SGD gets close in one epoch, then jitters around the minimum)");

    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("normal_equation_losses.svg");
    plot_losses(&path, &fits, exact_loss)?;
    println!("\nwrote {}", path.display());

    timing_table(&mut rng)?;
    Ok(())
}

fn half_mse(x: &Tensor, y: &Tensor, theta: &[f64]) -> f64 {
    let r = &x.matmul(&Tensor::from_vec(theta.to_vec(), &[theta.len(), 1])) - y;
    r.data().iter().map(|v| v * v).sum::<f64>() / (2.0 * y.len() as f64)
}

fn plot_losses(
    path: &PathBuf,
    fits: &[(Batching, f64, GdFit)],
    minimum: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let epochs = fits[0].2.losses.len() - 1;
    // Plot the excess over the minimum, loss - min, on a log scale: near the
    // minimum that is where batch GD's smooth descent and SGD's jitter show.
    let excess = |l: f64| (l - minimum).max(1e-12);
    let top = fits.iter().map(|f| excess(f.2.losses[0])).fold(0.0, f64::max) * 2.0;
    let bottom = fits.iter().flat_map(|f| f.2.losses.iter().map(|&l| excess(l))).fold(top, f64::min) * 0.5;
    let mut chart = ChartBuilder::on(&root)
        .caption("Loss above the minimum per epoch: batch, mini-batch and stochastic GD", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0..epochs, (bottom..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss - minimum (log scale)")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()?;
    let colors = [BLUE, GREEN, RED];
    for ((batching, lr, fit), color) in fits.iter().zip(colors) {
        let points = fit.losses.iter().enumerate().map(|(e, &l)| (e, excess(l)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(format!("{} (lr {lr})", batching.label()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The notes warn that the normal equation grows expensive with the number
/// of features; measure it (solving by Cholesky: O(n d^2) for X^T X plus
/// O(d^3), against O(n d) per epoch of gradient descent).
fn timing_table(rng: &mut ChaCha12Rng) -> Result<(), Box<dyn std::error::Error>> {
    let n = 2000;
    let epochs = 20;
    println!("\ntiming, n = {n} samples (one run each, wall clock; batch GD = {epochs} epochs on the tape):");
    println!("{:>9} {:>18} {:>16} {:>8}", "features", "normal eq. (ms)", "batch GD (ms)", "NE/GD");
    for d in [10, 50, 100, 200, 400, 800] {
        let (x, y) = synthetic(n, d, rng);
        let start = Instant::now();
        let theta = normal_equation(&x, &y)?;
        let ne = start.elapsed().as_secs_f64() * 1e3;
        let start = Instant::now();
        let fit = fit_gd(&x, &y, &GdOptions { batching: Batching::Full, lr: 0.1, epochs, seed: 0 })?;
        let gd = start.elapsed().as_secs_f64() * 1e3;
        assert_eq!(theta.len(), fit.theta.len());
        println!("{d:>9} {ne:>18.2} {gd:>16.2} {:>8.2}", ne / gd);
    }
    println!("(the normal equation costs O(n d^2) for X^T X plus O(d^3) for the solve, an epoch of gradient");
    println!(" descent O(n d): the ratio NE/GD climbs with d, as the notes warn, though at these sizes the");
    println!(" Cholesky solve is still cheaper than 20 epochs of GD)");
    Ok(())
}
