//! `pick` (one element per row by constant indices): its gradient against
//! central differences, and its value and gradient in closed form.

mod common;

use common::{assert_gradcheck, weighted_sum};
use tapegrad::{Tape, Tensor, loss};

#[test]
fn pick_gradchecks_for_2d_and_3d_inputs() {
    let x = Tensor::from_vec((0..6).map(|i| 0.3 * i as f64 - 0.7).collect(), &[2, 3]);
    assert_gradcheck(|tape, v| weighted_sum(tape, v[0].pick(&[2, 0]).sin()), &[x]);
    let y = Tensor::from_vec((0..12).map(|i| (i as f64).cos()).collect(), &[2, 3, 2]);
    assert_gradcheck(|tape, v| weighted_sum(tape, v[0].pick(&[1, 0, 0, 1, 1, 0]).exp()), &[y]);
    // a 1-D input picks one element: a scalar
    let z = Tensor::from_vec(vec![0.5, -1.5, 2.0], &[3]);
    assert_gradcheck(|_, v| v[0].pick(&[1]) * v[0].sum(), &[z]);
}

#[test]
fn pick_in_closed_form() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]));
    let y = x.pick(&[1, 1, 0]);
    assert_eq!((y.shape().as_slice(), y.value().data()), (&[3][..], &[2.0, 4.0, 5.0][..]));
    // d/dx sum(c * y) puts c[r] at (r, idx[r]) and 0 elsewhere
    let c = tape.constant(Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]));
    let g = (y * c).sum().backward().wrt(x);
    assert_eq!(g.data(), &[0.0, 10.0, 0.0, 20.0, 30.0, 0.0]);
    // picking the same Var twice adds both contributions
    let g = (x.pick(&[0, 0, 0]) + x.pick(&[0, 1, 0])).sum().backward().wrt(x);
    assert_eq!(g.data(), &[2.0, 0.0, 1.0, 1.0, 2.0, 0.0]);
    // an empty batch picks nothing
    let e = tape.var(Tensor::zeros(&[0, 4]));
    assert_eq!(e.pick(&[]).shape().as_slice(), &[0]);
}

/// Cross-entropy through pick, against the closed form
/// `-mean_i (z[i, t_i] - ln sum_j exp z[i, j])` and its gradient
/// `(softmax(z) - onehot) / n`.
#[test]
fn cross_entropy_matches_its_closed_form() {
    let z = [0.5, -1.0, 2.0, 0.0, 3.0, -2.0];
    let t = [2usize, 1];
    let tape = Tape::new();
    let zv = tape.var(Tensor::from_vec(z.to_vec(), &[2, 3]));
    let l = loss::cross_entropy(zv, &t);
    let g = l.backward().wrt(zv);
    let mut want_l = 0.0;
    let mut want_g = [0.0; 6];
    for r in 0..2 {
        let row = &z[3 * r..3 * r + 3];
        let s: f64 = row.iter().map(|v| v.exp()).sum();
        want_l -= (row[t[r]] - s.ln()) / 2.0;
        for j in 0..3 {
            want_g[3 * r + j] = (row[j].exp() / s - if j == t[r] { 1.0 } else { 0.0 }) / 2.0;
        }
    }
    assert!((l.item() - want_l).abs() < 1e-14, "{} vs {want_l}", l.item());
    assert!(g.data().iter().zip(want_g).all(|(a, b)| (a - b).abs() < 1e-15), "{g} vs {want_g:?}");
}
