//! A model that is not an MLP, and an op the crate does not have.
//!
//! - The op: SiLU (swish), silu(x) = x sigmoid(x), added from outside the
//!   crate with its own forward and its own hand-written backward rule
//!   (VJP): d silu / dx = s + x s (1 - s), with s = sigmoid(x). Once as a
//!   `CustomOp` (whole tensors), once as a `UnaryFn` rule (one number at a
//!   time, the cheaper path).
//! - The model: a residual block, `h = x + silu(x W1 + b1) W2`, then a
//!   linear head `y = h w + c`: a plain Rust function of Vars.
//!
//! Both are gradchecked here against central differences before training.
//! Run with `cargo run --release --example custom_model`.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::check::{GradcheckOptions, gradcheck};
use tapegrad::nn::{Init, ParamVars, Params};
use tapegrad::ops::custom::CustomOp;
use tapegrad::ops::elementwise::UnaryFn;
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::tensor::stable_sigmoid;
use tapegrad::{Tape, Tensor, Var, loss};

/// silu(x) = x sigmoid(x), with the sigmoid that never overflows.
fn silu(x: f64) -> f64 {
    x * stable_sigmoid(x)
}

/// Its derivative by the product rule: s + x s (1 - s).
fn silu_derivative(x: f64) -> f64 {
    let s = stable_sigmoid(x);
    s + x * s * (1.0 - s)
}

/// SiLU as a `CustomOp`: forward on the whole input tensor, backward
/// `grad_x = grad_y * silu'(x)` written by hand.
struct Silu;

impl CustomOp for Silu {
    fn name(&self) -> &'static str {
        "silu"
    }
    fn forward(&self, inputs: &[Tensor]) -> Tensor {
        inputs[0].map(silu)
    }
    fn backward(&self, inputs: &[Tensor], _output: &Tensor, grad_output: &Tensor) -> Vec<Tensor> {
        vec![grad_output.mul(&inputs[0].map(silu_derivative))]
    }
}

/// The same op as a `UnaryFn` rule: value and local derivative side by side.
struct SiluRule;

impl UnaryFn for SiluRule {
    const NAME: &'static str = "silu";
    const TEXT: &'static str = "s + x s(1-s)";
    fn f(x: f64, _: f64) -> f64 {
        silu(x)
    }
    fn df(x: f64, _: f64, _: f64) -> f64 {
        silu_derivative(x)
    }
}

/// A VJP with a classic slip (the product rule forgotten: sigmoid(x) taken
/// as the whole derivative), to show that gradcheck catches it.
struct WrongSilu;

impl CustomOp for WrongSilu {
    fn name(&self) -> &'static str {
        "wrong_silu"
    }
    fn forward(&self, inputs: &[Tensor]) -> Tensor {
        inputs[0].map(silu)
    }
    fn backward(&self, inputs: &[Tensor], _output: &Tensor, grad_output: &Tensor) -> Vec<Tensor> {
        vec![grad_output.mul(&inputs[0].map(stable_sigmoid))]
    }
}

/// The model's parameters, by name.
fn init(width: usize, hidden: usize, rng: &mut ChaCha12Rng) -> Params {
    let mut p = Params::new();
    p.insert("block.w1", Init::XavierNormal.draw(&[width, hidden], width, hidden, rng));
    p.insert("block.b1", Tensor::zeros(&[hidden]));
    p.insert("block.w2", Init::XavierNormal.draw(&[hidden, width], hidden, width, rng));
    p.insert("head.w", Init::XavierNormal.draw(&[width, 1], width, 1, rng));
    p.insert("head.c", Tensor::zeros(&[1]));
    p
}

/// The model, a plain function of Vars: a residual block and a linear head.
/// `p` holds the Vars in the order `init` inserts them.
fn model<'t>(p: ParamVars<'t>, x: Var<'t>) -> Var<'t> {
    let [w1, b1, w2, w, c] = [0, 1, 2, 3, 4].map(|i| p.get(i));
    let inner = x.tape().custom(Silu, &[x.matmul(w1) + b1]);
    let h = x + inner.matmul(w2); // the skip connection
    h.matmul(w) + c
}

#[path = "common/args.rs"]
mod args;

fn main() {
    args::no_options("A model with a custom op (SiLU), gradchecked, then trained");
    let mut rng = ChaCha12Rng::seed_from_u64(0);
    let opts = GradcheckOptions::default();

    // 1. The op alone, over negative, zero and large inputs.
    let xs = Tensor::from_vec(vec![-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0], &[7]);
    let r = gradcheck(|tape, v| tape.custom(Silu, &[v[0]]).sum(), std::slice::from_ref(&xs), &opts).unwrap();
    println!("gradcheck silu (CustomOp):  {} elements, max |analytic - numeric| = {:.1e}", r.checked, r.max_abs_error);
    let r = gradcheck(|_, v| v[0].apply(SiluRule, 0.0).sum(), std::slice::from_ref(&xs), &opts).unwrap();
    println!("gradcheck silu (UnaryFn):   {} elements, max |analytic - numeric| = {:.1e}", r.checked, r.max_abs_error);
    match gradcheck(|tape, v| tape.custom(WrongSilu, &[v[0]]).sum(), std::slice::from_ref(&xs), &opts) {
        Ok(_) => panic!("a wrong VJP passed gradcheck"),
        Err(e) => println!("gradcheck wrong_silu: caught, as it must be:\n{e}"),
    }

    // 2. The whole model, at a random point, with respect to every parameter.
    let params = init(2, 8, &mut rng);
    let x = Tensor::randn(&[16, 2], &mut rng);
    let target = Tensor::from_vec((0..16).map(|i| (x.get(&[i, 0]) * 2.0).sin() * x.get(&[i, 1])).collect(), &[16, 1]);
    let r = params
        .gradcheck(|tape, v| loss::mse(model(v, tape.constant(&x)), tape.constant(&target)), &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("gradcheck residual model: {r}");

    // 3. Train it: full-batch gradient descent on y = sin(2 x0) x1.
    let mut params = params;
    let mut opt = Sgd::new(SgdConfig { lr: 0.02, ..Default::default() }).expect("a valid rate"); // p -= 0.02 grad
    let mut tape = Tape::new();
    for step in 0..=3000 {
        tape.clear();
        let vars = params.on_tape(&tape);
        let l = loss::mse(model(vars, tape.constant(&x)), tape.constant(&target));
        if step % 500 == 0 {
            println!("step {step:>4}: mse {:.6}", l.item());
        }
        let grads = l.backward();
        opt.step(&mut params, vars, &grads).expect("plain SGD keeps no state");
    }
    let tape = Tape::new();
    let _out = model(params.on_tape(&tape), tape.constant(&x));
    println!("\nthe trained model's tape (custom ops show their own names):");
    println!("{}", tape.table());
}
