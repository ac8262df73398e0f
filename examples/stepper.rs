//! Step through backprop in the browser: writes one self-contained HTML
//! page that plays the forward pass and then the backward sweep over the
//! tape's graph, one node per step (arrow keys, a slider, play, and
//! `#step=12` in the URL to link a step).
//!
//! The default program is the notes' 1-3-1 sine network on one sample,
//! recorded exactly as the `trace` example records it (same `--x`, same
//! `--seed`, same weights), so the page and the trace tell the same numbers;
//! the notes' deltas (`delta_out`, `delta_hidden`, ...) are named on the
//! edges they flow along. `--program neuron` is micrograd's neuron,
//! `--program expr` a scalar expression, `--program unrolled` a tanh
//! recurrence unrolled 60 times (a tape of a few hundred nodes).
//!
//! Run with `cargo run --release --example stepper`, then open the path it prints.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use tapegrad::inspect::StepPage;
use tapegrad::notes::one_sample::{OneSample, Weights};
use tapegrad::{Tape, Tensor, Var};

#[path = "common/args.rs"]
mod args;

#[derive(Clone, Copy, ValueEnum)]
enum Program {
    /// The notes' 1-3-1 sine network on one sample (the `trace` example's tape).
    Sine,
    /// micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b).
    Neuron,
    /// A scalar expression: f = a b + sin(a) / b.
    Expr,
    /// h <- tanh(w h + u x_k + c), 60 times, then the squared error: about 400 nodes.
    Unrolled,
}

#[derive(Parser)]
#[command(about = "Write an HTML page that steps through the forward pass and the backward sweep of a tape")]
struct Args {
    /// Which tape to step through.
    #[arg(long, value_enum, default_value = "sine")]
    program: Program,
    /// The sine network's input sample; the target is sin(x) (as in `trace`).
    #[arg(long, default_value_t = 1.0, value_parser = args::finite, allow_hyphen_values = true)]
    x: f64,
    /// Seed of the sine network's standard-normal weights (as in `trace`).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    seed: u64,
    /// Draw the graph up to this many nodes (a longer tape is listed, one row per node).
    #[arg(long, default_value_t = 300, allow_hyphen_values = true)]
    max_drawn: usize,
    /// Where to write the page (default: target/graph/<program>_step.html).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), String> {
    let tape = Tape::new();
    let (name, (page, output)) = match args.program {
        Program::Sine => ("sine", sine(&tape, args.x, args.seed)),
        Program::Neuron => ("neuron", neuron(&tape)),
        Program::Expr => ("expr", expr(&tape)),
        Program::Unrolled => ("unrolled", unrolled(&tape)),
    };
    let page = page.max_drawn(args.max_drawn).render(output);
    let path = args.out.unwrap_or_else(|| PathBuf::from(format!("target/graph/{name}_step.html")));
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(&path, page).map_err(fail)?;
    println!("wrote {} ({} nodes on the tape)", path.display(), tape.len());
    println!("open it in a browser: step with the arrow keys, or add #step=N to the address");
    Ok(())
}

/// The notes' network on the sample `(x, sin x)`, its deltas named.
fn sine(tape: &Tape, x: f64, seed: u64) -> (StepPage, Var<'_>) {
    let t = Tensor::from_vec(vec![x.sin()], &[1, 1]);
    let x = Tensor::from_vec(vec![x], &[1, 1]);
    let net = OneSample::record(tape, &x, &t, &Weights::drawn(seed));
    let title = format!("The notes' 1-3-1 sine network at x = {}, seed {seed}: loss 0.5 (y - t)^2", x.item());
    let page = net.deltas().into_iter().fold(StepPage::new(title), |page, (what, from, to)| page.note(from, to, what));
    (page, net.loss)
}

/// micrograd's neuron, with micrograd's numbers and names.
fn neuron(tape: &Tape) -> (StepPage, Var<'_>) {
    let o = tapegrad::notes::neuron::Neuron::record(tape).o;
    (StepPage::new("micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b)"), o)
}

/// `f = a b + sin(a) / b` at a = 2, b = -3.
fn expr(tape: &Tape) -> (StepPage, Var<'_>) {
    let a = tape.scalar(2.0).named("a");
    let b = tape.scalar(-3.0).named("b");
    let f = ((a * b).named("ab") + (a.sin().named("sin a") / b).named("sin(a)/b")).named("f");
    (StepPage::new("f = a b + sin(a) / b at a = 2, b = -3"), f)
}

/// A scalar recurrence unrolled 60 steps: a tape of a few hundred nodes.
fn unrolled(tape: &Tape) -> (StepPage, Var<'_>) {
    let w = tape.scalar(0.9).named("w");
    let u = tape.scalar(0.5).named("u");
    let c = tape.scalar(-0.1).named("c");
    let mut h: Var<'_> = tape.scalar(0.0).named("h0");
    for k in 0..60 {
        let x = tape.constant(Tensor::scalar((0.3 * k as f64).sin())).named(&format!("x{k}"));
        h = (w * h + u * x + c).tanh().named(&format!("h{}", k + 1));
    }
    let loss = (h - 0.25).square().named("loss");
    (StepPage::new("h <- tanh(w h + u x_k + c), unrolled 60 times"), loss)
}
