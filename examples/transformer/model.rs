//! The transformer example's model: a small decoder-only (GPT-style)
//! transformer over characters, written with the crate's layers and ops
//! only. Shared by the example and by `tests/transformer.rs` (which
//! gradchecks it and checks its attention against loops) through
//! `#[path]`, so the tests check the very code the example trains.
//!
//! For ids `[B, T]` (a batch of windows of characters):
//!
//! ```text
//! x = tok[ids] + pos[0..T]                  [B, T, d]  token + position embeddings
//! for each block (pre-norm, residual):
//!     x = x + attention(layer_norm_1(x))    causal multi-head self-attention
//!     x = x + mlp(layer_norm_2(x))          d -> 4d -> gelu -> d
//! logits = head(layer_norm_f(x))            [B, T, vocab]
//! ```
//!
//! Attention with `H` heads of width `dh = d / H`: `q k v = h W_q, h W_k,
//! h W_v`, each split into heads `[B*H, T, dh]`; `softmax(q k^T / sqrt(dh))`
//! with the future (column > row) filled with -inf first, so position `t`
//! attends only to positions `<= t`; times `v`, heads merged back to
//! `[B, T, d]`, then `W_o`.

use rand::Rng;
use tapegrad::nn::{Embedding, Init, LayerNorm, Linear, ParamVars, Params};
use tapegrad::{Tensor, Var, loss};

/// The model's sizes.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Distinct characters.
    pub vocab: usize,
    /// Longest window the position table covers.
    pub context: usize,
    /// Width of the residual stream.
    pub d: usize,
    /// Attention heads (`d` must be a multiple).
    pub heads: usize,
    /// Transformer blocks.
    pub blocks: usize,
}

/// One block's layers.
#[derive(Clone, Debug)]
pub struct Block {
    ln1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ln2: LayerNorm,
    up: Linear,
    down: Linear,
}

/// The layers (the numbers live in a `Params`, by name).
#[derive(Clone, Debug)]
pub struct Transformer {
    pub cfg: Config,
    tok: Embedding,
    pos: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Linear,
}

impl Transformer {
    /// Builds the layers into `params`, drawing their weights from `rng`.
    pub fn new(cfg: Config, params: &mut Params, rng: &mut impl Rng) -> Transformer {
        assert!(cfg.d.is_multiple_of(cfg.heads), "d = {} is not a multiple of {} heads", cfg.d, cfg.heads);
        let d = cfg.d;
        let emb = Init::Uniform(-0.1, 0.1);
        let tok = Embedding::new(params, "tok", cfg.vocab, d, emb, rng);
        let pos = Embedding::new(params, "pos", cfg.context, d, emb, rng);
        let w = Init::XavierUniform;
        let blocks = (0..cfg.blocks)
            .map(|i| {
                let name = |part: &str| format!("block{i}.{part}");
                Block {
                    ln1: LayerNorm::new(params, &name("ln1"), d),
                    q: Linear::without_bias(params, &name("q"), d, d, w, rng),
                    k: Linear::without_bias(params, &name("k"), d, d, w, rng),
                    v: Linear::without_bias(params, &name("v"), d, d, w, rng),
                    o: Linear::new(params, &name("o"), d, d, w, Init::Zeros, rng),
                    ln2: LayerNorm::new(params, &name("ln2"), d),
                    up: Linear::new(params, &name("up"), d, 4 * d, w, Init::Zeros, rng),
                    down: Linear::new(params, &name("down"), 4 * d, d, w, Init::Zeros, rng),
                }
            })
            .collect();
        let ln_f = LayerNorm::new(params, "ln_f", d);
        let head = Linear::new(params, "head", d, cfg.vocab, w, Init::Zeros, rng);
        Transformer { cfg, tok, pos, blocks, ln_f, head }
    }

    /// The logits of the next character at every position, `[B * T, vocab]`,
    /// for `ids` holding `b` windows of `t` characters, row-major.
    pub fn logits<'t>(&self, vars: ParamVars<'t>, ids: &[usize], b: usize, t: usize) -> Var<'t> {
        let d = self.cfg.d;
        let positions: Vec<usize> = (0..t).collect();
        // [B, T, d] + [T, d]: the position rows broadcast over the batch.
        let mut x = self.tok.forward(vars, ids).reshape(&[b, t, d]) + self.pos.forward(vars, &positions);
        for block in &self.blocks {
            x = x + self.attention(block, vars, block.ln1.forward(vars, x));
            let h = block.ln2.forward(vars, x);
            x = x + block.down.forward(vars, block.up.forward(vars, h).gelu());
        }
        self.head.forward(vars, self.ln_f.forward(vars, x)).reshape(&[b * t, self.cfg.vocab])
    }

    /// Causal multi-head self-attention of `h` `[B, T, d]` with `block`'s
    /// weights, `[B, T, d]`.
    pub fn attention<'t>(&self, block: &Block, vars: ParamVars<'t>, h: Var<'t>) -> Var<'t> {
        let (b, t, d) = (h.shape()[0], h.shape()[1], self.cfg.d);
        let (nh, dh) = (self.cfg.heads, self.cfg.d / self.cfg.heads);
        // [B, T, d] -> [B, T, H, dh] -> [B, H, T, dh] -> [B*H, T, dh]
        let split = |x: Var<'t>| x.reshape(&[b, t, nh, dh]).permute(&[0, 2, 1, 3]).reshape(&[b * nh, t, dh]);
        let (q, k, v) =
            (split(block.q.forward(vars, h)), split(block.k.forward(vars, h)), split(block.v.forward(vars, h)));
        let scores = q.matmul(k.transpose(-2, -1)) * (1.0 / (dh as f64).sqrt()); // [B*H, T, T]
        let weights = scores.masked_fill(&future(t), f64::NEG_INFINITY).softmax(-1);
        let merged = weights.matmul(v).reshape(&[b, nh, t, dh]).permute(&[0, 2, 1, 3]).reshape(&[b, t, d]);
        block.o.forward(vars, merged)
    }

    /// The mean cross-entropy of predicting `targets[i]` after `ids[..=i]`
    /// in each window, in nats per character.
    pub fn loss<'t>(&self, vars: ParamVars<'t>, ids: &[usize], targets: &[usize], b: usize, t: usize) -> Var<'t> {
        loss::cross_entropy(self.logits(vars, ids, b, t), targets)
    }

    /// The blocks (for the tests).
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
}

/// The causal mask `[T, T]`: 1 above the diagonal (the future a position
/// must not see), broadcast over the batch and heads by `masked_fill`.
pub fn future(t: usize) -> Tensor {
    let mut m = Tensor::zeros(&[t, t]);
    for r in 0..t {
        for c in r + 1..t {
            m.data_mut()[r * t + c] = 1.0;
        }
    }
    m
}

/// The training settings.
#[derive(Clone, Copy, Debug)]
pub struct Training {
    pub steps: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Characters per window.
    pub seq_len: usize,
    /// AdamW's peak learning rate.
    pub lr: f64,
    /// Steps of linear warm-up from 0 to `lr`.
    pub warmup: usize,
    /// Largest global gradient norm before a step.
    pub clip: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
}

/// What one training step reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    pub loss: f64,
    pub grad_norm: f64,
    pub lr: f64,
}

/// Trains `model` on `text` (character ids): each step draws `batch`
/// windows of `seq_len + 1` characters from `rng`, records the loss of
/// predicting each next character on one tape, sweeps backward, clips the
/// global norm, and lets AdamW step at the warmed-up rate. Calls `report`
/// after every step.
pub fn train(
    model: &Transformer,
    params: &mut Params,
    text: &[usize],
    cfg: Training,
    rng: &mut impl Rng,
    mut report: impl FnMut(usize, StepReport),
) {
    use tapegrad::Tape;
    use tapegrad::optim::clip::clip_grad_norm;
    use tapegrad::optim::schedule::{Constant, LinearWarmup, Schedule};
    use tapegrad::optim::{AdamW, AdamWConfig, Optimizer};

    let (b, t) = (cfg.batch, cfg.seq_len);
    assert!(text.len() > t, "a window of {t} and its targets do not fit a text of {}", text.len());
    let schedule = LinearWarmup { warmup_steps: cfg.warmup, start_factor: 0.0, then: Constant { lr: cfg.lr } };
    let mut opt = AdamW::new(AdamWConfig { lr: cfg.lr, weight_decay: cfg.weight_decay, ..Default::default() })
        .expect("valid AdamW settings");
    let mut tape = Tape::new();
    let (mut ids, mut targets) = (vec![0; b * t], vec![0; b * t]);
    for step in 0..cfg.steps {
        for w in 0..b {
            let start = rng.random_range(0..text.len() - t);
            ids[w * t..(w + 1) * t].copy_from_slice(&text[start..start + t]);
            targets[w * t..(w + 1) * t].copy_from_slice(&text[start + 1..start + t + 1]);
        }
        tape.clear();
        let vars = params.on_tape(&tape);
        let loss = model.loss(vars, &ids, &targets, b, t);
        let mut grads = vars.grads(params, &loss.backward());
        let grad_norm = clip_grad_norm(&mut grads, cfg.clip).expect("a valid bound");
        let lr = schedule.lr(step);
        opt.set_lr(lr);
        for (name, g) in &grads {
            let p = params.get_mut(name).expect("a gradient per parameter");
            opt.update(name, p.data_mut(), g.data()).expect("shapes kept");
        }
        report(step, StepReport { loss: loss.item(), grad_norm, lr });
    }
}
