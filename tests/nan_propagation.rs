//! No op swallows a NaN: a NaN put at each element of each input in turn
//! must reach the output of every op that reads that element, and proptest
//! puts one in the losses' predictions (a NaN hidden by `f64::max` or a comparison would let
//! training carry on with a silently wrong model).
//!
//! `x^0` is the one documented exception: IEEE 754 and PyTorch define
//! `NaN^0 = 1`, so the exponents here are non-zero. The ops come from the
//! registry (`tapegrad::ops::registry`), so a new op is checked here too.

use proptest::prelude::*;
use tapegrad::nn::Activation;
use tapegrad::ops::registry::cases;
use tapegrad::{Tape, Tensor, Var, loss};

/// Every registered op that takes part in the NaN check (all but those
/// that by design do not read every element: `narrow`, `pick`, `where_`'s
/// branch not chosen, the masks), with a NaN put at each element of each
/// input in turn: the sum of the output is NaN.
#[test]
fn a_nan_in_any_input_element_reaches_the_output_of_every_op() {
    for case in cases().filter(|c| c.checks.nan) {
        for seed in 0..2 {
            let x = case.inputs(seed);
            for (k, input) in x.iter().enumerate() {
                for at in 0..input.len() {
                    let mut data = input.data().to_vec();
                    data[at] = f64::NAN;
                    let tape = Tape::new();
                    let with_nan = |j: usize, t: &Tensor| {
                        if j == k { tape.var(Tensor::from_vec(data.clone(), t.shape())) } else { tape.var(t) }
                    };
                    let vars: Vec<Var<'_>> = x.iter().enumerate().map(|(j, t)| with_nan(j, t)).collect();
                    let y = (case.run)(&vars).sum();
                    assert!(y.item().is_nan(), "{}: a NaN at element {at} of input {k} gave {}", case.name, y.item());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The losses, with the NaN in the prediction.
    #[test]
    fn a_nan_prediction_reaches_every_loss(
        which in 0u8..6,
        at in 0usize..6,
        values in proptest::collection::vec(-2.0f64..2.0, 6),
    ) {
        let mut data = values;
        data[at] = f64::NAN;
        let tape = Tape::new();
        let p = tape.var(Tensor::from_vec(data, &[2, 3]));
        let t = tape.constant(Tensor::ones(&[2, 3]));
        let l = match which {
            0 => loss::mse(p, t),
            1 => loss::mse_half(p, t),
            2 => loss::sse_half(p, t),
            3 => loss::hinge(p, t),
            4 => loss::l2(&[p]),
            _ => loss::cross_entropy(p, &[0, 2]),
        };
        prop_assert!(l.item().is_nan(), "loss {which}: the NaN at {at} gave {}", l.item());
    }

    /// The tensor-only activations of the hand-written layers too.
    #[test]
    fn a_nan_survives_the_hand_written_activations(at in 0usize..3) {
        let mut data = vec![-1.0, 0.5, 2.0];
        data[at] = f64::NAN;
        let x = Tensor::from_vec(data, &[3]);
        for act in [Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Identity] {
            prop_assert!(act.apply_tensor(&x).data()[at].is_nan(), "{act:?}");
        }
    }
}
