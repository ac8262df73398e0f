//! micrograd's demo, reproduced: a 2-16-16-1 ReLU network separates two
//! interleaved half-moons with the SVM max-margin loss.
//!
//! Written twice on the same tape engine:
//! - scalar level: every weight is its own `tape.scalar`, every neuron a
//!   sum of products, exactly as micrograd builds it;
//! - tensor level: the same network as an `Mlp`, one matmul per layer.
//!
//! Both start from the same weights and must reach the same loss to
//! rounding. Run with `cargo run --release --example moons`.

use clap::Parser;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use std::path::PathBuf;
use tapegrad::Tensor;
use tapegrad::nn::Mlp;
use tapegrad::notes::moons::{learning_rate, make_moons, network, scalar_step, tensor_step};

#[path = "common/args.rs"]
mod args;

#[derive(Parser)]
#[command(about = "micrograd's two-moons demo: scalar-level and tensor-level, same loss")]
struct Args {
    /// Seed of the data and of the initial weights.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    seed: u64,
    /// Optimisation steps (full batch).
    #[arg(long, default_value_t = 100, value_parser = args::at_least_one, allow_hyphen_values = true)]
    steps: usize,
    /// Where to write the decision-boundary SVG.
    #[arg(long, default_value = "target/moons.svg")]
    plot: PathBuf,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha12Rng::seed_from_u64(args.seed);
    let (x, y) = make_moons(100, 0.1, &mut rng);
    // micrograd: Neuron weights uniform(-1, 1), biases 0; ReLU hidden, linear output
    let mut mlp = network(&mut rng);
    let mut scalar_params = mlp.params().clone();
    println!("two moons: {} points, noise 0.1; MLP 2-16-16-1 with {} parameters", y.len(), mlp.params().numel());
    println!("{:>4}  {:>14}  {:>14}  {:>9}  {:>8}", "step", "loss (scalar)", "loss (tensor)", "|diff|", "accuracy");
    let mut largest = 0.0f64;
    let mut accuracy = 0.0;
    for k in 0..args.steps {
        let lr = learning_rate(k);
        let (loss_s, acc_s) = scalar_step(&mut scalar_params, &x, &y, lr);
        let (loss_t, acc_t) = tensor_step(&mut mlp, &x, &y, lr);
        assert_eq!(acc_s, acc_t, "step {k}: the two levels classify differently");
        largest = largest.max((loss_s - loss_t).abs());
        accuracy = acc_t;
        if k % 10 == 0 || k + 1 == args.steps {
            println!(
                "{k:>4}  {loss_s:>14.10}  {loss_t:>14.10}  {:>9.2e}  {:>7.1}%",
                (loss_s - loss_t).abs(),
                100.0 * acc_t
            );
        }
    }
    println!("largest loss difference, scalar vs tensor level, over all steps: {largest:.2e}");
    println!("largest weight difference at the end: {:.2e}", scalar_params.max_abs_diff(mlp.params()));
    println!("final training accuracy: {:.1}% (micrograd's demo reaches 100%)", 100.0 * accuracy);
    plot(&args.plot, &mlp, &x, &y)?;
    println!("wrote {}", args.plot.display());
    Ok(())
}

/// The decision boundary: the sign of the score on a grid, and the data.
fn plot(path: &PathBuf, mlp: &Mlp, x: &[[f64; 2]], y: &[f64]) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let (x0, x1, y0, y1, n) = (-2.0, 3.0, -1.5, 2.0, 60);
    let cell = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
    let grid: Vec<f64> = (0..n * n)
        .flat_map(|k| [x0 + (k % n) as f64 * cell.0 + cell.0 / 2.0, y0 + (k / n) as f64 * cell.1 + cell.1 / 2.0])
        .collect();
    let scores = mlp.predict(&Tensor::from_vec(grid.clone(), &[n * n, 2]));

    let root = SVGBackend::new(path, (600, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("two moons: decision boundary after training", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart.configure_mesh().draw()?;
    let red = RGBColor(255, 205, 205);
    let blue = RGBColor(205, 215, 255);
    chart.draw_series(grid.chunks(2).zip(scores.data()).map(|(c, &s)| {
        let corner = (c[0] - cell.0 / 2.0, c[1] - cell.1 / 2.0);
        Rectangle::new([corner, (corner.0 + cell.0, corner.1 + cell.1)], if s > 0.0 { blue } else { red }.filled())
    }))?;
    chart.draw_series(
        x.iter().zip(y).map(|(p, &l)| Circle::new((p[0], p[1]), 4, if l > 0.0 { BLUE } else { RED }.filled())),
    )?;
    root.present()?;
    Ok(())
}
