//! The op registry: every op the tape can record, with the inputs its
//! checks run it on (PyTorch's `OpInfo`). Each op file declares its own
//! cases beside its rule (`pub(crate) const CASES: &[OpCase]`), and
//! [`cases`] gathers them; the crate's tests iterate that list:
//! central differences (`check::gradcheck`), forward mode against reverse
//! (`check::gradcheck_forward`), Hessian-vector products against
//! differences of gradients (`check::hvpcheck`), NaN propagation, random
//! programs (gradients, forward mode and replay), and one test that fails
//! when an op the crate defines has no case here.
//!
//! ```
//! use tapegrad::{Tape, Tensor, ops::registry};
//! let sin = registry::cases().find(|c| c.name == "sin").unwrap();
//! let tape = Tape::new();
//! let x = tape.var(Tensor::scalar(0.5));
//! assert_eq!((sin.run)(&[x]).item(), 0.5f64.sin());
//! assert_eq!(sin.shapes, &[&[2usize, 3][..]]);
//! ```

use crate::tape::Var;
use crate::tensor::Tensor;

/// An op applied to its inputs (all `Var`s; constants such as indices or
/// masks are made inside).
pub type OpFn = for<'t> fn(&[Var<'t>]) -> Var<'t>;

/// The checks a case takes part in. All by default; a case turns off the
/// ones that cannot hold for it, and says why beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Gradients against central differences (off for `detach`: by design
    /// its gradient is not the derivative of its value).
    pub central: bool,
    /// Forward mode against reverse mode.
    pub forward: bool,
    /// Hessian-vector products (the differentiable backward) against
    /// central differences of the gradient.
    pub second: bool,
    /// A NaN in any element of any input reaches the output.
    pub nan: bool,
    /// Used by the random programs.
    pub programs: bool,
}

impl Checks {
    /// Every check.
    pub const ALL: Checks = Checks { central: true, forward: true, second: true, nan: true, programs: true };
    /// Every check but NaN propagation: for ops that rightly drop some
    /// elements (a NaN there goes nowhere) or map NaN to a number (the
    /// masks); each case says which.
    pub const NO_NAN: Checks = Checks { nan: false, ..Checks::ALL };
}

/// One op and the inputs its checks run it on.
#[derive(Clone, Copy, Debug)]
pub struct OpCase {
    /// The op's name, as the tape prints it (`Var::op_name`): the case
    /// records at least one node of it.
    pub name: &'static str,
    /// The op applied to inputs of [`OpCase::shapes`].
    pub run: OpFn,
    /// The inputs' shapes (one per input).
    pub shapes: &'static [&'static [usize]],
    /// Inputs are drawn from `[lo, hi]`, at least 0.1 away from 0 (the
    /// kinks of relu and abs, the pole of 1/x).
    pub domain: (f64, f64),
    /// The checks the case takes part in.
    pub checks: Checks,
}

/// The shape most cases use.
const MATRIX: &[&[usize]] = &[&[2, 3]];
/// Two inputs of that shape.
const TWO_MATRICES: &[&[usize]] = &[&[2, 3], &[2, 3]];

impl OpCase {
    /// An op of one `[2, 3]` input on `[-2, 2]`, in every check.
    pub const fn unary(name: &'static str, run: OpFn) -> OpCase {
        OpCase { name, run, shapes: MATRIX, domain: (-2.0, 2.0), checks: Checks::ALL }
    }

    /// An op of two `[2, 3]` inputs on `[-2, 2]`, in every check.
    pub const fn binary(name: &'static str, run: OpFn) -> OpCase {
        OpCase { shapes: TWO_MATRICES, ..OpCase::unary(name, run) }
    }

    /// The same case on inputs of `shapes`.
    pub const fn shapes(self, shapes: &'static [&'static [usize]]) -> OpCase {
        OpCase { shapes, ..self }
    }

    /// The same case on inputs drawn from `[lo, hi]`.
    pub const fn domain(self, lo: f64, hi: f64) -> OpCase {
        OpCase { domain: (lo, hi), ..self }
    }

    /// The same case in the checks `checks`.
    pub const fn checks(self, checks: Checks) -> OpCase {
        OpCase { checks, ..self }
    }

    /// Inputs for the case: deterministic in `seed`, in the domain, at
    /// least 0.1 away from 0, no two elements of an input equal (ties are
    /// kinks of `maximum` and `max_axis`).
    ///
    /// ```
    /// let case = tapegrad::ops::registry::cases().find(|c| c.name == "ln").unwrap();
    /// let x = &case.inputs(7)[0];
    /// assert!(x.data().iter().all(|&v| v >= case.domain.0 && v <= case.domain.1));
    /// ```
    pub fn inputs(&self, seed: u64) -> Vec<Tensor> {
        let (lo, hi) = self.domain;
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            // splitmix64: a fixed algorithm, so the inputs never change
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        self.shapes
            .iter()
            .map(|s| {
                let n: usize = s.iter().product();
                let data = (0..n)
                    .map(|i| {
                        // A stratum of the domain per element, jittered: no ties.
                        let u = (i as f64 + 0.1 + 0.8 * next()) / n as f64;
                        let x = lo + (hi - lo) * u;
                        if x.abs() < 0.1 { 0.1f64.copysign(x) + x } else { x }
                    })
                    .collect();
                // Shuffled by the generator, so elements are not sorted.
                let mut data: Vec<f64> = data;
                for i in (1..n).rev() {
                    data.swap(i, (next() * (i + 1) as f64) as usize % (i + 1));
                }
                Tensor::from_vec(data, s)
            })
            .collect()
    }
}

/// Every case of every op, file by file.
///
/// ```
/// let names: Vec<&str> = tapegrad::ops::registry::cases().map(|c| c.name).collect();
/// assert!(names.contains(&"matmul") && names.contains(&"gather"));
/// ```
pub fn cases() -> impl Iterator<Item = &'static OpCase> {
    use super::*;
    const FILES: &[&[OpCase]] = &[
        abs::CASES,
        arith::CASES,
        batched_matmul::CASES,
        broadcast::CASES,
        clamp::CASES,
        concat::CASES,
        custom::CASES,
        detach::CASES,
        exp::CASES,
        extremum::CASES,
        gather::CASES,
        gelu::CASES,
        layout::CASES,
        leaky_relu::CASES,
        log1p::CASES,
        mask::CASES,
        matmul::CASES,
        maximum::CASES,
        narrow::CASES,
        permute::CASES,
        pick::CASES,
        power::CASES,
        reduce::CASES,
        relu::CASES,
        scalar::CASES,
        sigmoid::CASES,
        softmax::CASES,
        softplus::CASES,
        tanh::CASES,
        trig::CASES,
        where_::CASES,
    ];
    FILES.iter().flat_map(|f| f.iter())
}

/// One step of a random program: an op (an index into the cases, taken
/// modulo their count) and two operand picks (indices into the values
/// computed so far, modulo their count).
pub type Step = (u8, usize, usize);

/// A random program over `cases`: each step applies a case to earlier
/// values (the inputs and the steps' results), each operand first moved
/// into the case's domain (`lo + (hi - lo) sigmoid(x + 0.5371)`: smooth, and
/// a structural 0, from `relu` or `detach`, does not land on a kink) and
/// fitted to the case's shape (its elements read cyclically by
/// `index_select`, then reshaped; an empty value gives way to a constant).
/// Returns `sum_k weighted_sum(tanh(v_k))`, so every value, and every
/// element of it, reaches the output with its own weight.
///
/// ```
/// use tapegrad::{Tape, Tensor, ops::registry};
/// let cases: Vec<_> = registry::cases().filter(|c| c.checks.programs).collect();
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]));
/// let y = registry::program(&[x], &[(3, 0, 0), (17, 1, 0)], &cases);
/// assert_eq!(y.len(), 1);
/// assert!(y.backward().wrt(x).data().iter().all(|g| g.is_finite()));
/// ```
pub fn program<'t>(inputs: &[Var<'t>], steps: &[Step], cases: &[&OpCase]) -> Var<'t> {
    let mut vals: Vec<Var<'t>> = inputs.to_vec();
    for &(op, i, j) in steps {
        let case = cases[op as usize % cases.len()];
        let picks = [i, j, i.wrapping_add(j)];
        let args: Vec<Var<'t>> = case
            .shapes
            .iter()
            .zip(picks.iter().cycle())
            .map(|(shape, &k)| fit(vals[k % vals.len()], shape, case.domain))
            .collect();
        vals.push((case.run)(&args));
    }
    let terms: Vec<Var<'t>> = vals.iter().map(|v| weighted_sum(v.tanh())).collect();
    terms[1..].iter().fold(terms[0], |acc, t| acc + *t)
}

/// `x` moved into `(lo, hi)` and fitted to `shape` (see [`program`]).
fn fit<'t>(x: Var<'t>, shape: &[usize], (lo, hi): (f64, f64)) -> Var<'t> {
    let tape = x.tape();
    let n: usize = shape.iter().product();
    let x = if x.shape().as_slice() == shape {
        x
    } else if x.is_empty() {
        return tape.constant(Tensor::from_vec(vec![(lo + hi) / 2.0 + 0.3; n], shape));
    } else {
        let flat = x.reshape(&[x.len()]);
        let ids: Vec<usize> = (0..n).map(|k| k % x.len()).collect();
        flat.index_select(0, &ids).reshape(shape)
    };
    // The shift is no round number: ops make structural values (relu's 0,
    // clamp's bound -0.5), and one at `-shift` would land on the domain's
    // middle, which is 0 (the pole of `1/x`) for a symmetric domain.
    lo + (hi - lo) * (x + FIT_SHIFT).sigmoid()
}

/// See [`fit`]: `sigmoid(x + FIT_SHIFT)` is 1/2 only at a value no op makes.
const FIT_SHIFT: f64 = 0.5371;

/// `sum(y * c)` for a fixed, non-uniform constant `c` shaped like `y`, so
/// every element of `y` gets a different upstream gradient (a plain sum
/// would hand every element the same 1 and hide transposed indices).
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let y = tape.var(tapegrad::Tensor::ones(&[2]));
/// assert_eq!(tapegrad::ops::registry::weighted_sum(y).backward().wrt(y).data(), &[0.8, 1.5]);
/// ```
pub fn weighted_sum(y: Var<'_>) -> Var<'_> {
    let c: Vec<f64> = (0..y.len()).map(|i| 0.5 + ((i * 7 + 3) % 11) as f64 / 10.0).collect();
    (y * y.tape().constant(Tensor::from_vec(c, &y.shape()))).sum()
}

#[cfg(test)]
mod tests {
    use crate::tape::rerun_jvp;
    use crate::{Tape, Tensor, Var};

    /// `Op::jvp` *adds* the tangent into its buffer: every node of every
    /// case, its rule run again on a buffer holding 0.25, leaves 0.25 plus
    /// the tangent the forward sweep computed (into zeros).
    #[test]
    fn every_ops_tangent_rule_adds_into_its_buffer() {
        for case in super::cases() {
            let tape = Tape::new();
            let inputs = case.inputs(1);
            let vars: Vec<Var<'_>> = inputs.iter().map(|t| tape.var(t)).collect();
            let y = (case.run)(&vars);
            let seeds: Vec<Tensor> = inputs.iter().map(|t| t.map(|v| 0.5 - 0.3 * v)).collect();
            let pairs: Vec<(Var<'_>, &Tensor)> = vars.iter().copied().zip(&seeds).collect();
            let t = y.tangents(&pairs).unwrap();
            for i in vars.len()..=y.index() {
                let (node, mut out) = (tape.node(i), vec![0.25; tape.node(i).len()]);
                rerun_jvp(&t, i, &mut out).unwrap();
                for (o, w) in out.iter().zip(t.of(node).data()) {
                    let name = node.op_name();
                    assert!((o - (0.25 + w)).abs() <= 1e-12 * (1.0 + w.abs()), "{}: node {i} ({name}): {o}", case.name);
                }
            }
        }
    }
}
