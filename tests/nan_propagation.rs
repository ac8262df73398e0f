//! No op swallows a NaN: proptest puts a NaN at a random element of a
//! random input and checks that it reaches the loss through every op that
//! reads that element (a NaN hidden by `f64::max` or a comparison would let
//! training carry on with a silently wrong model).
//!
//! `x^0` is the one documented exception: IEEE 754 and PyTorch define
//! `NaN^0 = 1`, so the exponents here are non-zero.

mod common;

use common::Cube;
use proptest::prelude::*;
use tapegrad::nn::Activation;
use tapegrad::{Tape, Tensor, Var, loss};

/// The number of ops `apply` knows.
const OPS: u8 = 50;

/// Op `op` applied to the `[2, 3]` Var `x` (with finite partners `y`, `[2, 3]`,
/// and `v`, `[3]`), reduced to a scalar loss that reads every output
/// element; the NaN is element `nan_at` of `x`.
fn apply<'t>(tape: &'t Tape, op: u8, x: Var<'t>, y: Var<'t>, v: Var<'t>, nan_at: usize) -> Var<'t> {
    let out = match op {
        0 => x.exp(),
        1 => x.ln(),
        2 => x.sqrt(),
        3 => x.abs(),
        4 => x.sin(),
        5 => x.cos(),
        6 => x.tanh(),
        7 => x.sigmoid(),
        8 => x.relu(),
        9 => x.square(),
        10 => x.powi(3),
        11 => x.powf(0.5),
        12 => -x,
        13 => x + 1.0,
        14 => 2.0 - x,
        15 => x * 0.0, // NaN * 0 is NaN
        16 => x / 2.0,
        17 => 2.0 / x,
        18 => x + y,
        19 => y - x,
        20 => x * y,
        21 => y / x,
        22 => x.maximum(y),
        23 => y.maximum(x),
        24 => x.matmul(y.t()),
        25 => x.t(),
        26 => x.reshape(&[3, 2]),
        27 => x.sum_axis(0, true) + x.mean_axis(1, true).sum(),
        28 => x.log_softmax(),
        29 => {
            // pick the NaN's column in its row (an element pick does not read
            // is rightly not its business)
            let (r, c) = (nan_at / 3, nan_at % 3);
            x.pick(&[if r == 0 { c } else { 1 }, if r == 1 { c } else { 2 }])
        }
        30 => x.detach() + y,
        31 => tape.custom(Cube, &[x]),
        32 => x.maximum(v) + v.maximum(x), // broadcast lanes
        34 => x.softmax(0),
        35 => x.softmax(1) + x.log_softmax_axis(0),
        36 => x.max_axis(0, false).sum() + x.max_axis(1, true).sum(),
        37 => x.min_axis(0, true).sum() + x.min_axis(1, false).sum(),
        38 => Var::concat(&[y, x, v.reshape(&[1, 3])], 0),
        39 => Var::stack(&[x, y], 2),
        40 => x.narrow(0, nan_at / 3, 1) + x.narrow(1, nan_at % 3, 1).sum(),
        41 => x.index_select(1, &[2, 0, 1, 2]),
        42 => x.index_select(0, &[1, 1, 0]),
        43 => x.gather(1, &[nan_at % 3, 0, 1, nan_at % 3], &[2, 2]),
        44 => x.leaky_relu(0.01),
        45 => x.gelu(),
        46 => x.clamp(0.5, 1.5),
        47 => {
            // the mask chooses x where the NaN is, y elsewhere
            let mask: Vec<f64> = (0..6).map(|i| if i == nan_at { 1.0 } else { 0.0 }).collect();
            x.where_(&Tensor::from_vec(mask, &[2, 3]), y)
        }
        48 => x.reshape(&[1, 2, 3]).matmul(y.t()),
        49 => y.matmul(x.t().reshape(&[1, 3, 2])),
        _ => x + v, // broadcast
    };
    out.sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_nan_input_reaches_the_loss_through_every_op(
        op in 0..OPS,
        at in 0usize..6,
        values in proptest::collection::vec(0.1f64..2.0, 6),
        partner in proptest::collection::vec(-2.0f64..2.0, 6),
    ) {
        let mut data = values;
        data[at] = f64::NAN;
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(data, &[2, 3]));
        let y = tape.var(Tensor::from_vec(partner.clone(), &[2, 3]));
        let v = tape.var(Tensor::from_vec(partner[..3].to_vec(), &[3]));
        let l = apply(&tape, op, x, y, v, at);
        prop_assert!(l.item().is_nan(), "op {op}: the NaN at {at} gave loss {}", l.item());
    }

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
