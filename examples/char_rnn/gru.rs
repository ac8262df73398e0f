//! The char_rnn example's model: a GRU language model over characters,
//! written as plain functions of Vars. Shared by the example and by
//! `tests/char_rnn.rs` (which gradchecks it at a small size) through
//! `#[path]`, so the test checks the very code the example trains.
//!
//! One step of the cell (Cho et al. 2014, the form with the reset gate
//! applied to the state before its product), for a batch of rows:
//!
//! ```text
//! x   = embed[c]                              the character's embedding (a row lookup)
//! z   = sigmoid(x w_xz + h w_hz + b_z)        update gate: how much of h to keep
//! r   = sigmoid(x w_xr + h w_hr + b_r)        reset gate: how much of h the candidate sees
//! n   = tanh(x w_xh + (r * h) w_hh + b_h)     the candidate state
//! h'  = z * h + (1 - z) * n
//! y   = h' w_hy + b_y                         logits of the next character
//! ```

use rand::Rng;
use tapegrad::nn::{Init, ParamVars, Params};
use tapegrad::{Tape, Tensor, Var, loss};

/// The model's sizes.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Distinct characters (one-hot width and number of classes).
    pub vocab: usize,
    /// Width of a character's embedding.
    pub embed: usize,
    /// Width of the hidden state.
    pub hidden: usize,
}

/// The parameters, by name, in this order. Weights are Xavier-normal,
/// biases zero, except the update gate's bias (see below).
pub fn init(s: Sizes, rng: &mut impl Rng) -> Params {
    let (v, e, h) = (s.vocab, s.embed, s.hidden);
    let mut p = Params::new();
    let mut w = |p: &mut Params, name: &str, rows: usize, cols: usize| {
        p.insert(name, Init::XavierNormal.draw(&[rows, cols], rows, cols, rng));
    };
    w(&mut p, "embed", v, e);
    w(&mut p, "w_xz", e, h);
    w(&mut p, "w_hz", h, h);
    w(&mut p, "w_xr", e, h);
    w(&mut p, "w_hr", h, h);
    w(&mut p, "w_xh", e, h);
    w(&mut p, "w_hh", h, h);
    w(&mut p, "w_hy", h, v);
    // The biases after the weights, so the RNG draws do not depend on them.
    p.insert("b_z", Tensor::zeros(&[h]));
    p.insert("b_r", Tensor::zeros(&[h]));
    p.insert("b_h", Tensor::zeros(&[h]));
    p.insert("b_y", Tensor::zeros(&[v]));
    p
}

/// The parameters' Vars on one tape, by name.
#[derive(Clone, Copy)]
pub struct Gru<'t> {
    embed: Var<'t>,
    w_xz: Var<'t>,
    w_hz: Var<'t>,
    b_z: Var<'t>,
    w_xr: Var<'t>,
    w_hr: Var<'t>,
    b_r: Var<'t>,
    w_xh: Var<'t>,
    w_hh: Var<'t>,
    b_h: Var<'t>,
    w_hy: Var<'t>,
    b_y: Var<'t>,
}

impl<'t> Gru<'t> {
    /// Looks each parameter up by its name in `params`.
    pub fn new(params: &Params, vars: ParamVars<'t>) -> Gru<'t> {
        let v = |name| vars.by_name(params, name);
        Gru {
            embed: v("embed"),
            w_xz: v("w_xz"),
            w_hz: v("w_hz"),
            b_z: v("b_z"),
            w_xr: v("w_xr"),
            w_hr: v("w_hr"),
            b_r: v("b_r"),
            w_xh: v("w_xh"),
            w_hh: v("w_hh"),
            b_h: v("b_h"),
            w_hy: v("w_hy"),
            b_y: v("b_y"),
        }
    }

    /// The embeddings of a batch of characters, `[batch, embed]`: row `c`
    /// of `embed` for each character `c`, an embedding lookup. Its backward
    /// adds each row's gradient back into row `c` only (a character seen
    /// twice in the batch collects both). The same as a one-hot matrix
    /// `[batch, vocab]` times `embed`, without the multiplications by 0.
    pub fn embed(self, chars: &[usize]) -> Var<'t> {
        self.embed.index_select(0, chars)
    }

    /// One step of the cell: the next hidden state from the input `x`
    /// `[batch, embed]` and the state `h` `[batch, hidden]`.
    pub fn step(self, x: Var<'t>, h: Var<'t>) -> Var<'t> {
        let z = (x.matmul(self.w_xz) + h.matmul(self.w_hz) + self.b_z).sigmoid();
        let r = (x.matmul(self.w_xr) + h.matmul(self.w_hr) + self.b_r).sigmoid();
        let n = (x.matmul(self.w_xh) + (r * h).matmul(self.w_hh) + self.b_h).tanh();
        z * h + (1.0 - z) * n
    }

    /// The logits of the next character, `[batch, vocab]`.
    pub fn logits(self, h: Var<'t>) -> Var<'t> {
        h.matmul(self.w_hy) + self.b_y
    }

    /// The zero state for a batch.
    pub fn zero_state(self, batch: usize) -> Var<'t> {
        let hidden = self.w_hh.shape()[0];
        self.embed.tape().constant(Tensor::zeros(&[batch, hidden]))
    }

    /// The loss of the unrolled network on a batch of sequences: starting
    /// from `h`, step `t` reads characters `inputs[t]` (one per sequence)
    /// and is scored on predicting `targets[t]`; the loss is the sum over
    /// the steps of each step's cross-entropy (mean over the batch).
    ///
    /// This is where backpropagation through time comes from: the unrolled
    /// loop records every step's ops on one tape, with the *same* weight
    /// Vars used at every step and each step's state an input of the next.
    /// One backward sweep then walks the steps from the last to the first,
    /// carrying d(loss)/d(h_t) back through `step` into h_(t-1), and adds
    /// the contributions of all the steps into each weight's gradient (a
    /// Var used T times gets T contributions). Nothing about this is
    /// special-cased: it is the tape's ordinary accumulation.
    pub fn loss(self, h: Var<'t>, inputs: &[Vec<usize>], targets: &[Vec<usize>]) -> (Var<'t>, Var<'t>) {
        let mut h = h;
        let mut total: Option<Var<'t>> = None;
        for (x, y) in inputs.iter().zip(targets) {
            h = self.step(self.embed(x), h);
            let l = loss::cross_entropy(self.logits(h), y);
            total = Some(match total {
                None => l,
                Some(t) => t + l,
            });
        }
        (total.expect("at least one step"), h)
    }
}

/// Records the model's parameters on a fresh tape position and returns
/// their Vars by name (a shorthand for `Gru::new(params, params.on_tape(tape))`).
pub fn on_tape<'t>(params: &Params, tape: &'t Tape) -> Gru<'t> {
    Gru::new(params, params.on_tape(tape))
}
