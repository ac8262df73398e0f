//! The README's quickstart: a tiny sigmoid layer on a batch of two, and a
//! micrograd-style scalar expression, on one tape.
//!
//! Run with `cargo run --release --example quickstart`.

use rand::SeedableRng;
use tapegrad::{Tape, Tensor};

#[path = "common/args.rs"]
mod args;

fn main() {
    args::no_options("The README's quickstart: a sigmoid layer and a scalar expression, differentiated");
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1, 0.0, 3.0], &[2, 3]));
    let w = tape.var(Tensor::randn(&[3, 4], &mut rng));
    let b = tape.var(Tensor::zeros(&[4]));
    let t = tape.constant(Tensor::ones(&[2, 4]));
    let y = (x.matmul(w) + b).sigmoid(); // bias broadcasts over the batch
    let loss = (y - t).powi(2).mean();
    let grads = loss.backward();
    println!("loss = {:.6}", loss.item());
    println!("dloss/dw =\n{}", grads.wrt(w));
    println!("dloss/db = {}", grads.wrt(b));

    let a = tape.scalar(2.0); // micrograd-style scalars on the same tape
    let f = a * a + 3.0 * a.sin() - a / 4.0;
    let df_da = f.backward().wrt(a).item();
    println!(
        "f(2) = {:.6}, df/da = {:.6} (by hand: 2a + 3cos(a) - 1/4 = {:.6})",
        f.item(),
        df_da,
        4.0 + 3.0 * 2f64.cos() - 0.25
    );
}
