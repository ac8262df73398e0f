//! Draws two computation graphs in the style of micrograd's `draw_dot`:
//! micrograd's neuron (`o = tanh(x1 w1 + x2 w2 + b)`) and the loss of the
//! notes' sine network (1 input, 3 sigmoid hidden units, 1 linear output,
//! one sample). Prints each tape as a table and writes each graph twice:
//! as an SVG picture drawn by tapegrad itself (no Graphviz needed) and as
//! Graphviz DOT.
//!
//! Run with `cargo run --example graph -- --out target/graph`.

use clap::Parser;
use std::path::{Path, PathBuf};
use tapegrad::notes::one_sample::{OneSample, Weights};
use tapegrad::{Gradients, Tape, Tensor};

#[path = "common/args.rs"]
mod args;

#[derive(Parser)]
#[command(about = "Draw the graphs of a neuron and of the sine network's loss as SVG and DOT")]
struct Args {
    /// Directory for the .dot and .svg files.
    #[arg(long, default_value = "target/graph")]
    out: PathBuf,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;

    // micrograd's neuron, with the same numbers and labels.
    let tape = Tape::new();
    let o = tapegrad::notes::neuron::Neuron::record(&tape).o;
    let grads = o.backward();
    println!("micrograd's neuron, o = tanh(x1 w1 + x2 w2 + b), after o.backward():\n");
    print!("{}", grads.table());
    write_graph(&args.out, "neuron", &grads)?;

    // The notes' sine network on one sample (x = 1, t = sin 1), loss 0.5 (y - t)^2.
    // The same network, weights and sample as `stepper` and `trace`.
    let tape = Tape::new();
    let (x, t) = (Tensor::from_vec(vec![1.0], &[1, 1]), Tensor::from_vec(vec![1f64.sin()], &[1, 1]));
    let loss = OneSample::record(&tape, &x, &t, &Weights::drawn(0)).loss;
    let grads = loss.backward();
    println!("\nthe sine network's loss on one sample, after loss.backward():\n");
    print!("{}", grads.table());
    write_graph(&args.out, "sine_loss", &grads)
}

/// Writes `name.svg` (drawn by tapegrad) and `name.dot` (for Graphviz).
fn write_graph(dir: &Path, name: &str, grads: &Gradients<'_>) -> Result<(), String> {
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, grads.to_svg()).map_err(|e| format!("{}: {e}", svg_path.display()))?;
    let dot_path = dir.join(format!("{name}.dot"));
    std::fs::write(&dot_path, grads.to_dot()).map_err(|e| format!("{}: {e}", dot_path.display()))?;
    println!("\nwrote {} and {}", svg_path.display(), dot_path.display());
    Ok(())
}
