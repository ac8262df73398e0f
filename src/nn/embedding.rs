//! `Embedding`: a table of one learnable row per token (PyTorch's
//! `nn.Embedding(vocab, dim)`), looked up with `index_select`.

use super::{Init, ParamVars, Params};
use crate::tape::Var;
use rand::Rng;

/// A `[vocab, dim]` table stored as `"{name}.w"`; `forward` picks row `id`
/// for each id. The backward adds each picked row's gradient back into
/// its row only, so a token seen twice collects both (the `index_select`
/// adjoint), with no one-hot matrix multiplied.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::{Tape, nn::{Embedding, Init, Params}};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// let mut params = Params::new();
/// let emb = Embedding::new(&mut params, "tok", 10, 4, Init::StandardNormal, &mut rng);
/// let tape = Tape::new();
/// let vars = params.on_tape(&tape);
/// let x = emb.forward(vars, &[3, 1, 3]);
/// assert_eq!(x.shape().as_slice(), &[3, 4]);
/// let g = x.sum().backward().wrt(vars.get(0));
/// assert_eq!(g.get(&[3, 0]), 2.0); // token 3 was read twice
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// Position of the table in the params.
    table: usize,
    vocab: usize,
    dim: usize,
}

impl Embedding {
    /// Draws the `[vocab, dim]` table from `init` (PyTorch's default is
    /// [`Init::StandardNormal`]) and adds it to `params` as `"{name}.w"`.
    ///
    /// # Panics
    /// If `vocab` or `dim` is zero.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Embedding, Init, Params};
    /// let mut p = Params::new();
    /// Embedding::new(&mut p, "pos", 16, 8, Init::StandardNormal, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(p["pos.w"].shape(), &[16, 8]);
    /// ```
    pub fn new(params: &mut Params, name: &str, vocab: usize, dim: usize, init: Init, rng: &mut impl Rng) -> Embedding {
        assert!(vocab > 0 && dim > 0, "Embedding {name:?}: sizes must be positive, got {vocab} x {dim}");
        let table = params.insert(format!("{name}.w"), init.draw(&[vocab, dim], vocab, dim, rng));
        Embedding { table, vocab, dim }
    }

    /// The rows of `ids`, `[ids.len(), dim]` (reshape for a batch of
    /// sequences: `.reshape(&[b, t, dim])`).
    ///
    /// # Panics
    /// If an id is not below `vocab` (the message names `index_select`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, nn::{Embedding, Init, Params}};
    /// let mut p = Params::new();
    /// let e = Embedding::new(&mut p, "e", 3, 2, Init::Zeros, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let tape = Tape::new();
    /// assert_eq!(e.forward(p.on_tape(&tape), &[0, 2]).shape().as_slice(), &[2, 2]);
    /// ```
    pub fn forward<'t>(&self, vars: ParamVars<'t>, ids: &[usize]) -> Var<'t> {
        vars.get(self.table).index_select(0, ids)
    }

    /// `(vocab, dim)`: the table's shape.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Embedding, Init, Params};
    /// let e = Embedding::new(&mut Params::new(), "e", 5, 2, Init::Zeros, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(e.size(), (5, 2));
    /// ```
    pub fn size(&self) -> (usize, usize) {
        (self.vocab, self.dim)
    }
}
