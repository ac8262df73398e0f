//! A character-level recurrent network: a GRU reads a short text one
//! character at a time and learns to predict the next one, trained with
//! backpropagation through time (BPTT), Adam and gradient clipping; then it
//! writes a continuation of its own, sampled from its predictions.
//!
//! The model is a plain function of Vars with named `Params`
//! (`examples/char_rnn/gru.rs`, shared with `tests/char_rnn.rs`, which
//! gradchecks it). Each training step:
//!
//! 1. picks `--batch` windows of `--seq-len + 1` characters from the text
//!    (seeded), so row `b` of step `t` reads character `t` of window `b`
//!    and must predict character `t + 1`;
//! 2. unrolls the cell over the window on one tape, from a zero state,
//!    summing the steps' cross-entropies (BPTT: see `Gru::loss`);
//! 3. sweeps backward once, clips the gradients' global norm to `--clip`
//!    (recurrent nets' gradients can grow geometrically with the window:
//!    the same weights multiply the state at every step), and lets Adam
//!    step every parameter by name.
//!
//! Run with `cargo run --release --example char_rnn` (see `--help`); the
//! same `--seed` gives bit-identical output.

use clap::Parser;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use tapegrad::optim::clip::clip_grad_norm;
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{Tape, Tensor};

#[path = "common/args.rs"]
mod args;
#[path = "char_rnn/gru.rs"]
mod gru;
use gru::{Sizes, on_tape};
#[path = "char_rnn/text.rs"]
mod text;
use text::TEXT;

#[derive(Parser)]
#[command(about = "Train a character-level GRU on a short text with BPTT, Adam and gradient clipping; then sample")]
struct Args {
    #[command(flatten)]
    run: args::TextRun,
    /// Width of the hidden state.
    #[arg(long, default_value_t = 64, value_parser = args::size, allow_hyphen_values = true)]
    hidden: usize,
    /// Width of a character's embedding.
    #[arg(long, default_value_t = 16, value_parser = args::size, allow_hyphen_values = true)]
    embed: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01, value_parser = args::positive, allow_hyphen_values = true)]
    lr: f64,
    /// Largest global norm of the gradients before a step.
    #[arg(long, default_value_t = 5.0, value_parser = args::positive, allow_hyphen_values = true)]
    clip: f64,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha12Rng::seed_from_u64(args.run.seed);

    let (vocab, ids) = text::encode(TEXT);
    let id = |c: char| text::id(&vocab, c);
    let sizes = Sizes { vocab: vocab.len(), embed: args.embed, hidden: args.hidden };
    let (t_len, batch) = (args.run.seq_len, args.run.batch);
    text::check_window(t_len, ids.len())?;

    let mut params = gru::init(sizes, &mut rng);
    println!(
        "text: {} characters, vocabulary {}; GRU embed {} hidden {}, {} parameters",
        ids.len(),
        sizes.vocab,
        sizes.embed,
        sizes.hidden,
        params.numel()
    );
    println!(
        "training: {} steps of {batch} windows x {t_len} characters, Adam lr {}, clip {}",
        args.run.steps, args.lr, args.clip
    );
    println!("loss in nats per character (uniform guessing: ln {} = {:.3})", sizes.vocab, (sizes.vocab as f64).ln());

    let mut opt = Adam::new(AdamConfig { lr: args.lr, ..Default::default() })?;
    let mut tape = Tape::new();
    let report_every = (args.run.steps / 10).max(1);
    let (mut sum, mut count, mut clipped) = (0.0, 0, 0);
    let (mut first, mut last) = (None, 0.0);
    let mut inputs = vec![vec![0; batch]; t_len];
    let mut targets = vec![vec![0; batch]; t_len];
    for step in 0..args.run.steps {
        for b in 0..batch {
            let start = rng.random_range(0..ids.len() - t_len);
            for t in 0..t_len {
                inputs[t][b] = ids[start + t];
                targets[t][b] = ids[start + t + 1];
            }
        }
        tape.clear();
        let vars = params.on_tape(&tape);
        let model = gru::Gru::new(&params, vars);
        let (loss, _) = model.loss(model.zero_state(batch), &inputs, &targets);
        // One sweep from the last step's loss back to the first step's
        // embedding: the gradient of every weight summed over all steps.
        let mut grads = vars.grads(&params, &loss.backward());
        let norm = clip_grad_norm(&mut grads, args.clip)?;
        for (name, g) in &grads {
            let p = params.get_mut(name).expect("a gradient per parameter");
            opt.update(name, p.data_mut(), g.data()).expect("shapes kept");
        }
        sum += loss.item() / t_len as f64;
        count += 1;
        clipped += usize::from(norm > args.clip);
        if step == 0 || (step + 1) % report_every == 0 {
            let mean = sum / count as f64; // the mean over the steps since the last report
            println!(
                "step {:>4}: loss {mean:.4}  gradient norm {norm:>6.3}, clipped in {clipped} of {count} steps",
                step + 1
            );
            first.get_or_insert(mean);
            last = mean;
            (sum, count, clipped) = (0.0, 0, 0);
        }
    }
    let first = first.unwrap_or(f64::NAN);
    println!("loss fell {:.1}x, from {first:.4} to {last:.4}", first / last);

    // Sampling: feed a prompt through the cell to set its state, then
    // draw each next character from softmax(logits / temperature) and
    // feed it back in. Forward only, one character at a time.
    let prompt: Vec<usize> = "the ".chars().map(id).collect();
    let mut h = Tensor::zeros(&[1, sizes.hidden]);
    let mut out: String = prompt.iter().map(|&c| vocab[c]).collect();
    let mut c = prompt[0];
    for i in 1..prompt.len() + args.run.sample_len {
        tape.clear();
        let model = on_tape(&params, &tape);
        let state = model.step(model.embed(&[c]), tape.constant(&h));
        h = state.value();
        if i < prompt.len() {
            c = prompt[i]; // still reading the prompt
            continue;
        }
        let probs = (model.logits(state) / args.run.temperature).log_softmax().exp();
        // A diverged run (too large an --lr) gives NaN probabilities.
        let probs = WeightedIndex::new(probs.value().data()).map_err(|e| {
            format!("cannot sample: the trained network's probabilities are not usable ({e}); try a smaller --lr")
        })?;
        c = probs.sample(&mut rng);
        out.push(vocab[c]);
    }
    println!("sample (seed {}, temperature {}):\n{out}", args.run.seed, args.run.temperature);
    Ok(())
}
