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
//! | [`grad`] | the gradient of a one-element output | one reverse sweep |
//! | [`vjp`] | `f(x)` and `v^T J` | one reverse sweep |
//! | [`hvp`] | `H v` (Hessian-vector product) | a recorded backward + one reverse sweep |
//! | [`hessian`] | the Hessian | a recorded backward + `n` reverse sweeps (`n` HVPs) |
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
//!
//! ## Storing a function to use it more than once
//! A closure written inline in the call works as is. One stored in a `let`
//! first needs [`program`] around it: Rust infers a closure's lifetimes
//! from its annotations only for the one lifetime it sees, and these
//! functions need it to work for every tape's (`for<'t>`), so
//! `let f = |tape: &Tape, v: &[Var]| ..` alone fails to compile with
//! "lifetime may not live long enough". `program` changes nothing at run
//! time; it tells the compiler the signature. Pass the stored closure by
//! reference to reuse it:
//!
//! ```
//! use tapegrad::{Tensor, check, func};
//! let f = func::program(|_, v| (v[0] * v[1]).sin()); // f(x, y) = sin(x y)
//! let (x, y) = (Tensor::scalar(0.5), Tensor::scalar(2.0));
//! let g = func::grad(&f, &[x.clone(), y.clone()]).unwrap(); // [y cos(xy), x cos(xy)]
//! assert_eq!((g[0].item(), g[1].item()), (2.0 * 1f64.cos(), 0.5 * 1f64.cos()));
//! let h = func::hessian(&f, &[x.clone(), y.clone()]).unwrap();
//! assert_eq!(h.shape(), &[2, 2]);
//! assert!(check::gradcheck(&f, &[x, y], &Default::default()).is_ok());
//! ```
//!
//! Without it, the same `let` is a compile error:
//!
//! ```compile_fail
//! use tapegrad::{Tape, Tensor, Var, func};
//! let f = |_: &Tape, v: &[Var]| v[0].sin();
//! func::grad(&f, &[Tensor::scalar(0.5)]).unwrap();
//! ```

use crate::tape::{HigherOrderError, TangentError, Tape, Var};
use crate::tensor::{Shape, Tensor};

/// Returns `f` itself, its signature pinned to "for every tape": the way
/// to store a function in a `let` and pass it to this module's functions
/// and to [`check`](crate::check)'s, as often as needed (see the
/// [module docs](self)). The inputs' types need no annotations.
///
/// ```
/// use tapegrad::{Tensor, func};
/// let cube = func::program(|_, v| v[0].powi(3));
/// for x in [1.0, 2.0] {
///     let g = func::grad(&cube, &[Tensor::scalar(x)]).unwrap();
///     assert_eq!(g[0].item(), 3.0 * x * x);
/// }
/// ```
pub fn program<F>(f: F) -> F
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    f
}

/// Records `f` on `tape` with one leaf per input.
fn record<'t, F>(tape: &'t Tape, f: &F, inputs: &[Tensor]) -> (Vec<Var<'t>>, Var<'t>)
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    let vars: Vec<Var<'t>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(tape, &vars);
    (vars, out)
}

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
    let (vars, out) = record(&tape, &f, primals);
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
    let (vars, out) = record(&tape, &f, inputs);
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
    let (vars, out) = record(&tape, &f, inputs);
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
// Reverse mode and higher order: grad, vjp, hvp, hessian.
// ---------------------------------------------------------------------------

/// Checks each direction has its input's shape.
fn check_shapes(inputs: &[Tensor], dirs: &[Tensor]) -> Result<(), HigherOrderError> {
    for (k, x) in inputs.iter().enumerate() {
        let got = dirs.get(k).map(|d| Shape::from_slice(d.shape())).unwrap_or_default();
        if dirs.len() != inputs.len() || got.as_slice() != x.shape() {
            return Err(HigherOrderError::Shape { input: k, expected: Shape::from_slice(x.shape()), got });
        }
    }
    Ok(())
}

/// The gradient of a scalar function with respect to each input (one plain
/// reverse sweep).
///
/// ```
/// use tapegrad::{Tensor, func::grad};
/// // f(x, y) = sum(x * y): df/dx = y, df/dy = x
/// let (x, y) = (Tensor::from_vec(vec![1.0, 2.0], &[2]), Tensor::from_vec(vec![3.0, 4.0], &[2]));
/// let g = grad(|_, v| (v[0] * v[1]).sum(), &[x, y]).unwrap();
/// assert_eq!((g[0].data(), g[1].data()), (&[3.0, 4.0][..], &[1.0, 2.0][..]));
/// ```
pub fn grad<F>(f: F, inputs: &[Tensor]) -> Result<Vec<Tensor>, HigherOrderError>
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    let tape = Tape::new();
    let (vars, out) = record(&tape, &f, inputs);
    let g = out.try_backward()?;
    Ok(vars.iter().map(|v| g.wrt(*v)).collect())
}

/// The output of `f` (any shape) and the vector-Jacobian product
/// `cotangent^T J` with respect to each input (one reverse sweep).
///
/// ```
/// use tapegrad::{Tensor, func::vjp};
/// // f(x) = x^2 elementwise: the VJP is 2 x * cotangent
/// let x = Tensor::from_vec(vec![1.0, -3.0], &[2]);
/// let (y, g) = vjp(|_, v| v[0].square(), &[x], &Tensor::from_vec(vec![1.0, 0.5], &[2])).unwrap();
/// assert_eq!((y.data(), g[0].data()), (&[1.0, 9.0][..], &[2.0, -3.0][..]));
/// ```
pub fn vjp<F>(f: F, inputs: &[Tensor], cotangent: &Tensor) -> Result<(Tensor, Vec<Tensor>), HigherOrderError>
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    let tape = Tape::new();
    let (vars, out) = record(&tape, &f, inputs);
    let g = out.try_backward_with(cotangent)?;
    Ok((out.value(), vars.iter().map(|v| g.wrt(*v)).collect()))
}

/// The Hessian-vector product `H v` of a scalar function, for a direction
/// `v` given per input, without forming `H`: reverse over reverse. The
/// differentiable backward records the gradient `g(x)` as tape ops; one
/// more reverse sweep of `sum_k <g_k, v_k>` gives `H v`. Costs about a
/// few gradients, whatever the number of parameters.
///
/// ```
/// use tapegrad::{Tensor, func::hvp};
/// // f(a, b) = a^2 b: H = [[2b, 2a], [2a, 0]]; at (1, 3), H [1, 0] = [6, 2]
/// let x = [Tensor::scalar(1.0), Tensor::scalar(3.0)];
/// let hv = hvp(|_, v| v[0].square() * v[1], &x, &[Tensor::scalar(1.0), Tensor::scalar(0.0)]).unwrap();
/// assert_eq!((hv[0].item(), hv[1].item()), (6.0, 2.0));
/// ```
pub fn hvp<F>(f: F, inputs: &[Tensor], v: &[Tensor]) -> Result<Vec<Tensor>, HigherOrderError>
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    check_shapes(inputs, v)?;
    let tape = Tape::new();
    let (vars, out) = record(&tape, &f, inputs);
    let g = out.grad_graph()?;
    let mut dot: Option<Var<'_>> = None;
    for (x, v) in vars.iter().zip(v) {
        let Some(gx) = g.try_get(*x) else { continue };
        let term = (gx * tape.constant(v)).sum();
        dot = Some(match dot {
            None => term,
            Some(d) => d + term,
        });
    }
    let Some(dot) = dot else { return Ok(inputs.iter().map(|x| Tensor::zeros(x.shape())).collect()) };
    let h = dot.try_backward()?;
    Ok(vars.iter().map(|x| h.wrt(*x)).collect())
}

/// The Hessian of a scalar function of its inputs, flattened in input
/// order into one `[n, n]` tensor (`n` = the inputs' total element count).
///
/// Reverse over reverse: the gradient is recorded once as tape ops
/// ([`Var::grad_graph`]), then each row `i` is one reverse sweep of the
/// recorded gradient's element `i`, a Hessian-vector product with the unit
/// vector `e_i`: `n` HVPs in all. Forward over reverse (a tangent sweep
/// through the recorded backward) would cost the same `n` sweeps and is
/// usually a little cheaper per sweep; reverse over reverse is what this
/// crate builds on its own, with no forward mode needed, and it gives
/// rows that are exactly symmetric wherever the arithmetic is.
///
/// ```
/// use tapegrad::{Tensor, func::hessian};
/// // f(x) = sum(x^3): H = diag(6 x)
/// let h = hessian(|_, v| v[0].powi(3).sum(), &[Tensor::from_vec(vec![1.0, 2.0], &[2])]).unwrap();
/// assert_eq!(h.data(), &[6.0, 0.0, 0.0, 12.0]);
/// ```
pub fn hessian<F>(f: F, inputs: &[Tensor]) -> Result<Tensor, HigherOrderError>
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    let tape = Tape::new();
    let (vars, out) = record(&tape, &f, inputs);
    let g = out.grad_graph()?;
    let n: usize = inputs.iter().map(Tensor::len).sum();
    let mut h = Tensor::zeros(&[n, n]);
    let mut row = 0;
    for x in &vars {
        let len = x.len();
        let Some(gx) = g.try_get(*x) else {
            row += len; // the gradient is zero: so are these rows
            continue;
        };
        let mut seed = Tensor::zeros(&gx.shape());
        for i in 0..len {
            seed.data_mut()[i] = 1.0;
            let sweep = gx.backward_with(&seed);
            seed.data_mut()[i] = 0.0;
            let mut col = 0;
            for y in &vars {
                sweep.with_grad(*y, |d| {
                    if let Some(d) = d {
                        h.data_mut()[row * n + col..][..d.len()].copy_from_slice(d);
                    }
                });
                col += y.len();
            }
            row += 1;
        }
    }
    Ok(h)
}
