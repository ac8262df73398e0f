//! Params, layers, initialisation and the sine program, against truths
//! computed independently of the code under test.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::nn::{Activation, Init, MlpSpec, ParamVars, Params};
use tapegrad::notes::manual::{HiddenLayer, ManualMlp, OutputLayer};
use tapegrad::notes::sine::{self, Engine, TapeSgd};
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::{Tape, Tensor};

// The benches' plain-loops yardstick: a third, independent backward pass.
#[path = "../benches/workloads/sine_loops.rs"]
mod sine_loops;
use sine_loops::LoopsNet;

#[test]
fn params_go_on_the_tape_named_and_in_order() {
    let mlp = MlpSpec::new(&[2, 4, 4, 1]).build(&mut ChaCha12Rng::seed_from_u64(0));
    let names: Vec<&str> = mlp.params().names().collect();
    assert_eq!(names, ["hidden1.w", "hidden1.b", "hidden2.w", "hidden2.b", "out.w", "out.b"]);
    let tape = Tape::new();
    let _x = tape.scalar(1.0); // parameters need not start at node 0
    let vars = mlp.params().on_tape(&tape);
    for (i, (name, t)) in mlp.params().iter().enumerate() {
        let v = vars.get(i);
        assert_eq!(v.name().as_deref(), Some(name));
        assert_eq!(v.index(), i + 1);
        assert_eq!(&v.value(), t);
        assert_eq!(vars.by_name(mlp.params(), name).index(), v.index());
    }
}

#[test]
fn plain_sgd_step_equals_the_hand_written_update() {
    let mut rng = ChaCha12Rng::seed_from_u64(4);
    let mut mlp = MlpSpec::new(&[3, 5, 2]).build(&mut rng);
    let x = Tensor::randn(&[6, 3], &mut rng);
    let t = Tensor::randn(&[6, 2], &mut rng);
    let mut net = ManualMlp::from_params(mlp.params());
    net.forward(&x);
    net.backward(&t);
    net.update(0.3);

    let tape = Tape::new();
    let vars = mlp.params().on_tape(&tape);
    let e = tapegrad::loss::sse_half(mlp.forward(vars, tape.constant(&x)), tape.constant(&t));
    let grads = e.backward();
    Sgd::new(SgdConfig { lr: 0.3, ..Default::default() }).unwrap().step(mlp.params_mut(), vars, &grads).unwrap();
    let d = mlp.params().max_abs_diff(&net.params());
    assert!(d < 1e-13, "{d:e}");
    assert!(
        mlp.params().max_abs_diff(MlpSpec::new(&[3, 5, 2]).build(&mut ChaCha12Rng::seed_from_u64(4)).params()) > 1e-3
    );
}

#[test]
fn a_tape_reused_for_many_steps_stays_the_same_size() {
    // The zero-allocation path: after the first step the arena has its
    // working size and the parameters' Vars sit at the same nodes.
    let mut mlp = MlpSpec::new(&[1, 3, 1]).build(&mut ChaCha12Rng::seed_from_u64(1));
    let mut sgd = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    let mut tape = Tape::new();
    let mut sizes = Vec::new();
    for step in 0..5 {
        tape.clear();
        let vars = mlp.params().on_tape(&tape);
        let x = tape.constant_from_slice(&[0.1 * step as f64], &[1, 1]);
        let t = tape.constant_from_slice(&[0.3], &[1, 1]);
        let e = tapegrad::loss::sse_half(mlp.forward(vars, x), t);
        let grads = e.backward();
        sgd.step(mlp.params_mut(), vars, &grads).unwrap();
        sizes.push((tape.len(), tape.value_count(), vars.get(0).index()));
    }
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
}

#[test]
#[should_panic(expected = "consecutive")]
fn from_vars_rejects_vars_that_are_not_consecutive() {
    let tape = Tape::new();
    let a = tape.scalar(1.0);
    let _gap = tape.scalar(2.0);
    let b = tape.scalar(3.0);
    ParamVars::from_vars(&tape, &[a, b]);
}

#[test]
fn a_missing_name_is_reported_with_the_names_there_are() {
    let mut p = Params::new();
    p.insert("w", Tensor::scalar(1.0));
    let r = std::panic::catch_unwind(|| p["v"].item());
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("\"v\"") && msg.contains("[\"w\"]"), "{msg}");
}

#[test]
fn manual_and_declarative_networks_draw_the_same_weights() {
    let net = ManualMlp::new(&[2, 7, 3, 1], &mut ChaCha12Rng::seed_from_u64(8));
    let mlp = MlpSpec::new(&[2, 7, 3, 1]).build(&mut ChaCha12Rng::seed_from_u64(8));
    assert_eq!(&net.params(), mlp.params());
    // and the layers draw as the notes do: w then b, standard normal
    let mut rng = ChaCha12Rng::seed_from_u64(8);
    let h = HiddenLayer::new(2, 7, &mut rng);
    assert_eq!(h.w, mlp.params()["hidden1.w"]);
    assert_eq!(h.b, mlp.params()["hidden1.b"]);
}

#[test]
fn output_layer_backward_is_the_gradient_of_half_squared_error() {
    // closed form for one linear unit: y = x w + b, E = 0.5 sum (y - t)^2
    let mut out =
        OutputLayer::from_weights(Tensor::from_vec(vec![2.0, -1.0], &[2, 1]), Tensor::from_vec(vec![0.5], &[1]));
    let x = Tensor::from_vec(vec![1.0, 3.0, -2.0, 0.5], &[2, 2]);
    let t = Tensor::from_vec(vec![0.0, 1.0], &[2, 1]);
    out.forward(&x); // y = [2 - 3 + 0.5, -4 - 0.5 + 0.5] = [-0.5, -4]
    let grad_x = out.backward(&t); // delta = [-0.5, -5]
    assert_eq!(out.grad_b.data(), &[-5.5]);
    assert_eq!(out.grad_w.data(), &[1.0 * -0.5 + -2.0 * -5.0, 3.0 * -0.5 + 0.5 * -5.0]);
    assert_eq!(grad_x.data(), &[-1.0, 0.5, -10.0, 5.0]);
}

#[test]
fn activations_on_tape_and_on_tensors_agree_with_their_definitions() {
    let xs = [-3.0, -0.5, 0.0, 0.7, 4.0];
    let tape = Tape::new();
    let v = tape.constant(Tensor::from_vec(xs.to_vec(), &[5]));
    type Definition = fn(f64) -> f64;
    let cases: [(Activation, Definition); 4] = [
        (Activation::Identity, |x| x),
        (Activation::Sigmoid, |x| 1.0 / (1.0 + (-x).exp())),
        (Activation::Tanh, |x| (x.exp() - (-x).exp()) / (x.exp() + (-x).exp())),
        (Activation::Relu, |x| if x > 0.0 { x } else { 0.0 }),
    ];
    for (act, f) in cases {
        let on_tape = act.apply(v).value();
        let plain = act.apply_tensor(&Tensor::from_vec(xs.to_vec(), &[5]));
        for (i, &x) in xs.iter().enumerate() {
            assert!((on_tape.data()[i] - f(x)).abs() < 1e-15, "{act:?}({x})");
            assert_eq!(on_tape.data()[i], plain.data()[i]);
        }
    }
}

/// Sample mean and standard deviation.
fn moments(t: &Tensor) -> (f64, f64) {
    let n = t.len() as f64;
    let mean = t.sum() / n;
    (mean, (t.data().iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
}

#[test]
fn initialisers_have_their_published_spread() {
    let mut rng = ChaCha12Rng::seed_from_u64(0);
    let (fan_in, fan_out) = (200, 300);
    let shape = [fan_in, fan_out]; // 60,000 draws: sample std within ~1% of the truth
    let expect = [
        (Init::StandardNormal, 1.0),
        (Init::XavierNormal, (2.0 / 500.0f64).sqrt()),
        (Init::XavierUniform, (6.0 / 500.0f64).sqrt() / 3f64.sqrt()), // U[-a, a] has std a / sqrt 3
        (Init::HeNormal, (2.0 / 200.0f64).sqrt()),
        (Init::Uniform(-1.0, 1.0), 1.0 / 3f64.sqrt()),
    ];
    for (init, std) in expect {
        let (m, s) = moments(&init.draw(&shape, fan_in, fan_out, &mut rng));
        assert!(m.abs() < 0.02 * std.max(0.1), "{init:?}: mean {m}");
        assert!((s / std - 1.0).abs() < 0.02, "{init:?}: std {s}, expected {std}");
    }
    let u = Init::XavierUniform.draw(&shape, fan_in, fan_out, &mut rng);
    let a = (6.0 / 500.0f64).sqrt();
    assert!(u.data().iter().all(|v| v.abs() <= a));
    assert_eq!(Init::Zeros.draw(&[3], 1, 3, &mut rng).data(), &[0.0; 3]);
}

#[test]
fn sine_data_is_the_notes_grid() {
    let (x, t) = sine::data();
    assert_eq!(x.len(), 63); // 0, 0.1, ..., 6.2 < 2 pi
    assert!((x[62] - 6.2).abs() < 1e-12 && x[62] < 2.0 * std::f64::consts::PI);
    assert!(x.iter().zip(&t).all(|(x, t)| *t == x.sin()));
}

#[test]
fn sine_engines_agree_and_learn() {
    let tape = sine::train::<TapeSgd>(3, 600, 0.1, 0);
    // two independent hand-written backward passes: the notes' layers and plain loops
    for (other, run) in [
        (ManualMlp::NAME, sine::train::<ManualMlp>(3, 600, 0.1, 0)),
        (LoopsNet::NAME, sine::train::<LoopsNet>(3, 600, 0.1, 0)),
    ] {
        let d = tape.params.max_abs_diff(&run.params);
        assert!(d < 1e-10, "{other}: weights differ by {d:e}");
        for (a, b) in tape.errors.iter().zip(&run.errors) {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{other}: errors {a} vs {b}");
        }
    }
    // the error falls well below its first value (it starts near 0.22)
    assert!(tape.errors[599] < 0.25 * tape.errors[0], "{} vs {}", tape.errors[599], tape.errors[0]);
    // a different seed is a different run
    assert!(sine::train::<TapeSgd>(3, 5, 0.1, 1).errors[0] != tape.errors[0]);
}

#[test]
fn the_loops_yardstick_starts_from_the_given_weights_and_steps_like_the_tape() {
    let mlp = sine::network(3, &mut ChaCha12Rng::seed_from_u64(0));
    let mut loops = LoopsNet::start(mlp.clone());
    assert_eq!(loops.params().max_abs_diff(mlp.params()), 0.0, "from_params / params round trip");
    let mut tape = TapeSgd::start(mlp);
    for k in 0..10 {
        let x = 0.5 * k as f64;
        let (a, b) = (loops.step(x, x.sin(), 0.1), tape.step(x, x.sin(), 0.1));
        assert!((a - b).abs() < 1e-14, "step {k}: error {a} vs {b}");
    }
    assert!(loops.params().max_abs_diff(tape.mlp.params()) < 1e-14);
}

#[test]
#[should_panic(expected = "need at least an input and an output size, got [3]")]
fn an_mlp_needs_two_sizes() {
    MlpSpec::new(&[3]).build(&mut ChaCha12Rng::seed_from_u64(0));
}

#[test]
fn a_batch_of_the_wrong_width_names_the_op_and_the_shapes() {
    let mlp = MlpSpec::new(&[3, 4, 1]).build(&mut ChaCha12Rng::seed_from_u64(0));
    let tape = Tape::new();
    let vars = mlp.params().on_tape(&tape);
    let x = tape.constant(Tensor::ones(&[5, 2])); // 2 features, the network wants 3
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mlp.forward(vars, x).len()));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("[5, 2]") && msg.contains("[3, 4]"), "{msg}");
}
