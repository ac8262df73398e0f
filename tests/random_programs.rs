//! Whole programs, not single ops: proptest writes random straight-line
//! programs over inputs of different shapes ([2, 3], [3], a scalar, [3, 3])
//! from every op of the registry (`tapegrad::ops::registry::program`: each
//! step applies a registered op to earlier results, moved into its domain
//! and fitted to its shapes, mixing broadcasting, reductions and reuse),
//! and gradcheck compares the tape's gradients of the program with central
//! differences. This is what catches a sweep that visits nodes in the
//! wrong order or loses a contribution when a node has many consumers.
//! Ops whose check excludes central differences (`detach`) sit out the
//! gradcheck and take part in the rest.
//!
//! The same programs check replay: recorded on one set of inputs, then
//! replayed on another, they must give bit for bit the values and
//! gradients of a fresh recording on the second set.

mod common;

use common::{assert_gradcheck, away_from_zero, tensor_of};
use proptest::prelude::*;
use tapegrad::ops::registry::{OpCase, Step, cases, program};
use tapegrad::{Tape, Tensor, Var};

/// The cases the programs use, and of them those central differences can check.
fn program_cases(central_only: bool) -> Vec<&'static OpCase> {
    cases().filter(|c| c.checks.programs && (c.checks.central || !central_only)).collect()
}

/// The program over the cases central differences can check.
fn run<'t>(_: &'t Tape, inputs: &[Var<'t>], steps: &[Step]) -> Var<'t> {
    program(inputs, steps, &program_cases(true))
}

/// The program over every case of the programs.
fn run_every_op<'t>(_: &'t Tape, inputs: &[Var<'t>], steps: &[Step]) -> Var<'t> {
    program(inputs, steps, &program_cases(false))
}

/// Records `build` on `first`, sets the inputs to `second` and replays;
/// every node's value and every input's gradient must have the bits of a
/// fresh recording on `second`.
fn assert_replay_equals_fresh(
    build: impl for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
    first: &[Tensor],
    second: &[Tensor],
) {
    let tape = Tape::new();
    let inputs: Vec<Var<'_>> = first.iter().map(|t| tape.var(t)).collect();
    let y = build(&tape, &inputs);
    for (v, t) in inputs.iter().zip(second) {
        tape.set(*v, t.data());
    }
    tape.replay();
    let fresh = Tape::new();
    let fresh_inputs: Vec<Var<'_>> = second.iter().map(|t| fresh.var(t)).collect();
    let fy = build(&fresh, &fresh_inputs);
    assert_eq!(tape.len(), fresh.len(), "the program is straight-line: same nodes");
    let bits = |t: Tensor| t.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for i in 0..tape.len() {
        assert_eq!(bits(tape.node(i).value()), bits(fresh.node(i).value()), "value of node {i}");
    }
    let (g, fg) = (y.backward(), fy.backward());
    for (v, f) in inputs.iter().zip(&fresh_inputs) {
        assert_eq!(bits(g.wrt(*v)), bits(fg.wrt(*f)), "gradient of input node {}", v.index());
    }
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn programs_gradcheck(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        d in tensor_of(vec![3, 3], away_from_zero()),
        steps in steps(),
    ) {
        assert_gradcheck(|tape, v| run(tape, v, &steps), &[a, b, c, d]);
    }

    #[test]
    fn programs_over_every_op_replay_as_fresh_recordings(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        d in tensor_of(vec![3, 3], away_from_zero()),
        a2 in tensor_of(vec![2, 3], away_from_zero()),
        b2 in tensor_of(vec![3], away_from_zero()),
        c2 in tensor_of(vec![], away_from_zero()),
        d2 in tensor_of(vec![3, 3], away_from_zero()),
        steps in steps(),
    ) {
        assert_replay_equals_fresh(|tape, v| run_every_op(tape, v, &steps), &[a, b, c, d], &[a2, b2, c2, d2]);
    }

    /// Empty tensors ([0, 3], [3, 0], [0]) next to a scalar and a vector:
    /// the programs run, and the non-empty inputs' gradients still check.
    #[test]
    fn programs_with_empty_inputs_gradcheck(
        c in tensor_of(vec![], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        steps in steps(),
    ) {
        let (e1, e2, e3) = (Tensor::zeros(&[0, 3]), Tensor::zeros(&[3, 0]), Tensor::zeros(&[0]));
        assert_gradcheck(|tape, v| run(tape, v, &steps), &[e1, e2, e3, b, c]);
    }
}
