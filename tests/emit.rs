//! The generated code (checked in under `examples/compiled/` and
//! `src/notes/compiled/`, compiled into this test binary) against the tape
//! it was emitted from, eager and replayed, on random inputs: the same bits
//! for the value and every gradient. The truth here is the tape's own
//! arithmetic (itself tested against closed forms, central differences and
//! forward mode in each op's file): the claim under test is "the emitted
//! code computes what the tape computes", bit for bit.

mod common;
mod emit_programs;

use common::CubeRule;
use emit_programs as programs;
use programs::bits;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::emit::{EmitError, Module};
use tapegrad::{Tape, Tensor, Var};

#[allow(dead_code)]
mod neuron {
    include!("../examples/compiled/neuron.rs");
}
#[allow(dead_code)]
mod pendulum {
    include!("../examples/compiled/pendulum.rs");
}
#[allow(dead_code)]
mod mlp {
    include!("../examples/compiled/mlp.rs");
}
#[allow(dead_code)]
mod random {
    include!("../examples/compiled/random.rs");
}

/// The tape's value and gradients (as bits), eager: recorded and swept.
fn eager(out: Var<'_>, args: &[Var<'_>]) -> (u64, Vec<Vec<u64>>) {
    let g = out.backward();
    (out.item().to_bits(), args.iter().map(|&a| bits(g.wrt(a).data())).collect())
}

/// The same after replaying `tape` with `values` written into `args`.
fn replayed(tape: &Tape, out: Var<'_>, args: &[Var<'_>], values: &[&[f64]]) -> (u64, Vec<Vec<u64>>) {
    for (&a, v) in args.iter().zip(values) {
        tape.set(a, v);
    }
    tape.replay();
    eager(out, args)
}

#[test]
fn the_neuron_is_bit_identical_to_the_tape() {
    let mut rng = StdRng::seed_from_u64(1);
    let template = Tape::new();
    let (t_out, t_args) = programs::neuron(&template, programs::NEURON_AT);
    for k in 0..200 {
        let v: [f64; 5] = std::array::from_fn(|_| rng.random_range(-4.0..4.0));
        let v = if k == 0 { programs::NEURON_AT } else { v };
        let tape = Tape::new();
        let (out, args) = programs::neuron(&tape, v);
        let want = eager(out, &args);
        let ins: Vec<&[f64]> = v.iter().map(std::slice::from_ref).collect();
        assert_eq!(replayed(&template, t_out, &t_args, &ins), want);
        let mut d = [0.0; 5];
        let [d0, d1, d2, d3, d4] = &mut d;
        let y = neuron::neuron_grad(v[0], v[1], v[2], v[3], v[4], d0, d1, d2, d3, d4);
        assert_eq!(neuron::neuron(v[0], v[1], v[2], v[3], v[4]).to_bits(), want.0);
        assert_eq!((y.to_bits(), d.iter().map(|x| vec![x.to_bits()]).collect::<Vec<_>>()), want, "at {v:?}");
    }
    // micrograd's published numbers for this neuron: o = 0.7071 (1/sqrt 2), dw1 = 1.0, dx1 = -1.5.
    let mut d = [0.0; 5];
    let [d0, d1, d2, d3, d4] = &mut d;
    let [x1, x2, w1, w2, b] = programs::NEURON_AT;
    let o = neuron::neuron_grad(x1, x2, w1, w2, b, d0, d1, d2, d3, d4);
    assert!(
        (o - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-4 && (d[2] - 1.0).abs() < 1e-4 && (d[0] + 1.5).abs() < 1e-4,
        "{o} {d:?}"
    );
}

#[test]
fn the_pendulum_is_bit_identical_to_the_tape() {
    let mut rng = StdRng::seed_from_u64(2);
    let template = Tape::new();
    let (t_q, t_args) = programs::pendulum(&template, 0.5, 0.0, programs::PENDULUM_STEPS);
    for _ in 0..20 {
        let (q0, p0) = (rng.random_range(-2.0..2.0), rng.random_range(-1.0..1.0));
        let tape = Tape::new();
        let (q, args) = programs::pendulum(&tape, q0, p0, programs::PENDULUM_STEPS);
        let want = eager(q, &args);
        assert_eq!(replayed(&template, t_q, &t_args, &[&[q0], &[p0]]), want);
        let (mut dq0, mut dp0) = (0.0, 0.0);
        let y = pendulum::pendulum_grad(q0, p0, &mut dq0, &mut dp0);
        assert_eq!(pendulum::pendulum(q0, p0).to_bits(), want.0);
        assert_eq!((y.to_bits(), vec![vec![dq0.to_bits()], vec![dp0.to_bits()]]), want);
        // The same chain emitted in chunks of 250 (`Module::chunk`).
        let y = pendulum::pendulum_chunked_grad(q0, p0, &mut dq0, &mut dp0);
        assert_eq!(pendulum::pendulum_chunked(q0, p0).to_bits(), want.0);
        assert_eq!((y.to_bits(), vec![vec![dq0.to_bits()], vec![dp0.to_bits()]]), want);
    }
}

#[test]
fn the_sine_step_is_bit_identical_to_the_tape() {
    use tapegrad::notes::compiled::step;
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..50 {
        let w: Vec<Vec<f64>> =
            [3, 3, 3, 1].iter().map(|&n| (0..n).map(|_| rng.random_range(-3.0..3.0)).collect()).collect();
        let (x, t) = (rng.random_range(0.0..6.3), rng.random_range(-1.0..1.0));
        let tape = Tape::new();
        let shapes: [&[usize]; 4] = [&[1, 3], &[3], &[3, 1], &[1]];
        let args: Vec<Var<'_>> = w.iter().zip(shapes).map(|(w, s)| tape.var_from_slice(w, s)).collect();
        let xv = tape.constant_from_slice(&[x], &[1, 1]);
        let tv = tape.constant_from_slice(&[t], &[1, 1]);
        let h = (xv.matmul(args[0]) + args[1]).sigmoid();
        let out = tapegrad::loss::sse_half(h.matmul(args[2]) + args[3], tv);
        let want = eager(out, &args);
        let (mut g0, mut g1, mut g2, mut g3) = ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 1]);
        let arr3 = |v: &[f64]| -> [f64; 3] { v.try_into().unwrap() };
        let (a0, a1, a2) = (arr3(&w[0]), arr3(&w[1]), arr3(&w[2]));
        let y = step::sine_step_grad(&a0, &a1, &a2, &[w[3][0]], &[x], &[t], &mut g0, &mut g1, &mut g2, &mut g3);
        assert_eq!(step::sine_step(&a0, &a1, &a2, &[w[3][0]], &[x], &[t]).to_bits(), want.0);
        assert_eq!((y.to_bits(), vec![bits(&g0), bits(&g1), bits(&g2), bits(&g3)]), want);
    }
}

/// The MLP's arrays are too large for a test thread's stack: run it on a
/// thread with room.
#[test]
fn the_mlp_step_matches_the_tape() {
    std::thread::Builder::new().stack_size(64 << 20).spawn(mlp_check).unwrap().join().unwrap();
}

fn mlp_check() {
    let sizes = [784, 128, 64, 10];
    let mut rng = StdRng::seed_from_u64(4);
    let w: Vec<Vec<f64>> =
        (0..3).map(|l| Tensor::randn(&[sizes[l], sizes[l + 1]], &mut rng).scale(0.05).data().to_vec()).collect();
    let b: Vec<Vec<f64>> = (0..3).map(|l| Tensor::randn(&[sizes[l + 1]], &mut rng).data().to_vec()).collect();
    let x = Tensor::rand(&[programs::MLP_BATCH, 784], &mut rng).data().to_vec();
    let t = Tensor::rand(&[programs::MLP_BATCH, 10], &mut rng).data().to_vec();
    let tape = Tape::new();
    let (loss, args, _) = programs::mlp(&tape, &w, &b, &x, &t);
    let want = eager(loss, &args);
    let mut g: Vec<Vec<f64>> = args.iter().map(|a| vec![0.0; a.len()]).collect();
    let [g0, g1, g2, g3, g4, g5] = &mut g[..] else { unreachable!() };
    let y = mlp::mlp_step_grad(
        arr(&w[0]),
        arr(&b[0]),
        arr(&w[1]),
        arr(&b[1]),
        arr(&w[2]),
        arr(&b[2]),
        arr(&x),
        arr(&t),
        arr_mut(g0),
        arr_mut(g1),
        arr_mut(g2),
        arr_mut(g3),
        arr_mut(g4),
        arr_mut(g5),
    );
    assert_eq!((y.to_bits(), g.iter().map(|g| bits(g)).collect::<Vec<_>>()), want);
}

fn arr<const N: usize>(v: &[f64]) -> &[f64; N] {
    v.try_into().unwrap()
}

fn arr_mut<const N: usize>(v: &mut [f64]) -> &mut [f64; N] {
    v.try_into().unwrap()
}

type Prog = fn(f64, f64, &[f64; 3], &[f64; 6], &mut f64, &mut f64, &mut [f64; 3], &mut [f64; 6]) -> f64;
const PROGS: [Prog; programs::RANDOM_PROGRAMS] = [
    random::prog_0_grad,
    random::prog_1_grad,
    random::prog_2_grad,
    random::prog_3_grad,
    random::prog_4_grad,
    random::prog_5_grad,
    random::prog_6_grad,
    random::prog_7_grad,
    random::prog_8_grad,
    random::prog_9_grad,
    random::prog_10_grad,
    random::prog_11_grad,
];

/// Random programs over the op registry's cases (every op with an emit
/// rule but `argmax`/`argmin`, which sit out random programs; their
/// emitted winner loop is `max_axis`'s, which the programs run): value and gradients are the tape's bit for bit (the issue asks
/// 1e-12; they are exact, NaNs included: a NaN input gives the same NaNs,
/// to the payload).
#[test]
fn random_programs_agree_with_the_tape() {
    // The programs' steps take the cases in turn: together they hold every one.
    assert!(programs::RANDOM_PROGRAMS * programs::RANDOM_STEPS >= programs::random_cases().len());
    let mut rng = StdRng::seed_from_u64(5);
    for (k, prog) in PROGS.iter().enumerate() {
        for trial in 0..30 {
            let mut data: Vec<Vec<f64>> =
                programs::RANDOM_SHAPES.iter().map(|s| Tensor::randn(s, &mut rng).data().to_vec()).collect();
            if trial == 0 {
                data[2][1] = f64::NAN; // a NaN input gives the same NaNs as the tape
            }
            let tape = Tape::new();
            let (out, args) = programs::random_program(&tape, k, [&data[0], &data[1], &data[2], &data[3]]);
            let g = out.backward();
            let (mut da, mut db, mut dv, mut dm) = (0.0, 0.0, [0.0; 3], [0.0; 6]);
            let y = prog(data[0][0], data[1][0], arr(&data[2]), arr(&data[3]), &mut da, &mut db, &mut dv, &mut dm);
            same_bits(y, out.item(), k, "value");
            for (got, a) in [&[da][..], &[db], &dv, &dm].into_iter().zip(&args) {
                for (x, w) in got.iter().zip(g.wrt(*a).data()) {
                    same_bits(*x, *w, k, "gradient");
                }
            }
        }
    }
}

fn same_bits(got: f64, want: f64, k: usize, what: &str) {
    assert_eq!(got.to_bits(), want.to_bits(), "program {k}: {what} {got:e} vs the tape's {want:e}");
}

/// A user op with no inputs still computes its value (a replay runs it
/// again), so it is not an input to bake in as a constant: without an emit
/// rule it is `NoRule`, and it cannot be an argument.
#[test]
fn a_user_op_with_no_inputs_is_not_baked_in_as_a_constant() {
    struct Seven;
    impl tapegrad::ops::custom::CustomOp for Seven {
        fn name(&self) -> &'static str {
            "seven"
        }
        fn forward(&self, _: &[Tensor]) -> Tensor {
            Tensor::scalar(7.0)
        }
        fn backward(&self, _: &[Tensor], _: &Tensor, _: &Tensor) -> Vec<Tensor> {
            Vec::new()
        }
    }
    let tape = Tape::new();
    let x = tape.scalar(2.0).named("x");
    let seven = tape.custom(Seven, &[]);
    let y = x * seven;
    let e = Module::new().function("f", y, &[x]).unwrap_err();
    assert_eq!(e, EmitError::NoRule { op: "seven".into(), node: 1, shapes: vec![] });
    let e = Module::new().function("f", y, &[x, seven]).unwrap_err();
    assert_eq!(e, EmitError::NotAnInput { node: 1, op: "seven".into() });
}

#[test]
fn a_user_op_without_an_emit_rule_is_an_error_naming_it() {
    use tapegrad::ops::elementwise::UnaryFn;
    let tape = Tape::new();
    let x = tape.scalar(2.0).named("x");
    let y = x.apply(CubeRule, 0.0).sin();
    let e = Module::new().function("f", y, &[x]).unwrap_err();
    assert_eq!(e, EmitError::NoRule { op: "cube".into(), node: 1, shapes: vec![vec![]] });
    assert!(e.to_string().contains("op `cube`"), "{e}");
    // With its source text, the same op emits.
    struct Cube2;
    impl UnaryFn for Cube2 {
        const NAME: &'static str = "cube2";
        const TEXT: &'static str = "3x^2";
        const F_SRC: Option<&'static str> = Some("|x, _| x * x * x");
        const DF_SRC: Option<&'static str> = Some("|x, _, _| 3.0 * x * x");
        fn f(x: f64, _: f64) -> f64 {
            x * x * x
        }
        fn df(x: f64, _: f64, _: f64) -> f64 {
            3.0 * x * x
        }
    }
    let src = Module::new().function("g", x.apply(Cube2, 0.0), &[x]).unwrap().to_source();
    assert!(src.contains("let v3 = x * x * x;"), "{src}");
}

/// Ops without an emit rule, on purpose: `cube` is the registry's user op
/// (`Tape::custom`), which has none, like any user op that does not write one.
const WITHOUT_EMIT_RULE: &[&str] = &["cube"];

/// Every op of the registry emits (forward and backward), so an op added
/// later without an emit rule fails here by name, unless it is listed in
/// [`WITHOUT_EMIT_RULE`] (and an op listed there that gains a rule fails too).
#[test]
fn every_registry_op_has_an_emit_rule() {
    let mut missing = vec![];
    for case in tapegrad::ops::registry::cases() {
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = case.inputs(1).iter().map(|t| tape.var(t)).collect();
        let y = tapegrad::ops::registry::weighted_sum((case.run)(&vars));
        match Module::new().function("f", y, &vars) {
            Ok(_) => assert!(!WITHOUT_EMIT_RULE.contains(&case.name), "{} emits: take it off the list", case.name),
            Err(e) if !WITHOUT_EMIT_RULE.contains(&case.name) => missing.push(format!("{}: {e}", case.name)),
            Err(_) => {}
        }
    }
    assert!(missing.is_empty(), "ops without an emit rule:\n{}", missing.join("\n"));
}

/// The locals the op rules write into generated code (`for k in`, `let
/// (lane, s) =`, `let mut total`), found in the emitted source of every
/// registry case: the names a node must never be given.
fn locals_the_rules_write() -> std::collections::BTreeSet<String> {
    let ident = |t: &str| t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut locals = std::collections::BTreeSet::new();
    for case in tapegrad::ops::registry::cases() {
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = case.inputs(1).iter().map(|t| tape.var(t)).collect();
        let y = tapegrad::ops::registry::weighted_sum((case.run)(&vars));
        let Ok(m) = Module::new().function("f", y, &vars) else { continue };
        for line in m.to_source().lines().map(str::trim) {
            let bound = if let Some(rest) = line.strip_prefix("for ") {
                vec![ident(rest)]
            } else if let Some(rest) = line.strip_prefix("let ") {
                let rest = rest.strip_prefix("mut ").unwrap_or(rest);
                match rest.strip_prefix('(') {
                    Some(tuple) => tuple.split(')').next().unwrap().split(',').map(|t| ident(t.trim())).collect(),
                    None => vec![ident(rest)],
                }
            } else {
                vec![]
            };
            locals.extend(bound);
        }
    }
    // Node values and adjoints are named by `Names` itself.
    let node_name = |l: &String| (l.starts_with('v') && l[1..].parse::<u32>().is_ok()) || l.starts_with("d_");
    locals.retain(|l| !l.is_empty() && !node_name(l));
    locals
}

/// A node named like one of those locals is renamed, so no loop of a rule
/// shadows it: each local, given as the name of every input of every
/// registry case, never comes out as a parameter's name.
#[test]
fn a_node_named_like_a_local_the_rules_write_is_renamed() {
    let locals = locals_the_rules_write();
    for must in ["k", "o", "s", "lane", "win", "total", "i0"] {
        assert!(locals.contains(must), "{must} is not found among {locals:?}: the search is broken");
    }
    for local in &locals {
        for case in tapegrad::ops::registry::cases() {
            let tape = Tape::new();
            let vars: Vec<Var<'_>> = case.inputs(1).iter().map(|t| tape.var(t).named(local)).collect();
            let y = tapegrad::ops::registry::weighted_sum((case.run)(&vars));
            let Ok(m) = Module::new().function("f", y, &vars) else { continue };
            let src = m.to_source();
            let signature = src.lines().find(|l| l.starts_with("pub fn f(")).expect("the value function");
            assert!(
                !signature.contains(&format!("({local}: ")),
                "{}: an input named {local:?}: {signature}",
                case.name
            );
        }
    }
}
