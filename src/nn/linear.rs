//! `Linear`: the fully connected layer `x W + b` (or `x W`, without a bias).

use super::{Init, ParamVars, Params};
use crate::tape::Var;
use crate::tensor::Tensor;
use rand::Rng;

/// A fully connected layer, `y = x W + b`, with `W` stored `n_in x n_out`
/// as in the notes (a batch is rows times features) and `b` of length
/// `n_out`, broadcast over the batch.
///
/// The layer holds no numbers: its `W` and `b` live in a [`Params`] under
/// `"{name}.w"` and `"{name}.b"`; the layer remembers where.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::{Tape, Tensor, nn::{Init, Linear, Params}};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// let mut params = Params::new();
/// let layer = Linear::new(&mut params, "fc", 3, 2, Init::XavierUniform, Init::Zeros, &mut rng);
/// assert_eq!(params["fc.w"].shape(), &[3, 2]);
/// let tape = Tape::new();
/// let vars = params.on_tape(&tape);
/// let x = tape.constant(Tensor::ones(&[4, 3]));    // a batch of 4
/// assert_eq!(layer.forward(vars, x).shape().as_slice(), &[4, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    name: String,
    n_in: usize,
    n_out: usize,
    /// Position of `W` in the params (and of its Var in a `ParamVars`).
    w: usize,
    /// Position of `b`, if the layer has one.
    b: Option<usize>,
}

impl Linear {
    /// Draws `W` (`n_in x n_out`) then `b` (`n_out`) from `rng` and adds
    /// them to `params` as `"{name}.w"` and `"{name}.b"`.
    ///
    /// # Panics
    /// If `n_in` or `n_out` is zero.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Init, Linear, Params};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut params = Params::new();
    /// Linear::new(&mut params, "out", 3, 1, Init::StandardNormal, Init::Zeros, &mut rng);
    /// assert_eq!(params.names().collect::<Vec<_>>(), ["out.w", "out.b"]);
    /// ```
    pub fn new(
        params: &mut Params,
        name: &str,
        n_in: usize,
        n_out: usize,
        weights: Init,
        biases: Init,
        rng: &mut impl Rng,
    ) -> Linear {
        // W first, then b: the draws' order is the seeds' contract.
        let mut layer = Linear::without_bias(params, name, n_in, n_out, weights, rng);
        layer.b = Some(params.insert(format!("{name}.b"), biases.draw(&[n_out], n_in, n_out, rng)));
        layer
    }

    /// A layer with no bias, `y = x W` (PyTorch's `Linear(n_in, n_out,
    /// bias=False)`): draws `W` and adds it to `params` as `"{name}.w"`
    /// only. The usual choice before a normalisation, whose shift makes a
    /// bias redundant, and for attention's projections.
    ///
    /// # Panics
    /// If `n_in` or `n_out` is zero.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, Tensor, nn::{Init, Linear, Params}};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut params = Params::new();
    /// let q = Linear::without_bias(&mut params, "q", 4, 4, Init::XavierUniform, &mut rng);
    /// assert_eq!(params.names().collect::<Vec<_>>(), ["q.w"]);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::zeros(&[2, 3, 4])); // a batch of sequences
    /// assert_eq!(q.forward(params.on_tape(&tape), x).shape().as_slice(), &[2, 3, 4]);
    /// ```
    pub fn without_bias(
        params: &mut Params,
        name: &str,
        n_in: usize,
        n_out: usize,
        weights: Init,
        rng: &mut impl Rng,
    ) -> Linear {
        assert!(n_in > 0 && n_out > 0, "Linear {name:?}: sizes must be positive, got {n_in} -> {n_out}");
        let w = params.insert(format!("{name}.w"), weights.draw(&[n_in, n_out], n_in, n_out, rng));
        Linear { name: name.to_string(), n_in, n_out, w, b: None }
    }

    /// Records `x W + b` (or `x W`) on the tape, `x` being `[batch, n_in]`,
    /// or `[batch, seq, n_in]` (one `W` for every position).
    ///
    /// # Panics
    /// If `x` does not have `n_in` columns (the message names matmul and
    /// both shapes).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, Tensor, nn::{Init, Linear, Params}};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut params = Params::new();
    /// let l = Linear::new(&mut params, "l", 2, 1, Init::Uniform(-1.0, 1.0), Init::Zeros, &mut rng);
    /// let tape = Tape::new();
    /// let y = l.forward(params.on_tape(&tape), tape.constant(Tensor::zeros(&[1, 2])));
    /// assert_eq!(y.item(), 0.0); // zero input, zero bias
    /// ```
    pub fn forward<'t>(&self, vars: ParamVars<'t>, x: Var<'t>) -> Var<'t> {
        let y = x.matmul(vars.get(self.w));
        self.b.map_or(y, |b| y + vars.get(b))
    }

    /// `x W + b` on plain tensors, no tape (inference, plots).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Init, Linear, Params}};
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut p = Params::new();
    /// let l = Linear::new(&mut p, "l", 2, 3, Init::Zeros, Init::Zeros, &mut rng);
    /// assert_eq!(l.forward_tensor(&p, &Tensor::ones(&[5, 2])).shape(), &[5, 3]);
    /// ```
    pub fn forward_tensor(&self, params: &Params, x: &Tensor) -> Tensor {
        let (w, b) = self.weights(params);
        let y = x.matmul(w);
        match b {
            Some(b) => &y + b,
            None => y,
        }
    }

    /// This layer's `W` and `b` (`None` without a bias) in `params`.
    ///
    /// # Panics
    /// If `params` is not the set the layer was built into (a name or
    /// shape does not match).
    ///
    /// ```
    /// use tapegrad::nn::{Init, Linear, Params};
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut p = Params::new();
    /// let l = Linear::new(&mut p, "l", 2, 3, Init::Zeros, Init::Zeros, &mut rng);
    /// assert_eq!(l.weights(&p).0.shape(), &[2, 3]);
    /// assert_eq!(l.weights(&p).1.map(|b| b.shape()), Some(&[3][..]));
    /// ```
    pub fn weights<'p>(&self, params: &'p Params) -> (&'p Tensor, Option<&'p Tensor>) {
        let w = &params[&format!("{}.w", self.name)[..]];
        let b = self.b.map(|_| &params[&format!("{}.b", self.name)[..]]);
        assert!(
            w.shape() == [self.n_in, self.n_out] && b.is_none_or(|b| b.shape() == [self.n_out]),
            "Linear {:?}: expected W {:?} and b {:?}, the params hold {:?} and {:?}",
            self.name,
            [self.n_in, self.n_out],
            self.b.map(|_| [self.n_out]),
            w.shape(),
            b.map(|b| b.shape())
        );
        (w, b)
    }

    /// Whether the layer adds a bias.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Init, Linear, Params};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let l = Linear::without_bias(&mut Params::new(), "l", 2, 2, Init::Zeros, &mut rng);
    /// assert!(!l.has_bias());
    /// ```
    pub fn has_bias(&self) -> bool {
        self.b.is_some()
    }

    /// The layer's name (the prefix of its parameters).
    ///
    /// ```
    /// use tapegrad::nn::{Init, Linear, Params};
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let l = Linear::new(&mut Params::new(), "hidden", 1, 3, Init::Zeros, Init::Zeros, &mut rng);
    /// assert_eq!((l.name(), l.n_in(), l.n_out()), ("hidden", 1, 3));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of inputs (rows of `W`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Init, Linear, Params};
    /// let l = Linear::new(&mut Params::new(), "l", 4, 2, Init::Zeros, Init::Zeros, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(l.n_in(), 4);
    /// ```
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// Number of outputs (columns of `W`, length of `b`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Init, Linear, Params};
    /// let l = Linear::new(&mut Params::new(), "l", 4, 2, Init::Zeros, Init::Zeros, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(l.n_out(), 2);
    /// ```
    pub fn n_out(&self) -> usize {
        self.n_out
    }
}
