//! Zero allocations per training step after the first, when the tape is
//! reused with `tape.clear()`: the sine step and the MLP step (whose GEMM
//! packs into a reused workspace), counted by a
//! global allocator that counts every `alloc` and `realloc` made by the
//! current thread. This is a test of a count, not of time.
//!
//! The same file checks that the tape steps and the hand-written steps the
//! benches compare them with compute the same thing, so the benches time
//! equal work.

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use rand::SeedableRng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tapegrad::Tape;
use workloads::{mlp, moons, scalar, sine};

/// The system allocator, counting allocations per thread (tests run on
/// several threads; each counts only its own).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the counter may already be gone while the thread exits.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// The one unsafe impl of the test suite: `GlobalAlloc` is an unsafe trait.
// Every call is forwarded unchanged to `System`, which upholds the contract.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same layout, forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Number of allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Allocations of 100 SGD steps of one of the notes' sine engines, after a
/// first step that may size its buffers.
fn steady_sine_allocations(engine: &mut impl tapegrad::notes::sine::Engine) -> usize {
    engine.step(0.5, 0.5f64.sin(), 0.1);
    allocations_in(|| {
        for i in 0..100 {
            let x = i as f64 * 0.06;
            engine.step(x, x.sin(), 0.1);
        }
    })
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the tests below against a counter that counts nothing.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1.0f64; 10])));
    assert_eq!(n, 1);
}

#[test]
fn sine_step_allocates_nothing_after_the_first() {
    let mut tape = Tape::new();
    let mut net = sine::SineNet::new();
    let first = allocations_in(|| {
        sine::tape_step(&mut tape, &mut net, sine::X, sine::T, sine::LR);
    });
    assert!(first > 0, "the first step grows the tape's arenas");
    let later = allocations_in(|| {
        for i in 0..100 {
            let x = i as f64 * 0.06;
            sine::tape_step(&mut tape, &mut net, x, x.sin(), sine::LR);
        }
    });
    assert_eq!(later, 0, "100 sine steps on a reused tape allocated {later} times");
}

#[test]
fn nn_model_steps_allocate_nothing_after_the_first() {
    use rand::SeedableRng;
    use tapegrad::notes::sine::{TapeSgd, network};
    use tapegrad::optim::{Adam, AdamConfig, Optimizer};
    // The README's training step: `nn::Mlp` on a reused tape, stepped by
    // plain `Sgd` through `Optimizer::step` (`TapeSgd`).
    let mlp = network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    let later = steady_sine_allocations(&mut TapeSgd::new(mlp.clone()));
    assert_eq!(later, 0, "100 nn::Mlp SGD steps on a reused tape allocated {later} times");

    // The same model stepped by Adam through `Optimizer::step`: its
    // state is created on the first step, then nothing more is allocated.
    let mut mlp = mlp;
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut tape = Tape::new();
    let mut step = |mlp: &mut tapegrad::nn::Mlp, tape: &mut Tape, x: f64| {
        tape.clear();
        let vars = mlp.params().on_tape(tape);
        let xv = tape.constant_from_slice(&[x], &[1, 1]);
        let t = tape.constant_from_slice(&[x.sin()], &[1, 1]);
        let grads = tapegrad::loss::sse_half(mlp.forward(vars, xv), t).backward();
        adam.step(mlp.params_mut(), vars, &grads).unwrap();
    };
    step(&mut mlp, &mut tape, 0.5);
    let later = allocations_in(|| (0..100).for_each(|i| step(&mut mlp, &mut tape, i as f64 * 0.06)));
    assert_eq!(later, 0, "100 Adam steps through Optimizer::step allocated {later} times");
}

#[test]
fn mlp_step_allocates_nothing_after_the_first() {
    // 784-128-64-10, batch 64: 8 large products per step (3 forward, 5
    // backward), all packed into the GEMM's reused workspace. The first step
    // grows the tape's arenas and the workspace; later steps allocate nothing,
    // on the tape and by hand alike.
    let (mut net, batch) = mlp::setup(3);
    let mut tape = Tape::new();
    let first = allocations_in(|| {
        mlp::tape_step(&mut tape, &mut net, &batch);
    });
    assert!(first > 0, "the first step grows the tape's arenas");
    let tape_allocs = allocations_in(|| {
        for _ in 0..5 {
            mlp::tape_step(&mut tape, &mut net, &batch);
        }
    });
    assert_eq!(tape_allocs, 0, "5 MLP steps on a reused tape allocated {tape_allocs} times");
    let mut buf = mlp::HandBuffers::new();
    mlp::hand_step(&mut buf, &mut net, &batch);
    let hand_allocs = allocations_in(|| {
        for _ in 0..5 {
            mlp::hand_step(&mut buf, &mut net, &batch);
        }
    });
    assert_eq!(hand_allocs, 0, "5 hand-written MLP steps allocated {hand_allocs} times");
}

#[test]
fn replayed_steps_allocate_nothing_after_the_first() {
    use rand::SeedableRng;
    use tapegrad::notes::sine::{ReplaySgd, network};
    // The sine step recorded once and replayed per sample: by hand on the
    // tape (`Tape::set`, `Tape::replay`), and through `nn::ReplayStep`
    // with `Optimizer::step` (the notes' `ReplaySgd`).
    let mut net = sine::SineNet::new();
    let replay = sine::SineReplay::record(&net);
    replay.step(&mut net, sine::X, sine::T, sine::LR);
    let later = allocations_in(|| {
        for i in 0..100 {
            let x = i as f64 * 0.06;
            replay.step(&mut net, x, x.sin(), sine::LR);
        }
    });
    assert_eq!(later, 0, "100 replayed sine steps allocated {later} times");
    let later =
        steady_sine_allocations(&mut ReplaySgd::new(network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0))));
    assert_eq!(later, 0, "100 replayed nn::Mlp SGD steps allocated {later} times");
    // The 784-128-64-10 MLP step, replayed.
    let (mut mlp_net, batch) = mlp::setup(3);
    let replay = mlp::MlpReplay::record(&mlp_net, &batch);
    replay.step(&mut mlp_net, &batch);
    let later = allocations_in(|| {
        for _ in 0..5 {
            replay.step(&mut mlp_net, &batch);
        }
    });
    assert_eq!(later, 0, "5 replayed MLP steps allocated {later} times");
    // The pendulum chain, replayed.
    let chain = workloads::pendulum::ReplayChain::record(1000);
    chain.run(0.5, 0.0);
    let later = allocations_in(|| {
        chain.run(0.4, 0.1);
    });
    assert_eq!(later, 0, "a replayed 1000-step chain allocated {later} times");
}

#[test]
fn replayed_steps_equal_the_hand_written_steps() {
    // The benches' replay workloads do the hand-written work too.
    let mut a = sine::SineNet::new();
    let replay = sine::SineReplay::record(&a);
    let mut b = workloads::sine_loops::LoopsNet::from_params(&a.params());
    for i in 0..50 {
        let x = i as f64 * 0.12;
        let ea = replay.step(&mut a, x, x.sin(), sine::LR);
        let eb = b.step(x, x.sin(), sine::LR);
        assert_close(&[ea], &[eb], "replayed sine error");
    }
    let (start, batch) = mlp::setup(5);
    let (mut a, mut b) = (start.clone(), start);
    let replay = mlp::MlpReplay::record(&a, &batch);
    let mut buf = mlp::HandBuffers::new();
    for _ in 0..2 {
        let la = replay.step(&mut a, &batch);
        let lb = mlp::hand_step(&mut buf, &mut b, &batch);
        assert_close(&[la], &[lb], "replayed MLP loss");
    }
    for l in 0..3 {
        assert_close(&a.w[l], &b.w[l], "replayed MLP weights");
    }
}

#[test]
fn scalar_chain_allocates_nothing_after_the_first() {
    let mut tape = Tape::new();
    scalar::tape_chain(&mut tape, 1000);
    let later = allocations_in(|| {
        scalar::tape_chain(&mut tape, 1000);
    });
    assert_eq!(later, 0);
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs() / (1.0 + y.abs())).fold(0.0, f64::max);
    assert!(worst < 1e-12, "{what}: tape and hand-written differ by {worst:e}");
}

#[test]
fn sine_tape_step_equals_the_hand_written_step() {
    let (mut tape, mut a) = (Tape::new(), sine::SineNet::new());
    let mut b = workloads::sine_loops::LoopsNet::from_params(&a.params());
    for i in 0..50 {
        let x = i as f64 * 0.12;
        let ea = sine::tape_step(&mut tape, &mut a, x, x.sin(), sine::LR);
        let eb = b.step(x, x.sin(), sine::LR);
        assert_close(&[ea], &[eb], "error");
    }
    let (pa, pb) = (a.params(), b.params());
    for (name, t) in pa.iter() {
        assert_close(t.data(), pb[name].data(), name);
    }
    assert_ne!(a, sine::SineNet::new(), "the steps moved the weights");
}

#[test]
fn mlp_tape_step_equals_the_hand_written_step() {
    let (start, batch) = mlp::setup(5);
    let (mut a, mut b) = (start.clone(), start.clone());
    let mut tape = Tape::new();
    let mut buf = mlp::HandBuffers::new();
    for _ in 0..2 {
        let la = mlp::tape_step(&mut tape, &mut a, &batch);
        let lb = mlp::hand_step(&mut buf, &mut b, &batch);
        assert_close(&[la], &[lb], "loss");
    }
    for l in 0..3 {
        assert_close(&a.w[l], &b.w[l], "weights");
        assert_close(&a.b[l], &b.b[l], "biases");
    }
    assert_ne!(a, start, "the steps moved the weights");
}

#[test]
fn scalar_tape_chain_equals_the_hand_written_chain() {
    let mut partials = Vec::new();
    for ops in [1, 2, 3, 4, 5, 99, 1000] {
        let (v, da, db) = scalar::tape_chain(&mut Tape::new(), ops);
        let (hv, hda, hdb) = scalar::hand_chain(&mut partials, ops);
        assert_close(&[v, da, db], &[hv, hda, hdb], "scalar chain");
    }
}

#[test]
fn moons_scalar_tensor_and_hand_written_steps_agree() {
    let (start, data) = moons::setup(2);
    let (mut s, mut t, mut h) = (start.clone(), start.clone(), start.clone());
    let (mut tape, mut buf) = (Tape::new(), moons::HandBuffers::new());
    for _ in 0..3 {
        let ls = moons::scalar_step(&mut tape, &mut s, &data);
        let lt = moons::tensor_step(&mut tape, &mut t, &data);
        let lh = moons::hand_step(&mut buf, &mut h, &data);
        assert_close(&[ls, lt], &[lh, lh], "moons loss");
    }
    for l in 0..3 {
        assert_close(&[&s.w[l][..], &s.b[l]].concat(), &[&h.w[l][..], &h.b[l]].concat(), "scalar-level params");
        assert_close(&[&t.w[l][..], &t.b[l]].concat(), &[&h.w[l][..], &h.b[l]].concat(), "tensor-level params");
    }
    assert_ne!(h, start, "the steps moved the weights");
}

#[test]
fn the_librarys_moons_steps_equal_the_hand_written_step() {
    // `notes::moons` (what the example and tests/nn_moons.rs run) against the
    // independent hand-written backward, from the same weights and data.
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(2);
    let (points, labels) = tapegrad::notes::moons::make_moons(moons::POINTS, 0.1, &mut rng);
    let mut mlp = tapegrad::notes::moons::network(&mut rng);
    let mut scalar = mlp.params().clone();
    let mut hand = moons::Net::from_params(mlp.params());
    let data = moons::Moons { x: points.as_flattened().to_vec(), y: labels.clone() };
    let mut buf = moons::HandBuffers::new();
    for _ in 0..3 {
        let (lt, _) = tapegrad::notes::moons::tensor_step(&mut mlp, &points, &labels, moons::LR);
        let (ls, _) = tapegrad::notes::moons::scalar_step(&mut scalar, &points, &labels, moons::LR);
        let lh = moons::hand_step(&mut buf, &mut hand, &data);
        assert_close(&[lt, ls], &[lh, lh], "moons loss");
    }
    let (t, s) = (moons::Net::from_params(mlp.params()), moons::Net::from_params(&scalar));
    for l in 0..3 {
        let h = [&hand.w[l][..], &hand.b[l]].concat();
        assert_close(&[&t.w[l][..], &t.b[l]].concat(), &h, "notes::moons tensor-level params");
        assert_close(&[&s.w[l][..], &s.b[l]].concat(), &h, "notes::moons scalar-level params");
    }
}

#[test]
fn a_recorded_scalar_costs_a_48_byte_node_and_its_value() {
    // The node record: op (16 bytes), param (8), two input indices (8),
    // value start and length (8), shape start (4), ndim, needs_grad and grad_args (3),
    // padded to 48. A 0-d scalar stores no extents; its value is 8 bytes.
    assert_eq!(Tape::node_overhead_bytes(0), 48);
    assert_eq!(Tape::node_overhead_bytes(2), 48 + 2 * 8);
    let mut tape = Tape::new();
    scalar::tape_chain(&mut tape, 1000);
    assert_eq!(tape.len(), 1002);
    assert_eq!(tape.value_count(), 1002, "one f64 per scalar node");
}

#[test]
fn a_large_constant_costs_no_adjoint_memory() {
    // 2 million data values (16 MB) as a constant, a 3-value weight: the
    // adjoint buffer holds only what needs a gradient (the weight, the
    // product, the loss), not a second copy of the data.
    let n = 2_000_000;
    let tape = Tape::new();
    let data = tape.constant(tapegrad::Tensor::ones(&[n / 4, 4]));
    let w = tape.var(tapegrad::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]));
    let loss = (data * w).sum();
    let g = loss.backward();
    assert_eq!(g.adjoint_len(), 4 + n + 1);
    assert_eq!(g.wrt(w).data(), &[(n / 4) as f64; 4]);
    drop(g);
    // A data set reduced before it meets a weight costs nothing either.
    let s = data.sum_axis(0, false); // constant, [4]
    let loss = (s * w).sum();
    let g = loss.backward();
    assert_eq!(g.adjoint_len(), 4 + n + 1 + 4 + 1); // slots are handed out in recording order
    assert_eq!(g.wrt(data).data().len(), n); // zeros, without a slot
    assert!(g.with_grad(data, |d| d.is_none()));
}
