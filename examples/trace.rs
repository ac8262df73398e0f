//! Watch the chain rule run: the notes' 1-3-1 sine network (sigmoid hidden
//! layer, identity output, loss 0.5 (y - t)^2) on one sample, backward
//! traced node by node, then the notes' hand-written `OutputLayer` and
//! `HiddenLayer` deltas computed with plain tensor math, side by side with
//! the numbers the tape sent. They are the same numbers: the tape computes
//! exactly the notes' delta.
//!
//! Run with `cargo run --example trace -- --x 1.0 --seed 0`.

use clap::Parser;
use rand::SeedableRng;
use tapegrad::notes::manual::{HiddenLayer, OutputLayer};
use tapegrad::{Tape, Tensor};

#[path = "common/args.rs"]
mod args;

#[derive(Parser)]
#[command(about = "Trace backward through the notes' 1-3-1 network and compare with the hand-written deltas")]
struct Args {
    /// The input sample; the target is sin(x).
    #[arg(long, default_value_t = 1.0, value_parser = args::finite, allow_hyphen_values = true)]
    x: f64,
    /// Seed of the standard-normal initial weights.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    seed: u64,
}

fn main() {
    let args = Args::parse();
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(args.seed);
    let x = Tensor::from_vec(vec![args.x], &[1, 1]);
    let t = Tensor::from_vec(vec![args.x.sin()], &[1, 1]);
    // HiddenLayer(1, 3) and OutputLayer(3, 1): weights and biases drawn from a standard normal.
    let w1 = Tensor::randn(&[1, 3], &mut rng);
    let b1 = Tensor::randn(&[3], &mut rng);
    let w2 = Tensor::randn(&[3, 1], &mut rng);
    let b2 = Tensor::randn(&[1], &mut rng);

    // The tape: the forward pass, recorded.
    let tape = Tape::new();
    let xv = tape.constant(&x).named("x");
    let tv = tape.constant(&t).named("t");
    let w1v = tape.var(&w1).named("hidden.w");
    let b1v = tape.var(&b1).named("hidden.b");
    let w2v = tape.var(&w2).named("output.w");
    let b2v = tape.var(&b2).named("output.b");
    let xw1 = xv.matmul(w1v);
    let u1 = (xw1 + b1v).named("hidden.u");
    let h = u1.sigmoid().named("hidden.y");
    let hw2 = h.matmul(w2v);
    let y = (hw2 + b2v).named("output.y");
    let diff = y - tv;
    let loss = (diff.square() * 0.5).sum().named("loss");
    let (_grads, trace) = loss.backward_traced();
    println!("The tape, after the forward pass:\n\n{tape}");
    println!("The backward sweep, from the loss back to the first node:\n\n{trace}");

    // The notes' hand-written layers (`notes::manual`, plain tensors, no tape).
    let mut hidden = HiddenLayer::from_weights(w1.clone(), b1.clone());
    let mut output = OutputLayer::from_weights(w2.clone(), b2.clone());
    let hand_y = output.forward(&hidden.forward(&x));
    let grad_h = output.backward(&t); // the output layer's grad_x = delta_out w2^T
    hidden.backward(&grad_h);
    // The two deltas are internal to the layers' backward; spelled out here.
    let delta_out = &hand_y - &t; // the gradient of 0.5 (y - t)^2
    let delta_hidden = grad_h.mul(&hidden.y.map(|s| (1.0 - s) * s));
    let (grad_w2, grad_b2) = (output.grad_w.clone(), output.grad_b.clone());
    let (grad_w1, grad_b1) = (hidden.grad_w.clone(), hidden.grad_b.clone());

    // Each delta of the notes is what one node of the tape sent to one input.
    let rows = [
        ("delta_out = y - t", delta_out, diff, y),
        ("grad_w2 = h^T delta_out", grad_w2, hw2, w2v),
        ("grad_b2 = sum_0 delta_out", grad_b2, y, b2v),
        ("grad_h = delta_out w2^T", grad_h, hw2, h),
        ("delta_hidden = grad_h h(1-h)", delta_hidden, h, u1),
        ("grad_w1 = x^T delta_hidden", grad_w1, xw1, w1v),
        ("grad_b1 = sum_0 delta_hidden", grad_b1, u1, b1v),
    ];
    println!("The notes' deltas by hand, next to what the tape sent:\n");
    for (what, hand, from, to) in rows {
        let sent = trace.sent(from, to).expect("the sweep visits every edge on a leaf's path");
        println!("{what}   (node {} {} sends to node {})", from.index(), from.op_name(), to.index());
        println!("  by hand:   {}", hand.to_string().replace('\n', ""));
        println!("  tape sent: {}", sent.to_string().replace('\n', ""));
        println!("  max |difference| = {:.1e}", hand.max_abs_diff(sent));
    }
}
