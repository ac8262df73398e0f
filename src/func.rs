//! The functional API, in the spirit of `torch.func` and JAX: derivatives of
//! a *function* of one or more tensors, returned as tensors.
//!
//! A function is written as for [`gradcheck`](crate::check::gradcheck): it
//! gets a tape and one `Var` per input and returns its output `Var`. Each
//! call here records it once on a fresh tape and sweeps that recording as
//! often as needed.
//!
//! | function | gives | cost |
//! |---|---|---|
//! | [`jvp`] | `f(x)` and `J t` (a directional derivative) | one forward + one tangent sweep |
//! | [`jacobian_fwd`] | the Jacobian, a column per JVP | `n` tangent sweeps (`n` = input elements) |
//! | [`jacobian_rev`] | the Jacobian, a row per VJP | `m` reverse sweeps (`m` = output elements) |
//!
//! So for a Jacobian, forward mode wins when the inputs are fewer than the
//! outputs (`n < m`: a curve's velocity, a layer of few parameters seen
//! from many outputs) and reverse mode when the outputs are fewer (a loss:
//! `m = 1`, one sweep for the whole gradient). The two are independent
//! derivations of every rule (each op's JVP and its VJP), so they agree to
//! rounding; `tests/forward_mode.rs` checks that on random programs.
//!
//! A Jacobian of an output of shape `O` with respect to an input of shape
//! `I` has shape `O ++ I` (`torch.func.jacrev`'s layout): element
//! `[o..., i...]` is `d out[o...] / d in[i...]`.

use crate::tape::{TangentError, Tape, Var};
use crate::tensor::Tensor;

// ---------------------------------------------------------------------------
// Forward mode: jvp, jacobian_fwd; and jacobian_rev, its reverse-mode twin.
// ---------------------------------------------------------------------------

/// `f(primals)` and its directional derivative along `tangents` (one per
/// primal, shaped like it): the Jacobian-vector product, by one forward
/// tangent sweep (`torch.func.jvp`).
///
/// Errors: a tangent count or shape that does not match the primals.
///
/// ```
/// use tapegrad::{Tensor, func::jvp};
/// // f(x, y) = sin(x) * y; along (dx, dy): cos(x) y dx + sin(x) dy
/// let (x, y) = (Tensor::scalar(0.5), Tensor::scalar(2.0));
/// let (v, t) = jvp(|_, v| v[0].sin() * v[1], &[x, y], &[Tensor::scalar(1.0), Tensor::scalar(3.0)]).unwrap();
/// assert_eq!(v.item(), 0.5f64.sin() * 2.0);
/// assert!((t.item() - (0.5f64.cos() * 2.0 + 3.0 * 0.5f64.sin())).abs() < 1e-15);
/// ```
pub fn jvp<F>(f: F, primals: &[Tensor], tangents: &[Tensor]) -> Result<(Tensor, Tensor), TangentError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    if primals.len() != tangents.len() {
        return Err(TangentError::Count { primals: primals.len(), tangents: tangents.len() });
    }
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = primals.iter().map(|x| tape.var(x)).collect();
    let out = f(&tape, &vars);
    let seeds: Vec<(Var<'_>, &Tensor)> = vars.iter().copied().zip(tangents).collect();
    let t = out.jvp(&seeds)?;
    Ok((out.value(), t))
}

/// The Jacobian of `f` with respect to each input, built column by column
/// from JVPs: one tangent sweep per input element, over one recording. One
/// tensor per input, of shape `output shape ++ input shape`.
///
/// Errors only through a user op with no tangent rule on the way.
///
/// ```
/// use tapegrad::{Tensor, func::jacobian_fwd};
/// // f(x) = x * x, elementwise: J = diag(2x)
/// let x = Tensor::from_vec(vec![1.0, 3.0], &[2]);
/// let j = jacobian_fwd(|_, v| v[0] * v[0], &[x]).unwrap();
/// assert_eq!((j[0].shape(), j[0].data()), (&[2usize, 2][..], &[2.0, 0.0, 0.0, 6.0][..]));
/// ```
pub fn jacobian_fwd<F>(f: F, inputs: &[Tensor]) -> Result<Vec<Tensor>, TangentError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(&tape, &vars);
    let (out_shape, m) = (out.shape(), out.len());
    let mut jacobians = Vec::with_capacity(inputs.len());
    for (x, v) in inputs.iter().zip(&vars) {
        let n = x.len();
        let mut j = vec![0.0; m * n];
        let mut e = Tensor::zeros(x.shape());
        for col in 0..n {
            e.data_mut()[col] = 1.0;
            let t = out.jvp(&[(*v, &e)])?;
            e.data_mut()[col] = 0.0;
            for (row, &d) in t.data().iter().enumerate() {
                j[row * n + col] = d;
            }
        }
        jacobians.push(Tensor::from_vec(j, &jacobian_shape(&out_shape, x.shape())));
    }
    Ok(jacobians)
}

/// The Jacobian of `f` with respect to each input, built row by row from
/// VJPs: one reverse sweep per output element, over one recording. Same
/// layout as [`jacobian_fwd`].
///
/// ```
/// use tapegrad::{Tensor, func::jacobian_rev};
/// // f(a, b) = a * b with a: [2], b: [] (broadcast): J_a = b I, J_b = a
/// let (a, b) = (Tensor::from_vec(vec![1.0, 2.0], &[2]), Tensor::scalar(5.0));
/// let j = jacobian_rev(|_, v| v[0] * v[1], &[a, b]);
/// assert_eq!(j[0].data(), &[5.0, 0.0, 0.0, 5.0]);
/// assert_eq!((j[1].shape(), j[1].data()), (&[2usize][..], &[1.0, 2.0][..]));
/// ```
pub fn jacobian_rev<F>(f: F, inputs: &[Tensor]) -> Vec<Tensor>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(&tape, &vars);
    let (out_shape, m) = (out.shape(), out.len());
    let mut rows: Vec<Vec<f64>> = inputs.iter().map(|x| vec![0.0; m * x.len()]).collect();
    let mut seed = Tensor::zeros(&out_shape);
    for row in 0..m {
        seed.data_mut()[row] = 1.0;
        let g = out.backward_with(&seed);
        seed.data_mut()[row] = 0.0;
        for ((x, v), j) in inputs.iter().zip(&vars).zip(&mut rows) {
            let n = x.len();
            g.with_grad(*v, |d| {
                if let Some(d) = d {
                    j[row * n..][..n].copy_from_slice(d);
                }
            });
        }
    }
    inputs.iter().zip(rows).map(|(x, j)| Tensor::from_vec(j, &jacobian_shape(&out_shape, x.shape()))).collect()
}

/// `output shape ++ input shape`.
fn jacobian_shape(out: &[usize], input: &[usize]) -> Vec<usize> {
    out.iter().chain(input).copied().collect()
}

// ---------------------------------------------------------------------------
// Higher order (reverse over reverse / forward over reverse): grad, vjp, hvp,
// hessian. Their own section, added with the differentiable backward.
// ---------------------------------------------------------------------------
