//! One full-batch step of micrograd's demo: a 2-16-16-1 ReLU network on 100
//! points of two interleaved half-moons, max-margin loss
//! `mean(relu(1 - y score)) + 1e-4 sum(p^2)`, SGD. Written three ways: on
//! the tape with one scalar node per multiply (micrograd style), on the tape
//! with tensors, and by hand.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::nn::Params;
use tapegrad::notes::moons;
use tapegrad::{Tape, Var};

pub const SIZES: [usize; 4] = [2, 16, 16, 1];
pub const POINTS: usize = 100;
pub const LR: f64 = 0.1;
use tapegrad::notes::moons::ALPHA;

/// Weights `[fan_in, fan_out]` row-major and biases of each layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
}

/// Points `[POINTS, 2]` and labels +-1 (`notes::moons::make_moons`, noise 0.1).
pub struct Moons {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// The library's demo data and network (`notes::moons`), unpacked into plain
/// arrays for the hand-written step.
pub fn setup(seed: u64) -> (Net, Moons) {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let (points, labels) = moons::make_moons(POINTS, 0.1, &mut rng);
    let net = Net::from_params(moons::network(&mut rng).params());
    (net, Moons { x: points.as_flattened().to_vec(), y: labels })
}

impl Net {
    /// The layers of a `nn::Mlp`'s parameters (`w`, `b` alternating, in order).
    pub fn from_params(params: &Params) -> Net {
        let data: Vec<Vec<f64>> = params.iter().map(|(_, t)| t.data().to_vec()).collect();
        Net { w: data.iter().step_by(2).cloned().collect(), b: data.iter().skip(1).step_by(2).cloned().collect() }
    }
}

fn sgd(p: &mut [f64], g: Option<&[f64]>) {
    let g = g.expect("every parameter reaches the loss");
    p.iter_mut().zip(g).for_each(|(p, g)| *p -= LR * g);
}

/// Tensor-level model on a reused tape; returns the loss before the update.
pub fn tensor_step(tape: &mut Tape, net: &mut Net, data: &Moons) -> f64 {
    tape.clear();
    let tape = &*tape;
    let mut a = tape.constant_from_slice(&data.x, &[POINTS, 2]);
    let y = tape.constant_from_slice(&data.y, &[POINTS, 1]);
    let mut params = [(a, a); 3];
    let mut reg = None;
    for l in 0..3 {
        let w = tape.var_from_slice(&net.w[l], &[SIZES[l], SIZES[l + 1]]);
        let b = tape.var_from_slice(&net.b[l], &[SIZES[l + 1]]);
        let z = a.matmul(w) + b;
        a = if l < 2 { z.relu() } else { z };
        let sq = w.square().sum() + b.square().sum();
        reg = Some(reg.map_or(sq, |r: Var<'_>| r + sq));
        params[l] = (w, b);
    }
    let loss = (1.0 - y * a).relu().mean() + ALPHA * reg.expect("three layers");
    let g = loss.backward();
    for (l, (w, b)) in params.into_iter().enumerate() {
        g.with_grad(w, |d| sgd(&mut net.w[l], d));
        g.with_grad(b, |d| sgd(&mut net.b[l], d));
    }
    loss.item()
}

/// Scalar-level model (micrograd style): every weight, product and sum is
/// its own node (about 40k nodes for the batch).
pub fn scalar_step(tape: &mut Tape, net: &mut Net, data: &Moons) -> f64 {
    tape.clear();
    let tape = &*tape;
    let ws: Vec<Vec<Var<'_>>> = net.w.iter().map(|w| w.iter().map(|&v| tape.scalar(v)).collect()).collect();
    let bs: Vec<Vec<Var<'_>>> = net.b.iter().map(|b| b.iter().map(|&v| tape.scalar(v)).collect()).collect();
    let mut total = tape.constant_from_slice(&[0.0], &[]);
    let mut act: Vec<Var<'_>> = Vec::with_capacity(16);
    let mut next: Vec<Var<'_>> = Vec::with_capacity(16);
    for p in 0..POINTS {
        let (x0, x1) = (data.x[2 * p], data.x[2 * p + 1]);
        act.clear();
        for o in 0..SIZES[1] {
            act.push((ws[0][o] * x0 + ws[0][SIZES[1] + o] * x1 + bs[0][o]).relu());
        }
        for l in 1..3 {
            let out = SIZES[l + 1];
            next.clear();
            for o in 0..out {
                let mut z = bs[l][o];
                for (i, &a) in act.iter().enumerate() {
                    z = z + ws[l][i * out + o] * a;
                }
                next.push(if l < 2 { z.relu() } else { z });
            }
            std::mem::swap(&mut act, &mut next);
        }
        total = total + (1.0 - data.y[p] * act[0]).relu();
    }
    let mut reg = tape.constant_from_slice(&[0.0], &[]);
    for v in ws.iter().chain(&bs).flatten() {
        reg = reg + *v * *v;
    }
    let loss = total / POINTS as f64 + ALPHA * reg;
    let g = loss.backward();
    for (l, w) in ws.iter().enumerate() {
        for (k, v) in w.iter().enumerate() {
            net.w[l][k] -= LR * g.with_grad(*v, |d| d.expect("reaches the loss")[0]);
        }
        for (k, v) in bs[l].iter().enumerate() {
            net.b[l][k] -= LR * g.with_grad(*v, |d| d.expect("reaches the loss")[0]);
        }
    }
    loss.item()
}

/// Buffers of the hand-written step: activations per point and gradients.
pub struct HandBuffers {
    act: [Vec<f64>; 3],
    delta: [Vec<f64>; 3],
    gw: Vec<Vec<f64>>,
    gb: Vec<Vec<f64>>,
}

impl HandBuffers {
    pub fn new() -> HandBuffers {
        HandBuffers {
            act: [vec![0.0; 16], vec![0.0; 16], vec![0.0; 1]],
            delta: [vec![0.0; 16], vec![0.0; 16], vec![0.0; 1]],
            gw: (0..3).map(|l| vec![0.0; SIZES[l] * SIZES[l + 1]]).collect(),
            gb: (0..3).map(|l| vec![0.0; SIZES[l + 1]]).collect(),
        }
    }
}

/// The same step by hand: per point forward, backward into the gradient
/// sums, then the regulariser and SGD.
pub fn hand_step(buf: &mut HandBuffers, net: &mut Net, data: &Moons) -> f64 {
    buf.gw.iter_mut().chain(buf.gb.iter_mut()).for_each(|g| g.fill(0.0));
    let mut total = 0.0;
    for p in 0..POINTS {
        let x = &data.x[2 * p..2 * p + 2];
        for l in 0..3 {
            let (i_n, o_n) = (SIZES[l], SIZES[l + 1]);
            let (before, rest) = buf.act.split_at_mut(l);
            let input: &[f64] = if l == 0 { x } else { &before[l - 1] };
            for o in 0..o_n {
                let mut z = net.b[l][o];
                for i in 0..i_n {
                    z += input[i] * net.w[l][i * o_n + o];
                }
                rest[0][o] = if l < 2 { z.max(0.0) } else { z };
            }
        }
        let margin = 1.0 - data.y[p] * buf.act[2][0];
        total += margin.max(0.0);
        // d loss / d score for this point (0 at the hinge's kink, like relu).
        buf.delta[2][0] = if margin > 0.0 { -data.y[p] / POINTS as f64 } else { 0.0 };
        for l in (0..3).rev() {
            let (i_n, o_n) = (SIZES[l], SIZES[l + 1]);
            let input: &[f64] = if l == 0 { x } else { &buf.act[l - 1] };
            for o in 0..o_n {
                let d = buf.delta[l][o];
                buf.gb[l][o] += d;
                for i in 0..i_n {
                    buf.gw[l][i * o_n + o] += input[i] * d;
                }
            }
            if l > 0 {
                let (below, here) = buf.delta.split_at_mut(l);
                for i in 0..i_n {
                    let mut s = 0.0;
                    for o in 0..o_n {
                        s += net.w[l][i * o_n + o] * here[0][o];
                    }
                    below[l - 1][i] = if buf.act[l - 1][i] > 0.0 { s } else { 0.0 };
                }
            }
        }
    }
    let mut reg = 0.0;
    for l in 0..3 {
        for (p, g) in net.w[l].iter_mut().zip(&buf.gw[l]).chain(net.b[l].iter_mut().zip(&buf.gb[l])) {
            reg += *p * *p;
            *p -= LR * (g + 2.0 * ALPHA * *p);
        }
    }
    total / POINTS as f64 + ALPHA * reg
}
