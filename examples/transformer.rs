//! A small causal transformer (GPT-style) trained on the same text as
//! `char_rnn`: token + position embeddings, pre-norm blocks of multi-head
//! causal self-attention and an MLP, a final layer norm; AdamW with a
//! linear warm-up and gradient clipping; then a seeded sample.
//!
//! The model (`examples/transformer/model.rs`, shared with
//! `tests/transformer.rs`, which gradchecks it) uses only the crate's
//! layers and ops: `Embedding`, `Linear` (with and without a bias),
//! `LayerNorm`, `reshape permute transpose matmul masked_fill softmax gelu`.
//! Sampling runs the same forward under `nn::no_grad`.
//!
//! Run with `cargo run --release --example transformer` (see `--help`);
//! the same `--seed` gives bit-identical output.

use clap::Parser;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha12Rng;
use tapegrad::nn::{self, Params};

#[path = "common/args.rs"]
mod args;
#[path = "transformer/model.rs"]
#[allow(dead_code)] // `blocks()` is for the tests
mod model;
#[path = "char_rnn/text.rs"]
mod text;
use model::{Config, Training, Transformer};

#[derive(Parser)]
#[command(about = "Train a small causal transformer on char_rnn's text with AdamW, warm-up and clipping; then sample")]
struct Args {
    #[command(flatten)]
    run: args::TextRun,
    /// Width of the residual stream.
    #[arg(long, default_value_t = 32, value_parser = args::size, allow_hyphen_values = true)]
    d: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4, value_parser = args::size, allow_hyphen_values = true)]
    heads: usize,
    /// Transformer blocks.
    #[arg(long, default_value_t = 2, value_parser = args::size, allow_hyphen_values = true)]
    blocks: usize,
    /// AdamW's peak learning rate.
    #[arg(long, default_value_t = 0.01, value_parser = args::positive, allow_hyphen_values = true)]
    lr: f64,
    /// Steps of linear warm-up.
    #[arg(long, default_value_t = 50, allow_hyphen_values = true)]
    warmup: usize,
    /// Largest global norm of the gradients before a step.
    #[arg(long, default_value_t = 1.0, value_parser = args::positive, allow_hyphen_values = true)]
    clip: f64,
}

fn main() {
    args::exit_on_error(run(Args::parse()));
}

fn run(args: Args) -> Result<(), String> {
    if !args.d.is_multiple_of(args.heads) {
        return Err(format!("--d {} does not split into --heads {} heads of equal width", args.d, args.heads));
    }
    let mut rng = ChaCha12Rng::seed_from_u64(args.run.seed);
    let (vocab, ids) = text::encode(text::TEXT);
    text::check_window(args.run.seq_len, ids.len())?;
    let cfg =
        Config { vocab: vocab.len(), context: args.run.seq_len, d: args.d, heads: args.heads, blocks: args.blocks };
    let mut params = Params::new();
    let model = Transformer::new(cfg, &mut params, &mut rng);
    println!(
        "text: {} characters, vocabulary {}; transformer d {} heads {} blocks {}, {} parameters",
        ids.len(),
        cfg.vocab,
        cfg.d,
        cfg.heads,
        cfg.blocks,
        params.numel()
    );
    let training = Training {
        steps: args.run.steps,
        batch: args.run.batch,
        seq_len: args.run.seq_len,
        lr: args.lr,
        warmup: args.warmup,
        clip: args.clip,
        weight_decay: 0.01,
    };
    println!(
        "training: {} steps of {} windows x {} characters, AdamW lr {} (warm-up {} steps), clip {}",
        args.run.steps, args.run.batch, args.run.seq_len, args.lr, args.warmup, args.clip
    );
    println!("loss in nats per character (uniform guessing: ln {} = {:.3})", cfg.vocab, (cfg.vocab as f64).ln());

    let report_every = (args.run.steps / 10).max(1);
    let (mut sum, mut count, mut clipped) = (0.0, 0, 0);
    let (mut first, mut last) = (None, 0.0);
    model::train(&model, &mut params, &ids, training, &mut rng, |step, r| {
        sum += r.loss;
        count += 1;
        clipped += usize::from(r.grad_norm > args.clip);
        if step == 0 || (step + 1) % report_every == 0 {
            let mean = sum / count as f64; // the mean over the steps since the last report
            println!(
                "step {:>4}: loss {mean:.4}  lr {:.4}  gradient norm {:>6.3}, clipped in {clipped} of {count} steps",
                step + 1,
                r.lr,
                r.grad_norm
            );
            first.get_or_insert(mean);
            last = mean;
            (sum, count, clipped) = (0.0, 0, 0);
        }
    });
    let first = first.unwrap_or(f64::NAN);
    println!("loss fell {:.1}x, from {first:.4} to {last:.4}", first / last);

    // Sampling: the model reads the last `seq_len` characters and the
    // logits of its last position give the next one. The forward is the
    // training one, run under no_grad: nothing is kept for a backward.
    let id = |c: char| text::id(&vocab, c);
    let mut context: Vec<usize> = "the ".chars().map(id).collect();
    let mut out: String = context.iter().map(|&c| vocab[c]).collect();
    for _ in 0..args.run.sample_len {
        let window = &context[context.len().saturating_sub(args.run.seq_len)..];
        let probs = nn::no_grad(|tape| {
            let logits = model.logits(params.constants_on_tape(tape), window, 1, window.len());
            let last = logits.narrow(0, window.len() - 1, 1);
            (last / args.run.temperature).softmax(-1).value()
        });
        let c = WeightedIndex::new(probs.data())
            .map_err(|e| format!("the trained model gives no distribution to sample from ({e}): the run diverged"))?
            .sample(&mut rng);
        context.push(c);
        out.push(vocab[c]);
    }
    println!("sample (seed {}, temperature {}):\n{out}", args.run.seed, args.run.temperature);
    Ok(())
}
