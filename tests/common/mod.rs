//! Helpers shared by the integration tests: input strategies for proptest
//! and a gradcheck that panics with the full mismatch report.
#![allow(dead_code)] // each test file uses a different subset

use proptest::prelude::*;
use tapegrad::check::{GradcheckOptions, gradcheck};
use tapegrad::ops::custom::CustomOp;
use tapegrad::{Tape, Tensor, Var};

/// Runs `gradcheck` with PyTorch's default tolerances and panics with its
/// report (input, index, analytic, numeric) on a mismatch.
pub fn assert_gradcheck(f: impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>, inputs: &[Tensor]) {
    if let Err(e) = gradcheck(f, inputs, &GradcheckOptions::default()) {
        panic!("{e}\ninputs: {inputs:?}");
    }
}

/// `sum(y * c)` for a fixed, non-uniform constant `c` shaped like `y`, so
/// every element of `y` gets a different upstream gradient (a plain sum
/// would hand every element the same 1 and hide transposed indices): the
/// registry's [`weighted_sum`](tapegrad::ops::registry::weighted_sum), in
/// the form these tests call it (`y` is on `_tape`).
pub fn weighted_sum<'t>(_tape: &'t Tape, y: Var<'t>) -> Var<'t> {
    tapegrad::ops::registry::weighted_sum(y)
}

/// A value at least 0.2 away from zero (clear of relu/abs kinks and of
/// poles), magnitude at most 2.
pub fn away_from_zero() -> impl Strategy<Value = f64> + Clone {
    (0.2f64..2.0, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m })
}

/// A value in [0.3, 3): inside the domain of ln, sqrt and real powers.
pub fn positive() -> impl Strategy<Value = f64> + Clone {
    0.3f64..3.0
}

/// Shapes of rank 0 to 3 with small extents.
pub fn small_shape() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        Just(vec![]),
        (1usize..5).prop_map(|n| vec![n]),
        (1usize..4, 1usize..4).prop_map(|(a, b)| vec![a, b]),
        (1usize..3, 1usize..4, 1usize..4).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
}

/// A tensor of `shape` with elements drawn from `values`.
pub fn tensor_of(shape: Vec<usize>, values: impl Strategy<Value = f64> + Clone) -> impl Strategy<Value = Tensor> {
    let n = shape.iter().product::<usize>();
    proptest::collection::vec(values, n).prop_map(move |d| Tensor::from_vec(d, &shape))
}

/// A tensor of a random small shape with elements drawn from `values`.
pub fn any_tensor(values: impl Strategy<Value = f64> + Clone + 'static) -> impl Strategy<Value = Tensor> {
    small_shape().prop_flat_map(move |s| tensor_of(s, values.clone()))
}

/// x^3 as a user-defined op, with its hand-written backward 3x^2.
pub struct Cube;
impl CustomOp for Cube {
    fn name(&self) -> &'static str {
        "cube"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].map(|v| v * v * v)
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[0].map(|v| 3.0 * v * v))]
    }
}

/// micrograd's neuron, `o = tanh(x1 w1 + x2 w2 + b)`, with its numbers and labels.
pub fn neuron(tape: &Tape) -> Var<'_> {
    tapegrad::notes::neuron::Neuron::record(tape).o
}

/// A user's elementwise rule as a user first writes it: `f` and `df` only,
/// so it has no differentiable backward (`df_var`) and no source text for
/// `emit` (`F_SRC`, `DF_SRC`): the tests of those two errors record it.
pub struct CubeRule;

impl tapegrad::ops::elementwise::UnaryFn for CubeRule {
    const NAME: &'static str = "cube";
    const TEXT: &'static str = "3x^2";
    fn f(x: f64, _: f64) -> f64 {
        x * x * x
    }
    fn df(x: f64, _: f64, _: f64) -> f64 {
        3.0 * x * x
    }
}
