//! Whole programs, not single ops: proptest writes random straight-line
//! programs over three inputs of different shapes ([2, 3], [3] and a
//! scalar), mixing broadcasting, reductions and reuse of earlier results,
//! and gradcheck compares the tape's gradients of the program with central
//! differences. This is what catches a sweep that visits nodes in the
//! wrong order or loses a contribution when a node has many consumers.
//!
//! The second program family uses every op the tape has: matmul, t,
//! reshape, log_softmax, pick, relu / abs / maximum (on random inputs,
//! which sit at a kink with probability ~0), ln / sqrt / powf on values
//! moved into their domains, detach (where it leaves the function
//! unchanged, so central differences can agree), and a custom op; ops whose shapes do
//! not fit fall back through their `try_` forms. Both families also run on
//! empty tensors.
//!
//! The same programs check replay: recorded on one set of inputs, then
//! replayed on another, they must give bit for bit the values and
//! gradients of a fresh recording on the second set.

mod common;
use common::Cube;

use common::{assert_gradcheck, away_from_zero, tensor_of, weighted_sum};
use proptest::prelude::*;
use tapegrad::{Tape, Tensor, Var};

/// One step: an op code and two operand picks (indices into the values
/// computed so far, taken modulo their count).
type Step = (u8, usize, usize);

/// Runs `program` on the inputs and returns a scalar that depends on every
/// intermediate, so each one's gradient is checked.
fn run<'t>(tape: &'t Tape, inputs: &[Var<'t>], program: &[Step]) -> Var<'t> {
    let mut vals: Vec<Var<'t>> = inputs.to_vec();
    for &(op, i, j) in program {
        let (x, y) = (vals[i % vals.len()], vals[j % vals.len()]);
        let v = match op % 10 {
            0 => x.sin(),
            1 => x.tanh() * y,
            2 => x + y,
            3 => x - y.sigmoid(),
            4 => x / (y.square() + 1.0),
            5 => (x * 0.5).exp(),
            6 if x.shape().len() == 2 => x.sum_axis(0, false), // [2, 3] -> [3]
            7 if x.shape().len() == 2 => x.mean_axis(1, true) * y.tanh(), // [2, 1] broadcasts
            8 if !x.is_empty() => x.mean() + y,                // the mean of nothing is NaN
            _ => x * x.cos(),
        };
        vals.push(v);
    }
    finish(tape, &vals)
}

/// `sum_k weighted_sum(tanh(v_k))`: every value reaches the output.
fn finish<'t>(tape: &'t Tape, vals: &[Var<'t>]) -> Var<'t> {
    let terms: Vec<Var<'t>> = vals.iter().map(|v| weighted_sum(tape, v.tanh())).collect();
    terms[1..].iter().fold(terms[0], |acc, t| acc + *t)
}

/// Runs a program over every op; a binary op whose shapes do not
/// broadcast keeps its first operand.
fn run_every_op<'t>(tape: &'t Tape, inputs: &[Var<'t>], program: &[Step]) -> Var<'t> {
    let mut vals: Vec<Var<'t>> = inputs.to_vec();
    for &(op, i, j) in program {
        let (x, y) = (vals[i % vals.len()], vals[j % vals.len()]);
        let two_d = x.shape().len() == 2;
        let v = match op % 16 {
            0 if two_d => x.matmul(x.t()).matmul(x) * 0.3, // [m, n] -> [m, n]
            1 if two_d => x.t().reshape(&x.shape()),       // a permutation of the elements
            2 if two_d => x.log_softmax(),
            3 if two_d && x.shape()[1] > 0 => {
                let rows: Vec<usize> = (0..x.shape()[0]).map(|r| (r + j) % x.shape()[1]).collect();
                x.pick(&rows).reshape(&[x.shape()[0], 1]) // [m, 1] broadcasts back
            }
            4 => x.relu() + x.abs() * 0.5,
            5 => x.try_maximum(y).unwrap_or(x),
            6 => (x.square() + 0.5).ln(),
            7 => (x.square() + 0.5).sqrt(),
            8 => (x.square() + 0.5).powf(1.5) * 0.2,
            9 => x.powi(3) * 0.1,
            // detach at a point where it does not change the function (a
            // detached 0 times y), so central differences can agree: the
            // gradient through the detached copies must be exactly 0.
            10 => x.try_add((y.detach() - y.detach()) * y).unwrap_or(x),
            11 => tape.custom(Cube, &[x.tanh()]),
            12 => x.try_sub(y).unwrap_or(x),
            13 => x.try_div(y.square() + 1.0).unwrap_or(x),
            14 => x.reshape(&[x.len()]).sum() * 0.1 + x,
            _ => x.sigmoid().try_mul(y.cos()).unwrap_or(x),
        };
        vals.push(v);
    }
    finish(tape, &vals)
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

fn program() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn programs_gradcheck(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        program in program(),
    ) {
        assert_gradcheck(|tape, v| run(tape, v, &program), &[a, b, c]);
    }

    #[test]
    fn programs_over_every_op_gradcheck(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        d in tensor_of(vec![3, 3], away_from_zero()),
        program in program(),
    ) {
        assert_gradcheck(|tape, v| run_every_op(tape, v, &program), &[a, b, c, d]);
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
        program in program(),
    ) {
        assert_replay_equals_fresh(|tape, v| run(tape, v, &program), &[a.clone(), b.clone(), c.clone()], &[a2.clone(), b2.clone(), c2.clone()]);
        assert_replay_equals_fresh(|tape, v| run_every_op(tape, v, &program), &[a, b, c, d], &[a2, b2, c2, d2]);
    }

    /// Empty tensors ([0, 3], [3, 0], [0]) next to a scalar: every op
    /// handles them, and the scalar's gradient still checks.
    #[test]
    fn programs_on_empty_tensors_gradcheck(
        c in tensor_of(vec![], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        program in program(),
    ) {
        let (e1, e2, e3) = (Tensor::zeros(&[0, 3]), Tensor::zeros(&[3, 0]), Tensor::zeros(&[0]));
        assert_gradcheck(|tape, v| run(tape, v, &program), &[e1.clone(), b.clone(), c.clone()]);
        assert_gradcheck(|tape, v| run_every_op(tape, v, &program), &[e1, e2, e3, b, c]);
    }
}
