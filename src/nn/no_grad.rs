//! Running a model without recording for a backward (PyTorch's
//! `torch.no_grad()`), with the layers' own `forward`, not a second copy
//! of each written on tensors.
//!
//! The forward still runs on a tape (every op is a tape op), but a scratch
//! one of its own, dropped when the closure returns: the caller's tape
//! does not grow, and the parameters recorded with
//! [`Params::constants_on_tape`](super::Params::constants_on_tape) give no
//! node an adjoint slot. The closure's result cannot borrow the scratch
//! tape (the lifetime is the closure's own), so only values come out:
//! tensors, numbers, ids.
//!
//! What it does not do: free each intermediate as soon as its last reader
//! has run, as PyTorch's does; the scratch tape holds the whole forward
//! until it is dropped (one forward's worth of memory).

use crate::tape::Tape;

/// Runs `f` on a fresh scratch tape and returns what it computes; nothing
/// is recorded anywhere else. Inside, put the parameters on the scratch
/// tape with [`Params::constants_on_tape`](super::Params::constants_on_tape)
/// and call the model's usual forward.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::{Tape, Tensor, nn::{self, Init, Linear, Params}};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// let mut params = Params::new();
/// let layer = Linear::new(&mut params, "fc", 2, 3, Init::XavierUniform, Init::Zeros, &mut rng);
/// let x = Tensor::ones(&[4, 2]);
/// let y = nn::no_grad(|scratch| {
///     let y = layer.forward(params.constants_on_tape(scratch), scratch.constant(&x));
///     assert!(!y.requires_grad()); // nothing on the scratch tape keeps a gradient
///     y.value()
/// });
/// assert_eq!(y.shape(), &[4, 3]);
/// ```
pub fn no_grad<R>(f: impl for<'t> FnOnce(&'t Tape) -> R) -> R {
    let scratch = Tape::new();
    f(&scratch)
}
