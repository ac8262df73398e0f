//! The backward pass the tape derived for the notes' network, as code,
//! beside the one the notes wrote by hand.
//!
//! The notes' step (SEED.md chapter 4: a 1-3-1 sigmoid network, error
//! `0.5 (y - t)^2`) is recorded on a tape and compiled to Rust by
//! `tapegrad::emit` (the same text is checked in as
//! `src/notes/compiled/sine_step.rs`, which `--engine compiled` of the
//! `sine` example runs). Read the reverse sweep next to the hand-written
//! `backward` of `notes::manual`: `d_y` is the notes' `delta` of the output
//! layer (`y - t`: the chain rule through `0.5 r^2` multiplies by 0.5, 1,
//! `2 r`, 1), `d_hidden_z` the hidden layer's (`grad_y (1 - y) y`), and
//! `d_hidden_w`, `d_hidden_b` its `grad_w`, `grad_b`.
//!
//! ```text
//! cargo run --example emit            # the derived backward, then the notes'
//! cargo run --example emit -- --all   # the whole generated module
//! ```

use clap::Parser;
use tapegrad::notes::compiled::sine_step_module;

#[derive(Parser)]
#[command(
    about = "Print the backward pass the tape derived for the notes' 1-3-1 network, as Rust, beside the notes' hand-written one"
)]
struct Args {
    /// Print the whole generated module (helpers, value and gradient functions) instead.
    #[arg(long)]
    all: bool,
}

/// The hand-written layers, read from their source file.
const MANUAL: &str = include_str!("../src/notes/manual.rs");

fn main() {
    let args = Args::parse();
    let src = sine_step_module().expect("every op of the notes' network has an emit rule").to_source();
    if args.all {
        println!("{src}");
        return;
    }
    let grad = &src[src.find("pub fn sine_step_grad").expect("the gradient function")..];
    let sweep = &grad[grad.find("    // The reverse sweep").expect("the reverse sweep")..];
    println!("==== derived by the tape, compiled by tapegrad::emit (d_NAME = d error / d NAME) ====\n");
    println!("{}", sweep.trim_end());
    println!("\n==== written by hand in the notes (src/notes/manual.rs) ====\n");
    for (what, start) in
        [("output layer", "impl OutputLayer"), ("hidden layer", "impl HiddenLayer"), ("the network", "impl ManualMlp")]
    {
        println!("// {what}:");
        println!("{}", function(MANUAL, start, "    pub fn backward"));
    }
}

/// The text of the first fn starting with `head` after `start`, up to its
/// closing brace at the same indentation.
fn function<'a>(src: &'a str, start: &str, head: &str) -> &'a str {
    let from = src.find(start).expect("the impl") + src[src.find(start).unwrap()..].find(head).expect("the fn");
    let body = &src[from..];
    let end = body.find("\n    }\n").expect("the fn's closing brace") + "\n    }".len();
    &body[..end]
}
