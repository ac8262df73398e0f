//! The char_rnn example's GRU, checked at a small size: its BPTT gradients
//! (the loss summed over 3 unrolled steps) against central differences and
//! against forward mode, with respect to every parameter, and one step of
//! the cell against the GRU equations written out with plain f64 loops.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::check::{GradcheckOptions, gradcheck, gradcheck_forward};
use tapegrad::nn::{ParamVars, Params};
use tapegrad::{Tape, Tensor};

#[path = "../examples/char_rnn/gru.rs"]
#[allow(dead_code)] // the example uses all of it; this test only part
mod gru;
use gru::{Gru, Sizes};

const SIZES: Sizes = Sizes { vocab: 4, embed: 2, hidden: 3 };

/// Parameters with random biases too (the example starts them at 0), so
/// no gate sits at a special point, and a random initial state.
fn setup() -> (Params, Tensor) {
    let mut rng = ChaCha12Rng::seed_from_u64(7);
    let mut p = gru::init(SIZES, &mut rng);
    for (_, t) in p.iter_mut() {
        *t = Tensor::randn(t.shape(), &mut rng).scale(0.8);
    }
    let h0 = Tensor::randn(&[2, SIZES.hidden], &mut rng).scale(0.5);
    (p, h0)
}

/// Two sequences of 3 steps: inputs and next-character targets.
fn sequences() -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    (vec![vec![0, 3], vec![2, 1], vec![1, 1]], vec![vec![2, 1], vec![1, 0], vec![3, 2]])
}

/// The model's loss over the 3 steps of [`sequences`], from `h0`, with
/// its parameters the Vars `v` (in `params`' order).
fn unrolled_loss<'t>(params: &Params, h0: &Tensor, v: &[tapegrad::Var<'t>]) -> tapegrad::Var<'t> {
    let (inputs, targets) = sequences();
    let tape = v[0].tape();
    let model = Gru::new(params, ParamVars::from_vars(tape, v));
    model.loss(tape.constant(h0), &inputs, &targets).0
}

#[test]
fn bptt_gradients_match_central_differences_and_forward_mode() {
    let (params, h0) = setup();
    let values: Vec<Tensor> = params.iter().map(|(_, t)| t.clone()).collect();
    let r = gradcheck(|_, v| unrolled_loss(&params, &h0, v), &values, &GradcheckOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.checked, params.numel());
    let r = gradcheck_forward(|_, v| unrolled_loss(&params, &h0, v), &values, 1e-12).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.checked, params.numel());
}

/// One step of the cell by hand: z, r, n and h' from the equations in
/// `gru.rs`'s docs, element by element.
#[test]
fn one_step_matches_the_gru_equations() {
    let (params, h0) = setup();
    let tape = Tape::new();
    let model = Gru::new(&params, params.on_tape(&tape));
    let chars = [3, 0];
    let h1 = model.step(model.embed(&chars), tape.constant(&h0)).value();

    let (e, hd) = (SIZES.embed, SIZES.hidden);
    let w = |name: &str, i: usize, j: usize| params[name].get(&[i, j]);
    let b = |name: &str, j: usize| params[name].data()[j];
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    for (row, &c) in chars.iter().enumerate() {
        let x: Vec<f64> = (0..e).map(|k| w("embed", c, k)).collect();
        let h: Vec<f64> = (0..hd).map(|k| h0.get(&[row, k])).collect();
        let affine = |wx: &str, wh: &str, bias: &str, j: usize, hin: &[f64]| {
            b(bias, j)
                + (0..e).map(|k| x[k] * w(wx, k, j)).sum::<f64>()
                + (0..hd).map(|k| hin[k] * w(wh, k, j)).sum::<f64>()
        };
        let z: Vec<f64> = (0..hd).map(|j| sigmoid(affine("w_xz", "w_hz", "b_z", j, &h))).collect();
        let r: Vec<f64> = (0..hd).map(|j| sigmoid(affine("w_xr", "w_hr", "b_r", j, &h))).collect();
        let rh: Vec<f64> = (0..hd).map(|k| r[k] * h[k]).collect();
        for j in 0..hd {
            let n = affine("w_xh", "w_hh", "b_h", j, &rh).tanh();
            let want = z[j] * h[j] + (1.0 - z[j]) * n;
            let got = h1.get(&[row, j]);
            assert!((got - want).abs() < 1e-14, "row {row} unit {j}: {got} vs {want}");
        }
    }
}
