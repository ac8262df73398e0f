//! Not a timing bench: runs one workload N times, for instruction counts
//! under valgrind (which do not move with the machine's load). The count
//! per step is the difference of two runs divided by the difference of N:
//!
//! ```sh
//! cargo bench --bench counts --no-run   # prints the binary's path
//! valgrind --tool=cachegrind --cache-sim=no target/release/deps/counts-HASH sine_replay 1000
//! valgrind --tool=cachegrind --cache-sim=no target/release/deps/counts-HASH sine_replay 3000
//! ```
//!
//! Workloads: `sine_tape`, `sine_replay` (the notes' engines, `nn::Mlp`),
//! `sine_train` (N epochs of the notes' whole program, `notes::sine::train`
//! with the tape engine: 63 steps an epoch),
//! `sine_loops` (the hand-written yardstick), `sine_raw_tape`,
//! `sine_raw_replay` (the step written with tape ops), `pend_tape`,
//! `pend_replay`, `pend_hand` (the pendulum chain of 2,000 steps, 10,000
//! ops), `mlp_tape`, `mlp_replay`, `mlp_hand`. Without arguments (as
//! `cargo bench` runs it) it does nothing.

mod workloads;
use rand::SeedableRng;
use std::hint::black_box;
use tapegrad::Tape;
use tapegrad::notes::sine::{ReplaySgd, TapeSgd, network};
use workloads::{mlp, pendulum, sine, sine_loops::LoopsNet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let [what, n] = &args[..] else { return };
    let n: usize = n.parse().expect("a number of repetitions");
    let lr = 1e-9;
    match what.as_str() {
        "sine_tape" => {
            let mut e = TapeSgd::new(network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0)));
            for _ in 0..n {
                black_box(e.step(black_box(1.0), 0.84, lr));
            }
        }
        "sine_train" => {
            // n epochs of the notes' whole program (63 steps each, reshuffled)
            black_box(tapegrad::notes::sine::train::<TapeSgd>(3, n, 0.1, 0));
        }
        "sine_replay" => {
            let mut e = ReplaySgd::new(network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0)));
            for _ in 0..n {
                black_box(e.step(black_box(1.0), 0.84, lr));
            }
        }
        "sine_loops" => {
            let mlp = network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
            let mut e = LoopsNet::from_params(mlp.params());
            for _ in 0..n {
                black_box(e.step(black_box(1.0), 0.84, lr));
            }
        }
        "sine_raw_tape" => {
            let (mut tape, mut net) = (Tape::new(), sine::SineNet::new());
            for _ in 0..n {
                black_box(sine::tape_step(&mut tape, &mut net, black_box(1.0), 0.84, lr));
            }
        }
        "sine_raw_replay" => {
            let mut net = sine::SineNet::new();
            let r = sine::SineReplay::record(&net);
            for _ in 0..n {
                black_box(r.step(&mut net, black_box(1.0), 0.84, lr));
            }
        }
        "pend_tape" => {
            let mut tape = Tape::new();
            for _ in 0..n {
                black_box(pendulum::tape_chain(&mut tape, 2000));
            }
        }
        "pend_replay" => {
            let c = pendulum::ReplayChain::record(2000);
            for _ in 0..n {
                black_box(c.run(pendulum::Q0, pendulum::P0));
            }
        }
        "pend_hand" => {
            let mut v = Vec::new();
            for _ in 0..n {
                black_box(pendulum::hand_chain(&mut v, 2000));
            }
        }
        "mlp_tape" => {
            let (mut net, batch) = mlp::setup(1);
            let mut tape = Tape::new();
            for _ in 0..n {
                black_box(mlp::tape_step(&mut tape, &mut net, &batch));
            }
        }
        "mlp_replay" => {
            let (mut net, batch) = mlp::setup(1);
            let r = mlp::MlpReplay::record(&net, &batch);
            for _ in 0..n {
                black_box(r.step(&mut net, &batch));
            }
        }
        "mlp_hand" => {
            let (mut net, batch) = mlp::setup(1);
            let mut b = mlp::HandBuffers::new();
            for _ in 0..n {
                black_box(mlp::hand_step(&mut b, &mut net, &batch));
            }
        }
        other => panic!("no workload {other:?} (see the file's docs)"),
    }
}
