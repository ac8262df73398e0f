//! A chain of scalar ops, `v <- v + b`, `sin v`, `v * b`, `cos v`, repeated:
//! values stay in [-1, 1.7], so the chain can be as long as we like.

use tapegrad::Tape;

/// The chain's two inputs.
pub const A: f64 = 0.3;
pub const B: f64 = 0.7;

/// Records `ops` ops of the chain on a cleared tape and differentiates it;
/// returns (value, d/da, d/db).
pub fn tape_chain(tape: &mut Tape, ops: usize) -> (f64, f64, f64) {
    tape.clear();
    let tape = &*tape;
    let a = tape.scalar(A);
    let b = tape.scalar(B);
    let mut v = a;
    for i in 0..ops {
        v = match i % 4 {
            0 => v + b,
            1 => v.sin(),
            2 => v * b,
            _ => v.cos(),
        };
    }
    let g = v.backward();
    let (da, db) = (g.with_grad(a, |d| d.unwrap()[0]), g.with_grad(b, |d| d.unwrap()[0]));
    (v.item(), da, db)
}

/// The same chain by hand: the forward pass stores each op's two partials
/// (d out/d v, d out/d b) in `partials`, the reverse pass sweeps them back.
/// `partials` is reused between calls, so steady state allocates nothing.
pub fn hand_chain(partials: &mut Vec<[f64; 2]>, ops: usize) -> (f64, f64, f64) {
    partials.clear();
    let b = B;
    let mut v = A;
    for i in 0..ops {
        let (next, p) = match i % 4 {
            0 => (v + b, [1.0, 1.0]),
            1 => (v.sin(), [v.cos(), 0.0]),
            2 => (v * b, [b, v]),
            _ => (v.cos(), [-v.sin(), 0.0]),
        };
        partials.push(p);
        v = next;
    }
    let (mut gv, mut gb) = (1.0, 0.0);
    for p in partials.iter().rev() {
        gb += gv * p[1];
        gv *= p[0];
    }
    (v, gv, gb)
}
