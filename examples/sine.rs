//! The notes' chapter 4 program: fit sin(x) with a 1-3-1 network (sigmoid
//! hidden layer, linear output) by per-sample SGD, with the gradients from
//! the tape (recorded every step, or once and replayed), from the notes'
//! hand-written layers, or from plain loops
//! (`LoopsNet`, the benches' yardstick), alone or several side by side.
//!
//! The default seed is the first of 0..20 whose run fits well (the
//! `sine_seeds` example is the search): from seed 0 per-sample SGD settles
//! in a local minimum with a visibly wrong fit.
//!
//! `--save FILE` writes the final weights as safetensors, `--load FILE`
//! starts from weights saved so instead of the seeded ones.
//!
//! Run with `cargo run --release --example sine` (see `--help`).

use clap::{Parser, ValueEnum};
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tapegrad::Tensor;
use tapegrad::nn::Mlp;
use tapegrad::notes::compiled::{self, CompiledSgd};
use tapegrad::notes::manual::ManualMlp;
use tapegrad::notes::sine::{self, Engine, ReplaySgd, Run, TapeSgd};

// The plain-loops engine is the benches' yardstick, not library code: one
// file shared with the benches and the tests.
#[path = "common/args.rs"]
mod args;
#[path = "../benches/workloads/sine_loops.rs"]
mod sine_loops;
use sine_loops::LoopsNet;

/// An engine's name and its whole run: `sine::train` for that engine.
/// An engine by name, trained from given starting weights.
type Train = (&'static str, fn(Mlp, usize, f64, &mut ChaCha12Rng) -> Run);
const TAPE: Train = (TapeSgd::NAME, sine::train_from::<TapeSgd>);
const REPLAY: Train = (ReplaySgd::NAME, sine::train_from::<ReplaySgd>);
const MANUAL: Train = (ManualMlp::NAME, sine::train_from::<ManualMlp>);
const LOOPS: Train = (LoopsNet::NAME, sine::train_from::<LoopsNet>);
const COMPILED: Train = (CompiledSgd::NAME, sine::train_from::<CompiledSgd>);

/// Found by `cargo run --release --example sine_seeds`: the first seed
/// whose final error is below [`GOOD`].
const DEFAULT_SEED: u64 = 3;
/// Below this final mean error the fit is good to the eye.
const GOOD: f64 = 1e-3;

#[derive(Parser)]
#[command(about = "Fit sin(x) with the notes' 1-3-1 sigmoid network, per-sample SGD")]
struct Args {
    /// Number of epochs (each visits the 63 samples in a fresh random order).
    #[arg(long, default_value_t = 3000, value_parser = args::at_least_one, allow_hyphen_values = true)]
    epochs: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 3, value_parser = args::size, allow_hyphen_values = true)]
    hidden: usize,
    /// Learning rate eta.
    #[arg(long, default_value_t = 0.1, value_parser = args::positive, allow_hyphen_values = true)]
    lr: f64,
    /// Seed of the initial weights and of the shuffles (seed 0 finds a
    /// poor local minimum; see the `sine_seeds` example).
    #[arg(long, default_value_t = DEFAULT_SEED, allow_hyphen_values = true)]
    seed: u64,
    /// Start from the weights in this safetensors file (written by
    /// `--save`) instead of the seeded ones; the seed still orders the samples.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Write the final weights (of the first engine) to this safetensors file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Which engine computes the gradients: the tape, the tape recorded once
    /// and replayed for every sample (bit for bit the tape's numbers), the
    /// notes' hand-written layers, plain loops, the step compiled to Rust by
    /// `tapegrad::emit` (1-3-1 only; bit for bit the tape's); `both` trains the tape and the notes' layers from
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
    Replay,
    Manual,
    Loops,
    Compiled,
    Both,
    All,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let engines: &[Train] = match args.engine {
        Which::Tape => &[TAPE],
        Which::Replay => &[REPLAY],
        Which::Manual => &[MANUAL],
        Which::Loops => &[LOOPS],
        Which::Compiled => &[COMPILED],
        Which::Both => &[TAPE, MANUAL],
        Which::All => &[TAPE, MANUAL, LOOPS],
    };
    if args.engine == Which::Compiled && args.hidden != compiled::HIDDEN {
        return Err(format!(
            "--engine compiled: the step was compiled for {} hidden units, not {}",
            compiled::HIDDEN,
            args.hidden
        )
        .into());
    }
    // the seeded start, as `sine::train` draws it, or the loaded weights
    let mut rng = ChaCha12Rng::seed_from_u64(args.seed);
    let mut start = sine::network(args.hidden, &mut rng);
    if let Some(path) = &args.load {
        let loaded = start.params_mut().load_safetensors(path)?;
        println!("loaded the starting weights from {}", path.display());
        for note in &loaded.notes {
            println!("note: {note}");
        }
    }
    let mut runs = Vec::new();
    for &(engine, train) in engines {
        println!("== engine: {engine} ==");
        let run = train(start.clone(), args.epochs, args.lr, &mut rng.clone());
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
    let last = *run.errors.last().ok_or("--epochs must be at least 1")?;
    if !last.is_finite() {
        println!("verdict: the training diverged, final mean error {last}: try a smaller --lr");
    } else if last < GOOD {
        println!("verdict: fits sin(x) well, final mean error {last:.2e} (below {GOOD:e})");
    } else {
        println!(
            "verdict: poor fit, final mean error {last:.2e} (not below {GOOD:e}): too few epochs or a \
             local minimum; try more --epochs or another --seed (cargo run --release --example sine_seeds)"
        );
    }
    if let Some(path) = &args.save {
        let metadata = BTreeMap::from([
            ("model".to_string(), format!("sine 1-{}-1 sigmoid MLP", args.hidden)),
            ("epochs".to_string(), args.epochs.to_string()),
            ("lr".to_string(), args.lr.to_string()),
            ("seed".to_string(), args.seed.to_string()),
            ("final_error".to_string(), last.to_string()),
        ]);
        run.params.save_safetensors(path, &metadata)?;
        println!("wrote {}", path.display());
    }
    if plot(&args.plot, run)? {
        println!("wrote {}", args.plot.display());
    } else {
        println!("no plot written: the errors or predictions are not all finite (nothing to draw on a log axis)");
    }
    Ok(())
}

/// Left: the target sin(x) dashed, the network's predictions as points.
/// Right: the error of every epoch, on a log scale. Returns `false`, and
/// draws nothing, when a value or an axis bound is not finite (a diverged
/// run): plotters' log axis then lays out ticks without end.
fn plot(path: &PathBuf, run: &Run) -> Result<bool, Box<dyn std::error::Error>> {
    let (xs, ts) = sine::data();
    // the trained weights, run forward by the hand-written layers (no tape needed)
    let ys = ManualMlp::from_params(&run.params).forward(&Tensor::from_vec(xs.clone(), &[xs.len(), 1]));
    let errors = &run.errors;
    let lo = errors.iter().cloned().fold(f64::INFINITY, f64::min).max(1e-12);
    let hi = errors.iter().cloned().fold(0.0, f64::max).max(lo * 10.0);
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    if !(finite(errors) && finite(ys.data()) && (hi * 1.2).is_finite()) {
        return Ok(false);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }

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

    let mut curve = ChartBuilder::on(&right)
        .caption("mean error per epoch", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..errors.len().max(2) as f64, (lo * 0.8..hi * 1.2).log_scale())?;
    curve.configure_mesh().x_desc("epoch").y_label_formatter(&|v| format!("{v:.0e}")).draw()?;
    curve.draw_series(LineSeries::new(errors.iter().enumerate().map(|(i, &e)| ((i + 1) as f64, e)), &BLACK))?;
    root.present()?;
    Ok(true)
}
