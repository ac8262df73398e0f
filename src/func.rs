//! Derivatives as functions, in the spirit of `torch.func` and JAX: give a
//! function of one or more tensors (as a closure that builds it on a tape)
//! and get tensors back.

use crate::tape::{HigherOrderError, Tape, Var};
use crate::tensor::{Shape, Tensor};

// ---------------------------------------------------------------------------
// Reverse mode and higher order: grad, vjp, hvp, hessian.
// ---------------------------------------------------------------------------

/// Records `f` on `tape` with one leaf per input.
fn record<'t, F>(tape: &'t Tape, f: &F, inputs: &[Tensor]) -> (Vec<Var<'t>>, Var<'t>)
where
    F: for<'a> Fn(&'a Tape, &[Var<'a>]) -> Var<'a>,
{
    let vars: Vec<Var<'t>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(tape, &vars);
    (vars, out)
}

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
