//! A program larger than one chunk (`emit::CHUNK` live nodes): the emitter
//! writes it as `#[inline(never)]` chunk functions passing values and
//! adjoints through `saved`/`d_saved`. The generated file is checked in
//! (`examples/compiled/long_chain.rs`, kept fresh here like the others of
//! `tests/emit_fresh.rs`; `TAPEGRAD_BLESS=1` rewrites it), compiled into
//! this test binary, and must give the tape's bits, eager and replayed.
//!
//! The chain mixes what crosses chunk edges: the pendulum's two scalars
//! (every chunk), a `[3]` tensor state and the argument `w` read every 40
//! steps (array loads and stores), and `s0`, made at the start and read
//! only at the end (a value and an adjoint saved across every chunk).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::Tape;
use tapegrad::emit::{CHUNK, EmitError, MAX_NODES, Module};

mod emit_programs;
use emit_programs::{LONG_CHAIN_STEPS as STEPS, bits, long_chain as chain, long_chain_module as module};

#[allow(dead_code)]
mod long_chain {
    include!("../examples/compiled/long_chain.rs");
}

#[test]
fn the_chain_is_larger_than_a_chunk_and_written_in_chunks() {
    let tape = Tape::new();
    let (q, _) = chain(&tape, 0.5, 0.0, [0.3, -0.2, 0.9], STEPS);
    assert!(tape.len() > 3 * CHUNK, "{} nodes for a chunk of {CHUNK}", tape.len());
    let src = module().to_source();
    assert!(
        src.contains("#[inline(never)]")
            && src.contains("fn long_chain_fwd_3(")
            && src.contains("fn long_chain_bwd_3(")
    );
    // Each chunk's body keeps the usual lines: one `let` per node, named.
    assert!(
        src.contains("let s0 = ") && src.contains(&format!("let q = v{} * s0;", q.index() - 1)),
        "{}",
        &src[..2000]
    );
}

#[test]
fn the_chunked_chain_is_bit_identical_to_the_tape() {
    let mut rng = StdRng::seed_from_u64(7);
    let template = Tape::new();
    let (t_out, t_args) = chain(&template, 0.5, 0.0, [0.3, -0.2, 0.9], STEPS);
    for _ in 0..20 {
        let (q0, p0) = (rng.random_range(-2.0..2.0), rng.random_range(-1.0..1.0));
        let w: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.5..1.5));
        let tape = Tape::new();
        let (out, args) = chain(&tape, q0, p0, w, STEPS);
        let g = out.backward();
        let want: Vec<Vec<u64>> = args.iter().map(|&a| bits(g.wrt(a).data())).collect();
        for (&a, v) in t_args.iter().zip([&[q0][..], &[p0], &w]) {
            template.set(a, v);
        }
        template.replay();
        let tg = t_out.backward();
        assert_eq!(t_out.item().to_bits(), out.item().to_bits());
        assert_eq!(t_args.iter().map(|&a| bits(tg.wrt(a).data())).collect::<Vec<_>>(), want);

        assert_eq!(long_chain::long_chain(q0, p0, &w).to_bits(), out.item().to_bits(), "value at {q0} {p0} {w:?}");
        let (mut d_q0, mut d_p0, mut d_w) = (f64::NAN, f64::NAN, [f64::NAN; 3]);
        let y = long_chain::long_chain_grad(q0, p0, &w, &mut d_q0, &mut d_p0, &mut d_w);
        assert_eq!(y.to_bits(), out.item().to_bits());
        assert_eq!(vec![bits(&[d_q0]), bits(&[d_p0]), bits(&d_w)], want, "gradients at {q0} {p0} {w:?}");
    }
}

#[test]
fn a_program_past_the_limit_is_an_error_naming_its_size() {
    let tape = Tape::new();
    let x = tape.scalar(0.1).named("x");
    let mut y = x;
    while tape.len() <= MAX_NODES {
        y = y.sin();
    }
    let e = Module::new().function("big", y, &[x]).unwrap_err();
    assert_eq!(e, EmitError::TooLarge { nodes: MAX_NODES + 1, limit: MAX_NODES });
    let msg = e.to_string();
    assert!(msg.contains(&(MAX_NODES + 1).to_string()) && msg.contains(&MAX_NODES.to_string()), "{msg}");
}
