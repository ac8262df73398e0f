//! A small dense Cholesky solve for symmetric positive-definite systems
//! (the normal equation's `X^T X`), written out because it is what chapter
//! 1 teaches: solve the system, never form the inverse.

/// Why a Cholesky factorisation stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NotPositiveDefinite {
    /// The column whose pivot vanished.
    pub column: usize,
    /// The pivot `a_kk - sum_j L_kj^2` that was too small.
    pub pivot: f64,
    /// The largest diagonal entry, the scale the pivot was judged against.
    pub scale: f64,
}

/// Pivots below `m * RELATIVE_TOL * max diagonal` count as zero: the column
/// is (numerically) a combination of the ones before it. An exactly
/// dependent column leaves a pivot of a few rounding errors, about
/// `m * eps * max diagonal`; the safety factor 10 keeps those out while
/// merely ill-conditioned systems are still solved.
const RELATIVE_TOL: f64 = 10.0 * f64::EPSILON;

/// Solves `A x = b` for a symmetric positive-definite `m x m` matrix `a`
/// (row-major) by `A = L L^T`, then `L z = b`, then `L^T x = z`.
pub(crate) fn cholesky_solve(a: &[f64], m: usize, b: &[f64]) -> Result<Vec<f64>, NotPositiveDefinite> {
    let scale = (0..m).map(|i| a[i * m + i]).fold(0.0, f64::max);
    let mut l = vec![0.0; m * m];
    for k in 0..m {
        let pivot = a[k * m + k] - (0..k).map(|j| l[k * m + j] * l[k * m + j]).sum::<f64>();
        // written so that a NaN pivot fails too
        if pivot.is_nan() || pivot <= m as f64 * RELATIVE_TOL * scale {
            return Err(NotPositiveDefinite { column: k, pivot, scale });
        }
        let d = pivot.sqrt();
        l[k * m + k] = d;
        for i in k + 1..m {
            let s = a[i * m + k] - (0..k).map(|j| l[i * m + j] * l[k * m + j]).sum::<f64>();
            l[i * m + k] = s / d;
        }
    }
    // forward substitution: L z = b
    let mut z = vec![0.0; m];
    for i in 0..m {
        z[i] = (b[i] - (0..i).map(|j| l[i * m + j] * z[j]).sum::<f64>()) / l[i * m + i];
    }
    // back substitution: L^T x = z
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        x[i] = (z[i] - (i + 1..m).map(|j| l[j * m + i] * x[j]).sum::<f64>()) / l[i * m + i];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_known_system() {
        // A = [[4, 2], [2, 3]], x = [1, -2] -> b = [0, -4]
        let x = cholesky_solve(&[4.0, 2.0, 2.0, 3.0], 2, &[0.0, -4.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] + 2.0).abs() < 1e-15, "{x:?}");
    }

    #[test]
    fn singular_matrix_is_reported_at_its_dependent_column() {
        // the second row/column is twice the first
        let e = cholesky_solve(&[1.0, 2.0, 2.0, 4.0], 2, &[1.0, 2.0]).unwrap_err();
        assert_eq!(e.column, 1);
    }
}
