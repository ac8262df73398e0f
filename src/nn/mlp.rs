//! `Mlp`: a multi-layer perceptron built declaratively from layer sizes
//! and activations.

use super::{Activation, Init, Linear, ParamVars, Params};
use crate::tape::Var;
use crate::tensor::Tensor;
use rand::Rng;

/// What an [`Mlp`] looks like: layer sizes, activations, initialisation.
/// The defaults are the notes' network: sigmoid hidden layers, a linear
/// (identity) output, weights and biases from a standard normal.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::{Activation, Init, MlpSpec};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// // micrograd's demo network: 2-16-16-1, ReLU, uniform weights, zero biases
/// let mlp = MlpSpec::new(&[2, 16, 16, 1])
///     .hidden(Activation::Relu)
///     .weights(Init::Uniform(-1.0, 1.0))
///     .biases(Init::Zeros)
///     .build(&mut rng);
/// assert_eq!(mlp.params().numel(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MlpSpec {
    sizes: Vec<usize>,
    hidden: Activation,
    output: Activation,
    weights: Init,
    biases: Init,
}

impl MlpSpec {
    /// Layer sizes from input to output, e.g. `[1, 3, 1]` for the notes'
    /// 1-3-1 network.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = tapegrad::nn::MlpSpec::new(&[1, 3, 1]).build(&mut rng);
    /// assert_eq!(mlp.params().names().collect::<Vec<_>>(), ["hidden.w", "hidden.b", "out.w", "out.b"]);
    /// ```
    pub fn new(sizes: &[usize]) -> MlpSpec {
        MlpSpec {
            sizes: sizes.to_vec(),
            hidden: Activation::Sigmoid,
            output: Activation::Identity,
            weights: Init::StandardNormal,
            biases: Init::StandardNormal,
        }
    }

    /// Activation of every hidden layer (default sigmoid).
    ///
    /// ```
    /// use tapegrad::nn::{Activation, MlpSpec};
    /// let _ = MlpSpec::new(&[2, 8, 1]).hidden(Activation::Tanh);
    /// ```
    pub fn hidden(mut self, activation: Activation) -> MlpSpec {
        self.hidden = activation;
        self
    }

    /// Activation of the output layer (default identity).
    ///
    /// ```
    /// use tapegrad::nn::{Activation, MlpSpec};
    /// let _ = MlpSpec::new(&[2, 8, 1]).output(Activation::Sigmoid);
    /// ```
    pub fn output(mut self, activation: Activation) -> MlpSpec {
        self.output = activation;
        self
    }

    /// How the weights are drawn (default standard normal).
    ///
    /// ```
    /// use tapegrad::nn::{Init, MlpSpec};
    /// let _ = MlpSpec::new(&[2, 8, 1]).weights(Init::HeNormal);
    /// ```
    pub fn weights(mut self, init: Init) -> MlpSpec {
        self.weights = init;
        self
    }

    /// How the biases are drawn (default standard normal).
    ///
    /// ```
    /// use tapegrad::nn::{Init, MlpSpec};
    /// let _ = MlpSpec::new(&[2, 8, 1]).biases(Init::Zeros);
    /// ```
    pub fn biases(mut self, init: Init) -> MlpSpec {
        self.biases = init;
        self
    }

    /// Draws the parameters, layer by layer (each layer's `W`, then its `b`).
    ///
    /// Layers are named `"hidden"` (or `"hidden1"`, `"hidden2"`, ... when
    /// there are several) and `"out"`.
    ///
    /// # Panics
    /// With fewer than two sizes or a zero size.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = tapegrad::nn::MlpSpec::new(&[2, 4, 4, 1]).build(&mut rng);
    /// assert_eq!(mlp.params().names().next(), Some("hidden1.w"));
    /// ```
    pub fn build(&self, rng: &mut impl Rng) -> Mlp {
        let sizes = &self.sizes;
        assert!(sizes.len() >= 2, "MlpSpec: need at least an input and an output size, got {sizes:?}");
        assert!(sizes.iter().all(|&n| n > 0), "MlpSpec: layer sizes must be positive, got {sizes:?}");
        let n_layers = sizes.len() - 1;
        let mut params = Params::new();
        let layers = (0..n_layers)
            .map(|k| {
                let last = k + 1 == n_layers;
                let linear = Linear::new(
                    &mut params,
                    &layer_name(k, n_layers),
                    sizes[k],
                    sizes[k + 1],
                    self.weights,
                    self.biases,
                    rng,
                );
                (linear, if last { self.output } else { self.hidden })
            })
            .collect();
        Mlp { layers, params }
    }
}

/// A multi-layer perceptron: [`Linear`] layers, each followed by its
/// activation, and the parameters they read.
///
/// One training step, the zero-allocation way (see [`super::params`]):
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::{Tape, loss, nn::MlpSpec, optim::{Optimizer, Sgd, SgdConfig}};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// let mut mlp = MlpSpec::new(&[1, 3, 1]).build(&mut rng);
/// let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap(); // plain SGD
/// let mut tape = Tape::new();
/// let mut errors = Vec::new();
/// for _ in 0..50 {
///     tape.clear();
///     let vars = mlp.params().on_tape(&tape);
///     let x = tape.constant_from_slice(&[0.5], &[1, 1]);
///     let t = tape.constant_from_slice(&[0.25], &[1, 1]);
///     let e = loss::sse_half(mlp.forward(vars, x), t);   // 0.5 (y - t)^2
///     errors.push(e.item());
///     let grads = e.backward();
///     opt.step(mlp.params_mut(), vars, &grads).unwrap();
/// }
/// assert!(errors[49] < errors[0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    layers: Vec<(Linear, Activation)>,
    params: Params,
}

impl Mlp {
    /// Records the network on the tape: for each layer, `act(x W + b)`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, Tensor, nn::MlpSpec};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = MlpSpec::new(&[2, 5, 3]).build(&mut rng);
    /// let tape = Tape::new();
    /// let y = mlp.forward(mlp.params().on_tape(&tape), tape.constant(Tensor::ones(&[7, 2])));
    /// assert_eq!(y.shape().as_slice(), &[7, 3]);
    /// ```
    pub fn forward<'t>(&self, vars: ParamVars<'t>, x: Var<'t>) -> Var<'t> {
        self.layers.iter().fold(x, |h, (linear, act)| act.apply(linear.forward(vars, h)))
    }

    /// The network on plain tensors, no tape (inference, plots).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, Tensor, nn::MlpSpec};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = MlpSpec::new(&[2, 5, 3]).build(&mut rng);
    /// let x = Tensor::ones(&[4, 2]);
    /// let tape = Tape::new();
    /// let on_tape = mlp.forward(mlp.params().on_tape(&tape), tape.constant(&x)).value();
    /// assert_eq!(mlp.predict(&x), on_tape);
    /// ```
    pub fn predict(&self, x: &Tensor) -> Tensor {
        self.layers
            .iter()
            .fold(x.clone(), |h, (linear, act)| act.apply_tensor(&linear.forward_tensor(&self.params, &h)))
    }

    /// The parameters, named and ordered.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = tapegrad::nn::MlpSpec::new(&[1, 3, 1]).build(&mut rng);
    /// assert_eq!(mlp.params()["hidden.w"].shape(), &[1, 3]);
    /// ```
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The parameters, mutably (for an optimizer step).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mut mlp = tapegrad::nn::MlpSpec::new(&[1, 3, 1]).build(&mut rng);
    /// mlp.params_mut().get_mut("out.b").unwrap().data_mut()[0] = 0.0;
    /// assert_eq!(mlp.params()["out.b"].item(), 0.0);
    /// ```
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The layers and their activations, input first.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::{Activation, MlpSpec};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let mlp = MlpSpec::new(&[1, 3, 1]).build(&mut rng);
    /// assert_eq!(mlp.layers()[0].1, Activation::Sigmoid);
    /// assert_eq!(mlp.layers()[1].0.name(), "out");
    /// ```
    pub fn layers(&self) -> &[(Linear, Activation)] {
        &self.layers
    }
}

/// The name of layer `k` out of `n_layers`: `"out"` for the last, `"hidden"`
/// for the only hidden layer, `"hidden1"`, `"hidden2"`, ... for several.
pub(crate) fn layer_name(k: usize, n_layers: usize) -> String {
    match (k + 1 == n_layers, n_layers) {
        (true, _) => "out".to_string(),
        (false, 2) => "hidden".to_string(),
        (false, _) => format!("hidden{}", k + 1),
    }
}
