//! The tape against the notes' hand-written backward passes, and both
//! against central differences, on random networks and random data.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::check::{GradcheckOptions, numerical_gradient};
use tapegrad::nn::{Mlp, MlpSpec, ParamGrads, Params};
use tapegrad::notes::manual::ManualMlp;
use tapegrad::{Tape, Tensor, loss};

/// Networks of several shapes (one and two hidden layers, several outputs)
/// and batch sizes 1 and more than 1.
const CASES: &[(&[usize], usize)] = &[
    (&[1, 3, 1], 1),
    (&[1, 3, 1], 7),
    (&[2, 5, 1], 1),
    (&[3, 4, 2], 5),
    (&[4, 6, 5, 3], 1),
    (&[4, 6, 5, 3], 8),
    (&[2, 3, 3, 3, 2], 3),
];

struct Case {
    mlp: Mlp,
    x: Tensor,
    t: Tensor,
}

fn case(sizes: &[usize], batch: usize, seed: u64) -> Case {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mlp = MlpSpec::new(sizes).build(&mut rng);
    let x = Tensor::randn(&[batch, sizes[0]], &mut rng);
    let t = Tensor::randn(&[batch, *sizes.last().unwrap()], &mut rng);
    Case { mlp, x, t }
}

/// The tape's loss `0.5 * sum((y - t)^2)` and its gradients by name.
fn tape_grads(c: &Case) -> (f64, ParamGrads) {
    let tape = Tape::new();
    let vars = c.mlp.params().on_tape(&tape);
    let e = loss::sse_half(c.mlp.forward(vars, tape.constant(&c.x)), tape.constant(&c.t));
    (e.item(), vars.grads(c.mlp.params(), &e.backward()))
}

/// The hand-written layers' loss and gradients by name.
fn manual_grads(c: &Case) -> (f64, Params) {
    let mut net = ManualMlp::from_params(c.mlp.params());
    let y = net.forward(&c.x);
    net.backward(&c.t);
    (0.5 * y.sub(&c.t).map(|d| d * d).sum(), net.grads())
}

/// `max |a - b| / max |b|` over one tensor: relative to the gradient's scale,
/// so tiny entries do not turn rounding into a large relative error.
fn rel_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.max_abs_diff(b) / scale.max(f64::MIN_POSITIVE)
}

#[test]
fn tape_gradients_equal_the_hand_written_ones() {
    for (k, &(sizes, batch)) in CASES.iter().enumerate() {
        for seed in 0..3 {
            let c = case(sizes, batch, 100 * k as u64 + seed);
            let (tape_loss, tape) = tape_grads(&c);
            let (manual_loss, manual) = manual_grads(&c);
            assert!((tape_loss - manual_loss).abs() <= 1e-12 * manual_loss.abs(), "{sizes:?} batch {batch}: loss");
            assert_eq!(tape.len(), manual.len());
            for (name, g) in manual.iter() {
                let d = rel_diff(&tape[name], g);
                assert!(d <= 1e-12, "{sizes:?} batch {batch} seed {seed}: {name} differs by {d:e} (relative)");
                assert!(g.data().iter().any(|v| *v != 0.0), "{name}: a zero gradient proves nothing");
            }
        }
    }
}

#[test]
fn tape_gradients_pass_gradcheck() {
    for (k, &(sizes, batch)) in CASES.iter().enumerate() {
        let c = case(sizes, batch, 7 + k as u64);
        let report = c
            .mlp
            .params()
            .gradcheck(
                |tape, vars| loss::sse_half(c.mlp.forward(vars, tape.constant(&c.x)), tape.constant(&c.t)),
                &GradcheckOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{sizes:?} batch {batch}: {e}"));
        assert_eq!(report.checked, c.mlp.params().numel());
    }
}

#[test]
fn hand_written_gradients_agree_with_central_differences() {
    let opts = GradcheckOptions::default();
    for (k, &(sizes, batch)) in CASES.iter().enumerate() {
        let c = case(sizes, batch, 31 + k as u64);
        let (_, manual) = manual_grads(&c);
        for (name, value) in c.mlp.params().iter() {
            // the loss as a function of this one parameter, the others fixed
            let loss_at = |v: &[f64]| {
                let mut p = c.mlp.params().clone();
                p.get_mut(name).unwrap().data_mut().copy_from_slice(v);
                let mut net = ManualMlp::from_params(&p);
                0.5 * net.forward(&c.x).sub(&c.t).map(|d| d * d).sum()
            };
            let numeric = numerical_gradient(loss_at, value.data(), opts.eps);
            for (i, (&a, &n)) in manual[name].data().iter().zip(&numeric).enumerate() {
                assert!((a - n).abs() <= opts.atol + opts.rtol * n.abs(), "{sizes:?} {name}[{i}]: {a} vs {n}");
            }
        }
    }
}

#[test]
fn deliberately_wrong_backward_is_caught() {
    // The comparison can fail: halve one hand-written gradient and the
    // relative difference is far above 1e-12.
    let c = case(&[2, 4, 1], 3, 5);
    let (_, tape) = tape_grads(&c);
    let (_, mut manual) = manual_grads(&c);
    manual.get_mut("hidden.b").unwrap().map_inplace(|g| g * 0.5);
    assert!(rel_diff(&tape["hidden.b"], &manual["hidden.b"]) > 0.1);
}

#[test]
fn sine_network_gradients_snapshot() {
    // The notes' 1-3-1 network at seed 0, on the sample x = 0.5 (the 6th
    // point), target sin(0.5). (At x = 1 the w and b gradients would coincide.)
    let mlp = tapegrad::notes::sine::network(3, &mut ChaCha12Rng::seed_from_u64(0));
    let c = Case { mlp, x: Tensor::from_vec(vec![0.5], &[1, 1]), t: Tensor::from_vec(vec![0.5f64.sin()], &[1, 1]) };
    let (_, tape) = tape_grads(&c);
    let (_, manual) = manual_grads(&c);
    for (name, g) in manual.iter() {
        assert!(rel_diff(&tape[name], g) <= 1e-12, "{name}");
    }
    insta::assert_snapshot!(
        "sine_gradients_seed0_x05",
        tapegrad::snapshot::render(tape.iter().map(|(n, t)| (n.as_str(), t)))
    );
}
