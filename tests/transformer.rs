//! The transformer example's model, checked at a tiny size: its loss
//! gradient with respect to every parameter against central differences
//! and forward mode, its attention against the equations written as
//! loops, `no_grad` against the recorded forward; and the example's first
//! training losses pinned (seeded).

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::check::GradcheckOptions;
use tapegrad::nn::{self, Params};
use tapegrad::{Tape, Tensor};

#[path = "../examples/transformer/model.rs"]
#[allow(dead_code)] // the example reads every field of a step's report; this test only the loss
mod model;
#[path = "../examples/char_rnn/text.rs"]
#[allow(dead_code)] // the examples' flag checks
mod text;
use model::{Config, Training, Transformer};

const TINY: Config = Config { vocab: 5, context: 3, d: 4, heads: 2, blocks: 1 };
const IDS: [usize; 6] = [0, 3, 1, 4, 4, 2];
const TARGETS: [usize; 6] = [3, 1, 2, 4, 2, 0];

/// The tiny model with every parameter random (the example starts scales
/// at 1 and biases at 0, special points a check could pass by accident).
fn tiny() -> (Transformer, Params) {
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let mut params = Params::new();
    let model = Transformer::new(TINY, &mut params, &mut rng);
    for (_, t) in params.iter_mut() {
        *t = Tensor::randn(t.shape(), &mut rng).scale(0.7);
    }
    (model, params)
}

#[test]
fn loss_gradient_matches_central_differences_and_forward_mode() {
    let (model, params) = tiny();
    let opts = GradcheckOptions::default();
    let r = params.gradcheck(|_, v| model.loss(v, &IDS, &TARGETS, 2, 3), &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.checked, params.numel());
    let r =
        params.gradcheck_forward(|_, v| model.loss(v, &IDS, &TARGETS, 2, 3), 1e-11).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.checked, params.numel());
}

/// Causal multi-head attention from its equations, in loops over plain
/// f64: per batch row and head, `softmax_{j <= i}(q_i . k_j / sqrt(dh))`
/// weighting `v_j`, heads side by side, then `W_o` and its bias.
#[test]
fn attention_matches_the_equations_in_loops() {
    let (model, params) = tiny();
    let (b, t, d, nh) = (2, 3, TINY.d, TINY.heads);
    let dh = d / nh;
    let h = Tensor::randn(&[b, t, d], &mut ChaCha12Rng::seed_from_u64(9));
    let tape = Tape::new();
    let got = model.attention(&model.blocks()[0], params.on_tape(&tape), tape.constant(&h)).value();

    let w = |name: &str| &params[name];
    let proj = |name: &str| -> Vec<f64> {
        // [b*t, d] x [d, d]
        let m = w(name);
        let mut out = vec![0.0; b * t * d];
        for r in 0..b * t {
            for j in 0..d {
                out[r * d + j] = (0..d).map(|k| h.data()[r * d + k] * m.get(&[k, j])).sum();
            }
        }
        out
    };
    let (q, k, v) = (proj("block0.q.w"), proj("block0.k.w"), proj("block0.v.w"));
    let mut merged = vec![0.0; b * t * d];
    for bi in 0..b {
        for hd in 0..nh {
            for i in 0..t {
                let at = |x: &Vec<f64>, pos: usize, c: usize| x[(bi * t + pos) * d + hd * dh + c];
                let scores: Vec<f64> = (0..=i)
                    .map(|j| (0..dh).map(|c| at(&q, i, c) * at(&k, j, c)).sum::<f64>() / (dh as f64).sqrt())
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                for c in 0..dh {
                    let o: f64 = (0..=i).map(|j| (scores[j] - max).exp() / z * at(&v, j, c)).sum();
                    merged[(bi * t + i) * d + hd * dh + c] = o;
                }
            }
        }
    }
    let (wo, bo) = (w("block0.o.w"), w("block0.o.b"));
    for r in 0..b * t {
        for j in 0..d {
            let want = bo.data()[j] + (0..d).map(|k| merged[r * d + k] * wo.get(&[k, j])).sum::<f64>();
            let g = got.data()[r * d + j];
            assert!((g - want).abs() < 1e-13, "row {r} col {j}: {g} vs {want}");
        }
    }
}

#[test]
fn no_grad_forward_equals_the_recorded_one_and_keeps_no_gradient() {
    let (model, params) = tiny();
    let tape = Tape::new();
    let recorded = model.logits(params.on_tape(&tape), &IDS, 2, 3).value();
    let inferred = nn::no_grad(|scratch| {
        let y = model.logits(params.constants_on_tape(scratch), &IDS, 2, 3);
        assert!(!y.requires_grad()); // nothing in the scratch forward keeps a gradient
        y.value()
    });
    assert_eq!(inferred, recorded);
}

/// The example's first steps, at its defaults and seed 0: the losses it
/// prints (`step 1: loss 3.5708`) and the next two, pinned.
#[test]
fn the_example_s_first_losses_are_pinned() {
    let (vocab, ids) = text::encode(text::TEXT);
    let mut rng = ChaCha12Rng::seed_from_u64(0);
    let cfg = Config { vocab: vocab.len(), context: 24, d: 32, heads: 4, blocks: 2 };
    let mut params = Params::new();
    let model = Transformer::new(cfg, &mut params, &mut rng);
    let training = Training { steps: 3, batch: 16, seq_len: 24, lr: 0.01, warmup: 50, clip: 1.0, weight_decay: 0.01 };
    let mut losses = vec![];
    model::train(&model, &mut params, &ids, training, &mut rng, |_, r| losses.push(r.loss));
    assert_eq!(format!("{:.4}", losses[0]), "3.5708");
    let pinned = [3.5707823334962736, 3.6467770051619173, 3.601552914816238];
    for (got, want) in losses.iter().zip(pinned) {
        assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    }
}
