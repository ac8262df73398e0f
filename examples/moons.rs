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
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use std::path::PathBuf;
use tapegrad::nn::{Activation, Init, Mlp, MlpSpec, Params};
use tapegrad::{Tape, Tensor, Var, loss};

#[derive(Parser)]
#[command(about = "micrograd's two-moons demo: scalar-level and tensor-level, same loss")]
struct Args {
    /// Seed of the data and of the initial weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Optimisation steps (full batch).
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Where to write the decision-boundary SVG.
    #[arg(long, default_value = "target/moons.svg")]
    plot: PathBuf,
}

/// micrograd's L2 coefficient.
const ALPHA: f64 = 1e-4;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let (x, y) = make_moons(100, 0.1, &mut rng);
    // micrograd: Neuron weights uniform(-1, 1), biases 0; ReLU hidden, linear output
    let mut mlp = MlpSpec::new(&[2, 16, 16, 1])
        .hidden(Activation::Relu)
        .weights(Init::Uniform(-1.0, 1.0))
        .biases(Init::Zeros)
        .build(&mut rng);
    let mut scalar_params = mlp.params().clone();
    println!("two moons: {} points, noise 0.1; MLP 2-16-16-1 with {} parameters", y.len(), mlp.params().numel());
    println!("{:>4}  {:>14}  {:>14}  {:>9}  {:>8}", "step", "loss (scalar)", "loss (tensor)", "|diff|", "accuracy");
    let mut largest = 0.0f64;
    let mut accuracy = 0.0;
    for k in 0..args.steps {
        let lr = 1.0 - 0.9 * k as f64 / 100.0;
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

/// sklearn's `make_moons`: an upper half circle and a lower half circle
/// shifted by (1, -0.5), n/2 points each, shuffled, plus Gaussian noise.
/// Labels are micrograd's: -1 for the first moon, +1 for the second.
fn make_moons(n: usize, noise: f64, rng: &mut StdRng) -> (Vec<[f64; 2]>, Vec<f64>) {
    let n_out = n / 2;
    let n_in = n - n_out;
    let angle = |i: usize, m: usize| std::f64::consts::PI * i as f64 / (m.max(2) - 1) as f64; // linspace(0, pi, m)
    let outer = (0..n_out).map(|i| ([angle(i, n_out).cos(), angle(i, n_out).sin()], -1.0));
    let inner = (0..n_in).map(|i| ([1.0 - angle(i, n_in).cos(), 1.0 - angle(i, n_in).sin() - 0.5], 1.0));
    let mut points: Vec<([f64; 2], f64)> = outer.chain(inner).collect();
    points.shuffle(rng);
    let gauss = Normal::new(0.0, noise).expect("noise must be finite and non-negative");
    let x = points.iter().map(|(p, _)| [p[0] + gauss.sample(rng), p[1] + gauss.sample(rng)]).collect();
    (x, points.iter().map(|(_, l)| *l).collect())
}

/// micrograd's loss: `mean(relu(1 - y * score)) + ALPHA * sum(p^2)`.
fn svm_loss<'t>(scores: &[Var<'t>], y: &[f64], params: impl Iterator<Item = Var<'t>>) -> Var<'t> {
    let hinge = scores.iter().zip(y).map(|(&s, &yi)| (1.0 - yi * s).relu()).reduce(|a, b| a + b).unwrap();
    let reg = params.map(|p| p * p).reduce(|a, b| a + b).unwrap();
    hinge * (1.0 / y.len() as f64) + ALPHA * reg
}

fn accuracy(scores: impl Iterator<Item = f64>, y: &[f64]) -> f64 {
    scores.zip(y).filter(|(s, yi)| (*s > 0.0) == (**yi > 0.0)).count() as f64 / y.len() as f64
}

/// One step at the scalar level: every weight a `tape.scalar`, every
/// neuron `b + sum_i w_i x_i` built one multiply and one add at a time.
fn scalar_step(params: &mut Params, x: &[[f64; 2]], y: &[f64], lr: f64) -> (f64, f64) {
    let tape = Tape::new();
    // Scalars of W (n_in x n_out, row-major: w[i][j] at i * n_out + j) and b.
    let weights: Vec<Vec<Var>> =
        params.iter().map(|(_, t)| t.data().iter().map(|&v| tape.scalar(v)).collect()).collect();
    let layers: Vec<(&[Var], &[Var])> = weights.chunks(2).map(|wb| (&wb[0][..], &wb[1][..])).collect();
    let scores: Vec<Var> = x
        .iter()
        .map(|p| {
            let mut h: Vec<Var> = p.iter().map(|&v| tape.constant(Tensor::scalar(v))).collect();
            for (k, &(w, b)) in layers.iter().enumerate() {
                let n_out = b.len();
                h = (0..n_out)
                    .map(|j| {
                        let act = h.iter().enumerate().fold(b[j], |acc, (i, &xi)| acc + w[i * n_out + j] * xi);
                        if k + 1 < layers.len() { act.relu() } else { act }
                    })
                    .collect();
            }
            h[0]
        })
        .collect();
    let total = svm_loss(&scores, y, weights.iter().flatten().copied());
    let grads = total.backward();
    for ((_, t), vars) in params.iter_mut().zip(&weights) {
        for (p, &v) in t.data_mut().iter_mut().zip(vars) {
            *p -= lr * grads.with_grad(v, |g| g.map_or(0.0, |g| g[0]));
        }
    }
    (total.item(), accuracy(scores.iter().map(|s| s.item()), y))
}

/// The same step at the tensor level: one `Mlp`, one matmul per layer.
fn tensor_step(mlp: &mut Mlp, x: &[[f64; 2]], y: &[f64], lr: f64) -> (f64, f64) {
    let tape = Tape::new();
    let vars = mlp.params().on_tape(&tape);
    let xs = tape.constant_from_slice(x.as_flattened(), &[x.len(), 2]);
    let ys = tape.constant_from_slice(y, &[y.len(), 1]);
    let scores = mlp.forward(vars, xs);
    let params: Vec<Var> = vars.iter().collect();
    let total = loss::hinge(scores, ys) + ALPHA * loss::l2(&params);
    let grads = total.backward();
    mlp.params_mut().sgd_step(vars, &grads, lr);
    let acc = scores.with_value(|s| accuracy(s.iter().copied(), y));
    (total.item(), acc)
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
