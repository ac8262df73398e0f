//! The notes' chapter 4 program: fit sin(x) with a 1-3-1 network (sigmoid
//! hidden layer, linear output) by per-sample SGD, with the gradients from
//! the tape, from the notes' hand-written layers, or from plain loops
//! (`LoopsNet`, the benches' yardstick), alone or several side by side.
//!
//! Run with `cargo run --release --example sine` (see `--help`).

use clap::{Parser, ValueEnum};
use plotters::prelude::*;
use std::path::PathBuf;
use tapegrad::Tensor;
use tapegrad::notes::manual::ManualMlp;
use tapegrad::notes::sine::{self, Engine, Run, TapeSgd};

// The plain-loops engine is the benches' yardstick, not library code: one
// file shared with the benches and the tests.
#[path = "../benches/workloads/sine_loops.rs"]
mod sine_loops;
use sine_loops::LoopsNet;

/// An engine's name and its whole run: `sine::train` for that engine.
type Train = (&'static str, fn(usize, usize, f64, u64) -> Run);
const TAPE: Train = (TapeSgd::NAME, sine::train::<TapeSgd>);
const MANUAL: Train = (ManualMlp::NAME, sine::train::<ManualMlp>);
const LOOPS: Train = (LoopsNet::NAME, sine::train::<LoopsNet>);

#[derive(Parser)]
#[command(about = "Fit sin(x) with the notes' 1-3-1 sigmoid network, per-sample SGD")]
struct Args {
    /// Number of epochs (each visits the 63 samples in a fresh random order).
    #[arg(long, default_value_t = 3000)]
    epochs: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 3)]
    hidden: usize,
    /// Learning rate eta.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Seed of the initial weights and of the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Which engine computes the gradients: the tape, the notes' hand-written
    /// layers, plain loops; `both` trains the tape and the notes' layers from
    /// the same seed and compares their final weights, `all` adds the loops.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    engine: Which,
    /// Where to write the SVG plot.
    #[arg(long, default_value = "target/sine.svg")]
    plot: PathBuf,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Which {
    Tape,
    Manual,
    Loops,
    Both,
    All,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let engines: &[Train] = match args.engine {
        Which::Tape => &[TAPE],
        Which::Manual => &[MANUAL],
        Which::Loops => &[LOOPS],
        Which::Both => &[TAPE, MANUAL],
        Which::All => &[TAPE, MANUAL, LOOPS],
    };
    let mut runs = Vec::new();
    for &(engine, train) in engines {
        println!("== engine: {engine} ==");
        let run = train(args.hidden, args.epochs, args.lr, args.seed);
        for (i, e) in run.errors.iter().enumerate() {
            let epoch = i + 1;
            if epoch == 1 || epoch % 500 == 0 {
                println!("Epoch: {epoch}, Error: {e}");
            }
        }
        runs.push(run);
    }
    for ((other, _), run) in engines.iter().zip(&runs).skip(1) {
        println!(
            "largest difference between the final weights, {} vs {other}: {:.3e}",
            engines[0].0,
            runs[0].params.max_abs_diff(&run.params)
        );
    }
    let run = &runs[0];
    for (name, t) in run.params.iter() {
        println!("{name} = {t}");
    }
    plot(&args.plot, run)?;
    println!("wrote {}", args.plot.display());
    Ok(())
}

/// Left: the target sin(x) dashed, the network's predictions as points.
/// Right: the error of every epoch, on a log scale.
fn plot(path: &PathBuf, run: &Run) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let (xs, ts) = sine::data();
    // the trained weights, run forward by the hand-written layers (no tape needed)
    let ys = ManualMlp::from_params(&run.params).forward(&Tensor::from_vec(xs.clone(), &[xs.len(), 1]));

    let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);

    let mut fit = ChartBuilder::on(&left)
        .caption("sin(x): target (dashed) and predictions", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..6.4, -1.3..1.3)?;
    fit.configure_mesh().x_desc("x").draw()?;
    let target = xs.iter().zip(&ts).map(|(&x, &t)| (x, t));
    fit.draw_series(DashedLineSeries::new(target, 6, 4, BLUE.stroke_width(2)))?
        .label("target sin(x)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let preds = xs.iter().zip(ys.data()).map(|(&x, &y)| Circle::new((x, y), 3, RED.filled()));
    fit.draw_series(preds)?.label("prediction").legend(|(x, y)| Circle::new((x, y), 3, RED.filled()));
    fit.configure_series_labels().border_style(BLACK).background_style(WHITE).draw()?;

    let errors = &run.errors;
    let lo = errors.iter().cloned().fold(f64::INFINITY, f64::min).max(1e-12);
    let hi = errors.iter().cloned().fold(0.0, f64::max).max(lo * 10.0);
    let mut curve = ChartBuilder::on(&right)
        .caption("mean error per epoch", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..errors.len().max(2) as f64, (lo * 0.8..hi * 1.2).log_scale())?;
    curve.configure_mesh().x_desc("epoch").y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    curve.draw_series(LineSeries::new(errors.iter().enumerate().map(|(i, &e)| ((i + 1) as f64, e)), &BLACK))?;
    root.present()?;
    Ok(())
}
