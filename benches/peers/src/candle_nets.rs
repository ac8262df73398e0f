//! The sine step and the MLP step with candle tensors (f64, CPU), the
//! parameters as `candle_core::Var`s updated in place.

use crate::workloads::mlp::{BATCH, Batch, LR, Mlp, SIZES};
use candle_core::{Device, Result, Tensor, Var};

fn sigmoid(z: &Tensor) -> Result<Tensor> {
    (z.neg()?.exp()? + 1.0)?.recip()
}

/// `p -= lr * dp` for every parameter.
fn sgd(params: &[Var], grads: &candle_core::backprop::GradStore, lr: f64) -> Result<()> {
    for p in params {
        let g = grads.get(p.as_tensor()).expect("every parameter reaches the loss");
        p.set(&(p.as_tensor() - (g * lr)?)?)?;
    }
    Ok(())
}

/// The 1-3-1 sine network: `[w1 (1x3), b1 (3), w2 (3x1), b2 (1)]`.
pub struct SineNet {
    /// The parameters, in tapegrad's order.
    pub params: Vec<Var>,
}

impl SineNet {
    /// From tapegrad's parameters.
    pub fn from_params(p: &tapegrad::nn::Params) -> Result<SineNet> {
        let dev = Device::Cpu;
        let var = |name: &str, shape: &[usize]| {
            Var::from_slice(p.get(name).expect("a 1-3-1 sine network").data(), shape, &dev)
        };
        Ok(SineNet {
            params: vec![
                var("hidden.w", &[1, 3])?,
                var("hidden.b", &[3])?,
                var("out.w", &[3, 1])?,
                var("out.b", &[1])?,
            ],
        })
    }

    /// One SGD step on `(x, t)`; returns the error `0.5 (y - t)^2` before it.
    pub fn step(&mut self, x: f64, t: f64, lr: f64) -> Result<f64> {
        let dev = Device::Cpu;
        let xs = Tensor::from_slice(&[x], (1, 1), &dev)?;
        let ts = Tensor::from_slice(&[t], (1, 1), &dev)?;
        let [w1, b1, w2, b2] = [0, 1, 2, 3].map(|i| self.params[i].as_tensor());
        let h = sigmoid(&xs.matmul(w1)?.broadcast_add(b1)?)?;
        let y = h.matmul(w2)?.broadcast_add(b2)?;
        let error = ((y - ts)?.sqr()?.sum_all()? * 0.5)?;
        let grads = error.backward()?;
        sgd(&self.params, &grads, lr)?;
        error.to_scalar::<f64>()
    }

    /// The parameters, flattened in tapegrad's order.
    pub fn flat(&self) -> Result<Vec<f64>> {
        let mut out = vec![];
        for p in &self.params {
            out.extend(p.as_tensor().flatten_all()?.to_vec1::<f64>()?);
        }
        Ok(out)
    }
}

/// The 784-128-64-10 MLP: per layer a weight `[fan_in, fan_out]` and a bias.
pub struct MlpNet {
    /// `[w0, b0, w1, b1, w2, b2]`.
    pub params: Vec<Var>,
    x: Tensor,
    t: Tensor,
}

impl MlpNet {
    /// From the benches' MLP weights and batch.
    pub fn new(mlp: &Mlp, batch: &Batch) -> Result<MlpNet> {
        let dev = Device::Cpu;
        let mut params = vec![];
        for l in 0..3 {
            params.push(Var::from_slice(&mlp.w[l], (SIZES[l], SIZES[l + 1]), &dev)?);
            params.push(Var::from_slice(&mlp.b[l], SIZES[l + 1], &dev)?);
        }
        let x = Tensor::from_slice(&batch.x, (BATCH, SIZES[0]), &dev)?;
        let t = Tensor::from_slice(&batch.t, (BATCH, SIZES[3]), &dev)?;
        Ok(MlpNet { params, x, t })
    }

    /// One SGD step; returns the loss `mean((y - t)^2)` before it.
    pub fn step(&mut self) -> Result<f64> {
        let mut a = self.x.clone();
        for l in 0..3 {
            let (w, b) = (self.params[2 * l].as_tensor(), self.params[2 * l + 1].as_tensor());
            a = sigmoid(&a.matmul(w)?.broadcast_add(b)?)?;
        }
        let loss = (a - &self.t)?.sqr()?.mean_all()?;
        let grads = loss.backward()?;
        sgd(&self.params, &grads, LR)?;
        loss.to_scalar::<f64>()
    }

    /// Weights and biases of layer `l`, flattened.
    pub fn layer(&self, l: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let flat = |i: usize| self.params[i].as_tensor().flatten_all()?.to_vec1::<f64>();
        Ok((flat(2 * l)?, flat(2 * l + 1)?))
    }
}
