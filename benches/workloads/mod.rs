//! The workloads the benches time, each written twice: once on the tape and
//! once as the hand-written Rust a careful engineer would write for that one
//! network (loops over `f64` arrays, buffers allocated once, derivatives by
//! hand). The hand-written versions are the physical limit the tape is
//! measured against.
//!
//! Shared by the benches (`mod workloads;`) and by `tests/alloc.rs`, which
//! counts the allocations of the tape versions; each binary uses a part.
//! `sine_loops.rs` (the sine yardstick) is also compiled into
//! `examples/sine.rs` and `tests/nn_params.rs`, by `#[path]`.
// Hand-written kernels index several arrays with one loop variable, as the
// notes do; iterator chains over four arrays would hide the arithmetic.
#![allow(dead_code, clippy::needless_range_loop)]

pub mod mlp;
pub mod moons;
pub mod pendulum;
pub mod scalar;
pub mod sine;
pub mod sine_loops;
