//! Replay (record once, run many) against its independent truth: a fresh
//! recording of the same program on the same values, every step. Losses,
//! values and gradients must agree bit for bit (`to_bits`), over whole
//! training runs whose weights move every step; a program that branches on
//! a value is caught by the replay check; `try_set` refuses what it must.

mod common;
use common::Cube;

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::nn::{Activation, MlpSpec, ParamVars, Params, ReplayStep};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use tapegrad::{Tape, Tensor, Var, loss};

/// Pins a closure's signature to "for every tape lifetime", so one
/// closure can build the step on the replayed tape and on fresh ones.
fn program<F: for<'t> Fn(ParamVars<'t>, &[Var<'t>]) -> Var<'t> + Copy>(f: F) -> F {
    f
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// The loss and every parameter's gradient from a fresh tape: the
/// independent path.
fn fresh_step(
    params: &Params,
    inputs: &[(&[f64], &[usize])],
    build: impl for<'t> FnOnce(ParamVars<'t>, &[Var<'t>]) -> Var<'t>,
) -> (f64, Vec<Vec<f64>>) {
    let tape = Tape::new();
    let vars = params.on_tape(&tape);
    let io: Vec<Var<'_>> = inputs.iter().map(|(d, s)| tape.constant_from_slice(d, s)).collect();
    let loss = build(vars, &io);
    let g = loss.backward();
    (loss.item(), vars.iter().map(|v| g.wrt(v).data().to_vec()).collect())
}

/// The replayed step's loss and gradients, the same way.
fn replayed_step(step: &ReplayStep, params: &Params, inputs: &[&[f64]]) -> (f64, Vec<Vec<f64>>) {
    let g = step.run(params, inputs).unwrap();
    (step.loss(), step.vars().iter().map(|v| g.wrt(v).data().to_vec()).collect())
}

fn assert_same_bits(fresh: &(f64, Vec<Vec<f64>>), replayed: &(f64, Vec<Vec<f64>>), what: &str) {
    assert_eq!(fresh.0.to_bits(), replayed.0.to_bits(), "{what}: loss {} fresh, {} replayed", fresh.0, replayed.0);
    for (k, (a, b)) in fresh.1.iter().zip(&replayed.1).enumerate() {
        assert_eq!(bits(a), bits(b), "{what}: gradient of parameter {k}: {a:?} fresh, {b:?} replayed");
    }
}

#[test]
fn sine_training_replays_bit_for_bit_over_200_steps() {
    // The notes' 1-3-1 network, per-sample SGD: the weights move every
    // step, so every step replays new parameters and a new sample.
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let mlp = tapegrad::notes::sine::network(3, &mut rng);
    let build = program(|v, io| loss::sse_half(mlp.forward(v, io[0]), io[1]));
    let mut params = mlp.params().clone();
    let zero = Tensor::zeros(&[1, 1]);
    let step = ReplayStep::record(&params, &[&zero, &zero], build);
    let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    let (xs, ts) = tapegrad::notes::sine::data();
    for k in 0..200 {
        let i = (k * 17) % xs.len();
        let (x, t) = ([xs[i]], [ts[i]]);
        let fresh = fresh_step(&params, &[(&x, &[1, 1]), (&t, &[1, 1])], build);
        let replayed = replayed_step(&step, &params, &[&x, &t]);
        assert_same_bits(&fresh, &replayed, &format!("sine step {k}"));
        let g = step.run(&params, &[&x, &t]).unwrap();
        opt.step(&mut params, step.vars(), &g).unwrap();
    }
    assert!(params.max_abs_diff(mlp.params()) > 0.01, "the weights moved");
}

#[test]
fn mlp_training_replays_bit_for_bit_over_200_steps() {
    // A 4-8-8-3 tanh network, batches of 5 drawn afresh every step, Adam.
    let mut rng = ChaCha12Rng::seed_from_u64(11);
    let mlp = MlpSpec::new(&[4, 8, 8, 3]).hidden(Activation::Tanh).build(&mut rng);
    let build = program(|v, io| loss::mse(mlp.forward(v, io[0]), io[1]));
    let mut params = mlp.params().clone();
    let (x0, t0) = (Tensor::zeros(&[5, 4]), Tensor::zeros(&[5, 3]));
    let step = ReplayStep::record(&params, &[&x0, &t0], build);
    let mut opt = Adam::new(AdamConfig { lr: 0.01, ..Default::default() }).unwrap();
    for k in 0..200 {
        let x = Tensor::randn(&[5, 4], &mut rng);
        let t = Tensor::rand(&[5, 3], &mut rng);
        let fresh = fresh_step(&params, &[(x.data(), &[5, 4]), (t.data(), &[5, 3])], build);
        let replayed = replayed_step(&step, &params, &[x.data(), t.data()]);
        assert_same_bits(&fresh, &replayed, &format!("MLP step {k}"));
        let g = step.run(&params, &[x.data(), t.data()]).unwrap();
        opt.step(&mut params, step.vars(), &g).unwrap();
    }
    assert!(params.max_abs_diff(mlp.params()) > 0.01, "the weights moved");
}

/// A program with a user op, broadcasting (`[3, 1]` against `[4]`, a
/// reduction along an axis) and a chain of 0-d nodes (the lane whose local
/// partials are stored at recording and must be refreshed by the replay).
fn mixed<'t>(tape: &'t Tape, a: &[f64], b: &[f64], s: f64) -> (Var<'t>, [Var<'t>; 3]) {
    let a = tape.var_from_slice(a, &[3, 1]);
    let b = tape.var_from_slice(b, &[4]);
    let s = tape.scalar(s);
    let cubed = tape.custom(Cube, &[(a * b).tanh()]); // [3, 4]
    let rows = cubed.sum_axis(1, true) / b.sum(); // [3, 1] / []: broadcast
    let k = (s.sin() * s + s.exp() / (s * s + 1.0)).sigmoid(); // 0-d nodes only
    let y = (rows * k).sum() + k.powi(3) * (b.mean() - 0.5);
    (y, [a, b, s])
}

#[test]
fn replay_through_a_custom_op_broadcasting_and_0d_nodes_equals_fresh_recordings() {
    let tape = Tape::new();
    let (y, [a, b, s]) = mixed(&tape, &[0.1, 0.2, 0.3], &[1.0, -1.0, 0.5, 2.0], 0.7);
    let mut rng = ChaCha12Rng::seed_from_u64(5);
    for _ in 0..50 {
        let (na, nb) = (Tensor::randn(&[3, 1], &mut rng), Tensor::randn(&[4], &mut rng));
        let ns = Tensor::randn(&[], &mut rng).item();
        tape.set(a, na.data());
        tape.set(b, nb.data());
        tape.set(s, &[ns]);
        tape.replay();
        let g = y.backward();

        let fresh_tape = Tape::new();
        let (fy, [fa, fb, fs]) = mixed(&fresh_tape, na.data(), nb.data(), ns);
        let fg = fy.backward();
        assert_eq!(tape.len(), fresh_tape.len());
        for i in 0..tape.len() {
            assert_eq!(bits(tape.node(i).value().data()), bits(fresh_tape.node(i).value().data()), "node {i}");
        }
        for (v, f) in [(a, fa), (b, fb), (s, fs)] {
            assert_eq!(bits(g.wrt(v).data()), bits(fg.wrt(f).data()), "gradient of node {}", v.index());
        }
    }
}

/// `|x| * w` with the absolute value written as an `if` on x's value.
fn branchy(tape: &Tape, x: f64, w: f64) -> Var<'_> {
    let (x, w) = (tape.scalar(x), tape.scalar(w));
    let ax = if x.item() >= 0.0 { x } else { -x };
    ax * w
}

#[test]
fn the_replay_check_catches_a_branch_that_flips() {
    let tape = Tape::new();
    let y = branchy(&tape, 2.0, 3.0);
    let (x, w) = (tape.node(0), tape.node(1));
    // Same sign: the replay is the program, checked.
    tape.set(x, &[5.0]);
    tape.set(w, &[-1.0]);
    tape.replay_checked(|t| {
        let _ = branchy(t, 5.0, -1.0);
    })
    .unwrap();
    assert_eq!(y.item(), -5.0);
    // The sign flips: the replay computes x * w = -3 * -1 = 3, but the
    // program is now |x| * w = -3. The check names the node that differs.
    tape.set(x, &[-3.0]);
    let e = tape
        .replay_checked(|t| {
            let _ = branchy(t, -3.0, -1.0);
        })
        .unwrap_err();
    assert_eq!((e.node, e.replayed.as_str(), e.recorded.as_str()), (2, "mul", "neg"));
    assert_eq!((e.replayed_shape.as_slice(), e.recorded_shape.as_slice()), (&[][..], &[][..]));
    assert!(e.to_string().contains("must be recorded again"), "{e}");
    assert_eq!(y.item(), 3.0, "the replay itself ran the recorded ops");
}

#[test]
fn the_replay_check_catches_an_input_not_set() {
    let tape = Tape::new();
    let _ = branchy(&tape, 2.0, 3.0);
    // The program now runs on w = 4, but the tape's w was never set.
    let e = tape
        .replay_checked(|t| {
            let _ = branchy(t, 2.0, 4.0);
        })
        .unwrap_err();
    assert_eq!((e.node, e.replayed.as_str()), (1, "leaf"));
    assert!(e.reason.contains("4.0 in the program but 3.0 in the replay"), "{}", e.reason);
    assert!(e.reason.contains("an input not set"), "{}", e.reason);
}

#[test]
fn the_replay_check_catches_a_changed_node_count() {
    let tape = Tape::new();
    let _ = tape.scalar(1.0).exp();
    let e = tape
        .replay_checked(|t| {
            let _ = t.scalar(1.0).exp().exp();
        })
        .unwrap_err();
    assert_eq!((e.node, e.replayed.as_str(), e.recorded.as_str()), (2, "(none)", "exp"));
    assert!(e.reason.contains("the replay has 2 nodes, the program records 3"));
}

#[test]
fn try_set_refuses_a_wrong_length_a_computed_node_and_a_foreign_var() {
    let (tape, other) = (Tape::new(), Tape::new());
    let x = tape.var(Tensor::zeros(&[2, 2]));
    let e = tape.try_set(x, &[1.0; 3]).unwrap_err();
    assert_eq!(e.to_string(), "set: shape [2, 2]: 3 values for an input of 4 elements");
    let y = x.sigmoid();
    let e = tape.try_set(y, &[0.0; 4]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "set: shape [2, 2]: node 1 is computed by `sigmoid`, not an input (a var or a constant): \
         a replay computes it from its inputs"
    );
    let foreign = other.var(Tensor::zeros(&[2, 2]));
    let e = tape.try_set(foreign, &[0.0; 4]).unwrap_err();
    assert!(e.to_string().starts_with("set: shape [2, 2]: an operand belongs to another tape"), "{e}");
    // Nothing was written by the refused calls.
    assert_eq!(x.value().data(), &[0.0; 4]);
}

#[test]
fn a_replay_step_refuses_other_params_and_wrong_inputs() {
    let mut p = Params::new();
    p.insert("w", Tensor::ones(&[2]));
    let step = ReplayStep::record(&p, &[&Tensor::zeros(&[2])], |v, io| (v.get(0) * io[0]).sum());
    let e = step.run(&p, &[&[1.0]]).unwrap_err();
    assert_eq!(e.to_string(), "set: shape [2]: 1 values for an input of 2 elements");
    let e = step.run(&p, &[]).unwrap_err();
    assert!(e.to_string().contains("0 inputs given, the step was recorded with 1"), "{e}");
    let e = step.run(&p.clone(), &[&[1.0, 2.0]]).unwrap_err();
    assert!(e.to_string().contains("other Params"), "{e}");
    assert_eq!(step.run(&p, &[&[1.0, 2.0]]).unwrap().wrt(step.vars().get(0)).data(), &[1.0, 2.0]);
    // A parameter replaced by one of the same size and another shape.
    *p.get_mut("w").unwrap() = Tensor::ones(&[2, 1]);
    let e = step.run(&p, &[&[1.0, 2.0]]).unwrap_err();
    assert_eq!(e.to_string(), "set: shape [2]: node 0 was recorded with this shape, the new value has shape [2, 1]");
}

/// A loss of more than one element cannot be swept: `run` says so (it
/// returns a Result) rather than panicking in the backward, and runs nothing.
#[test]
fn a_replay_step_with_a_non_scalar_loss_is_an_error_at_run() {
    let mut p = Params::new();
    p.insert("w", Tensor::ones(&[2]));
    let step = ReplayStep::record(&p, &[&Tensor::zeros(&[2])], |v, io| v.get(0) * io[0]);
    let e = step.run(&p, &[&[1.0, 2.0]]).unwrap_err();
    assert!(e.to_string().starts_with("replay: shape [2]: the loss (node 2) has 2 elements"), "{e}");
    assert_eq!(step.tape().node(2).value().data(), &[0.0, 0.0], "nothing was replayed");
}

#[test]
fn checked_mode_finds_the_first_non_finite_value_again_after_a_replay() {
    let tape = Tape::checked();
    let x = tape.scalar(1.0);
    let _ = x.ln() * 2.0;
    assert!(tape.check().is_ok());
    tape.set(x, &[-1.0]); // ln(-1) = NaN
    tape.replay();
    assert_eq!(tape.check().unwrap_err().node, 1);
    tape.set(x, &[2.0]);
    tape.replay();
    assert!(tape.check().is_ok(), "the anomaly is forgotten when the replay no longer makes it");
}

/// The index inputs of `pick`, `index_select` and `gather` are constants a
/// replay reads as positions: `try_set` checks each new index against the
/// op that reads it (a whole number in `0..extent`), so NaN, -1, 1.5 and
/// out-of-range indices are errors naming the op and the shapes, the old
/// indices stay, and a replay never reads out of range. A valid set moves
/// the read as a fresh recording with those indices does.
#[test]
fn set_checks_the_indices_of_pick_index_select_and_gather() {
    let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(data.to_vec(), &[2, 3]));
    let reads = [
        ("pick", x.pick(&[0, 1]), x.pick(&[2, 0])),
        ("index_select", x.index_select(1, &[0, 1]), x.index_select(1, &[2, 0])),
        ("gather", x.gather(1, &[0, 1], &[2, 1]), x.gather(1, &[2, 0], &[2, 1])),
    ];
    for (op, y, fresh) in reads {
        let idx = tape.node(y.index() - 1); // recorded just before the read
        let before = y.value();
        // Second order reads the index node too: d sum(y^2)/dx = 2 x at the reads.
        let g2 = y.square().sum().grad_graph().unwrap().wrt(x);
        for bad in [f64::NAN, -1.0, 3.0, 1.5, f64::INFINITY, 1e300] {
            let e = tape.try_set(idx, &[bad, 0.0]).expect_err(op).to_string();
            assert!(e.starts_with("set: shapes [2, 3] and [2"), "{op}: {e}");
            assert!(e.contains(&format!("`{op}")) && e.contains(&format!("{bad:?}")), "{op}: {e}");
            assert_eq!(idx.value().data(), &[0.0, 1.0], "{op}: a refused set changes nothing");
        }
        tape.replay();
        assert_eq!(y.value(), before, "{op}");
        tape.set(idx, &[2.0, 0.0]);
        tape.replay();
        assert_eq!(y.value(), fresh.value(), "{op}: a valid set reads the new positions");
        let g = y.sum().backward().wrt(x);
        assert_eq!(g, fresh.sum().backward().wrt(x), "{op}");
        let fresh2 = fresh.square().sum().grad_graph().unwrap().wrt(x).value();
        assert_eq!(g2.value(), fresh2, "{op}: second order after the set");
        // 2 x where read: (0, 2) and (1, 0); index_select reads both columns in every row.
        let want: &[f64] =
            if op == "index_select" { &[2.0, 0.0, 6.0, 8.0, 0.0, 12.0] } else { &[0.0, 0.0, 6.0, 8.0, 0.0, 0.0] };
        assert_eq!(fresh2.data(), want, "{op}");
    }
}
