//! The transformer's layers: `Linear` without a bias, `Embedding`,
//! `LayerNorm` against loops written out, their gradients against central
//! differences, and `no_grad` against the recorded forward.

mod common;

use common::assert_gradcheck;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::nn::{self, Embedding, Init, LayerNorm, Linear, ParamVars, Params};
use tapegrad::{Tape, Tensor, Var};

fn rng() -> StdRng {
    StdRng::seed_from_u64(11)
}

#[test]
fn linear_without_bias_is_x_w_on_any_batch_rank() {
    let mut params = Params::new();
    let l = Linear::without_bias(&mut params, "q", 3, 2, Init::StandardNormal, &mut rng());
    assert!(!l.has_bias() && params.len() == 1);
    let x = Tensor::randn(&[2, 4, 3], &mut rng());
    let tape = Tape::new();
    let y = l.forward(params.on_tape(&tape), tape.constant(&x)).value();
    let w = &params["q.w"];
    for b in 0..2 {
        for t in 0..4 {
            for j in 0..2 {
                let want: f64 = (0..3).map(|k| x.get(&[b, t, k]) * w.get(&[k, j])).sum();
                assert!((y.get(&[b, t, j]) - want).abs() < 1e-14);
            }
        }
    }
    // The old constructor still makes a biased layer.
    let mut p2 = Params::new();
    let l2 = Linear::new(&mut p2, "fc", 3, 2, Init::StandardNormal, Init::StandardNormal, &mut rng());
    assert!(l2.has_bias());
    let y2 = l2.forward_tensor(&p2, &Tensor::zeros(&[1, 3]));
    assert_eq!(y2.data(), p2["fc.b"].data());
}

#[test]
fn embedding_reads_rows_and_sums_the_gradients_of_repeated_ids() {
    let mut params = Params::new();
    let e = Embedding::new(&mut params, "tok", 5, 3, Init::StandardNormal, &mut rng());
    let tape = Tape::new();
    let vars = params.on_tape(&tape);
    let ids = [4, 0, 4, 2];
    let y = e.forward(vars, &ids);
    let table = &params["tok.w"];
    for (r, &id) in ids.iter().enumerate() {
        for c in 0..3 {
            assert_eq!(y.value().get(&[r, c]), table.get(&[id, c]));
        }
    }
    let w = tape.constant(Tensor::from_vec((0..12).map(|i| i as f64).collect(), &[4, 3]));
    let g = (y * w).sum().backward().wrt(vars.get(0));
    // row 4 collects rows 0 and 2 of w; row 0 row 1; row 2 row 3; rows 1, 3 nothing
    assert_eq!(g.data(), &[3., 4., 5., 0., 0., 0., 9., 10., 11., 0., 0., 0., 6., 8., 10.]);
}

/// `LayerNorm` with a random scale and shift against the formula in loops,
/// and its gradient with respect to x, w and b three ways.
#[test]
fn layer_norm_layer_matches_loops_and_its_gradients_check() {
    let n = 4;
    let mut params = Params::new();
    let ln = LayerNorm::new(&mut params, "ln", n);
    assert_eq!((params["ln.w"].data(), params["ln.b"].data()), (&[1.0; 4][..], &[0.0; 4][..]));
    assert_eq!(ln.eps, 1e-5);
    let mut r = rng();
    for (_, t) in params.iter_mut() {
        *t = Tensor::randn(t.shape(), &mut r);
    }
    let x = Tensor::randn(&[2, 3, n], &mut r);
    let tape = Tape::new();
    let y = ln.forward(params.on_tape(&tape), tape.constant(&x)).value();
    let (w, b) = (params["ln.w"].data(), params["ln.b"].data());
    for lane in 0..6 {
        let row = &x.data()[lane * n..(lane + 1) * n];
        let mean = row.iter().sum::<f64>() / n as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        for k in 0..n {
            let want = (row[k] - mean) / (var + 1e-5).sqrt() * w[k] + b[k];
            assert!((y.data()[lane * n + k] - want).abs() < 1e-14, "lane {lane} k {k}");
        }
    }
    let inputs = [x.clone(), params["ln.w"].clone(), params["ln.b"].clone()];
    assert_gradcheck(|_, v| ln_loss(&ln, v), &inputs);
    gradcheck_forward(|_, v| ln_loss(&ln, v), &inputs, 1e-12).unwrap_or_else(|e| panic!("{e}"));
    let dirs = [Tensor::randn(&[2, 3, n], &mut r), Tensor::randn(&[n], &mut r), Tensor::randn(&[n], &mut r)];
    hvpcheck(|_, v| ln_loss(&ln, v), &inputs, &dirs, &GradcheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
}

/// A scalar of the layer on Vars `[x, w, b]`, weighted so every element
/// gets its own upstream gradient.
fn ln_loss<'t>(ln: &LayerNorm, v: &[Var<'t>]) -> Var<'t> {
    (ln.forward(ParamVars::from_vars(v[0].tape(), &v[1..]), v[0]).tanh() * v[0].sin()).sum()
}

/// `layer_norm` far out: a lane at +-1e300 overflows its variance (as in
/// PyTorch), a lane at 1e150 still normalises exactly.
#[test]
fn layer_norm_far_out() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1e150, -1e150, 3e150, -3e150], &[1, 4]));
    let y = x.layer_norm(1e-5).value();
    let sd = 5f64.sqrt(); // the lane is 1e150 * [1, -1, 3, -3]: mean 0, variance 5e300
    for (got, want) in y.data().iter().zip([1.0, -1.0, 3.0, -3.0]) {
        assert!((got - want / sd).abs() < 1e-15, "{got}");
    }
    let big = tape.var(Tensor::from_vec(vec![1e300, -1e300], &[1, 2]));
    assert_eq!(big.layer_norm(1e-5).value().data(), &[0.0, -0.0]); // 1e300 / inf
}

#[test]
fn no_grad_gives_the_recorded_forward_and_keeps_no_gradient() {
    let mut params = Params::new();
    let mut r = rng();
    let emb = Embedding::new(&mut params, "e", 6, 4, Init::StandardNormal, &mut r);
    let ln = LayerNorm::new(&mut params, "ln", 4);
    let out = Linear::new(&mut params, "out", 4, 6, Init::XavierNormal, Init::StandardNormal, &mut r);
    fn model<'t>(layers: (&Embedding, &LayerNorm, &Linear), vars: ParamVars<'t>) -> Var<'t> {
        let (emb, ln, out) = layers;
        out.forward(vars, ln.forward(vars, emb.forward(vars, &[1, 5, 5, 0])).relu())
    }
    let layers = (&emb, &ln, &out);
    let tape = Tape::new();
    let recorded = model(layers, params.on_tape(&tape)).value();
    let inferred = nn::no_grad(|scratch| {
        let y = model(layers, params.constants_on_tape(scratch));
        assert!(!y.requires_grad()); // nothing in the scratch forward needs a gradient
        y.value()
    });
    assert_eq!(inferred, recorded); // bit for bit: the same ops on the same values
}
