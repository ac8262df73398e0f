//! Whole programs, not single ops: proptest writes random straight-line
//! programs over three inputs of different shapes ([2, 3], [3] and a
//! scalar), mixing broadcasting, reductions and reuse of earlier results,
//! and gradcheck compares the tape's gradients of the program with central
//! differences. This is what catches a sweep that visits nodes in the
//! wrong order or loses a contribution when a node has many consumers.

mod common;

use common::{assert_gradcheck, away_from_zero, tensor_of, weighted_sum};
use proptest::prelude::*;
use tapegrad::{Tape, Var};

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
            8 => x.mean() + y,
            _ => x * x.cos(),
        };
        vals.push(v);
    }
    let terms: Vec<Var<'t>> = vals.iter().map(|v| weighted_sum(tape, v.tanh())).collect();
    terms[1..].iter().fold(terms[0], |acc, t| acc + *t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn programs_gradcheck(
        a in tensor_of(vec![2, 3], away_from_zero()),
        b in tensor_of(vec![3], away_from_zero()),
        c in tensor_of(vec![], away_from_zero()),
        program in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..10),
    ) {
        assert_gradcheck(|tape, v| run(tape, v, &program), &[a, b, c]);
    }
}
