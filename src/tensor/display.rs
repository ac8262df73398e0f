//! `Display` for tensors, in NumPy's style: one width for every element,
//! trailing zeros dropped (`2.` for two), brackets nested per dimension, and
//! tensors of more than 1000 elements abbreviated to their first and last
//! three entries per dimension with `...` between.

use super::Tensor;
use std::fmt;

/// Tensors larger than this print abbreviated (NumPy's `threshold`).
const THRESHOLD: usize = 1000;
/// Entries kept at each end of an abbreviated dimension (NumPy's `edgeitems`).
const EDGE_ITEMS: usize = 3;
/// Most digits after the point (NumPy's default `precision`).
const PRECISION: usize = 8;

impl fmt::Display for Tensor {
    /// ```
    /// let t = tapegrad::Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1, 0.0, 3.0], &[2, 3]);
    /// assert_eq!(t.to_string(), "[[ 0.5 -1.   2. ]\n [ 0.1  0.   3. ]]");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summarize = self.len() > THRESHOLD;
        let shown = shown_values(self, summarize);
        let style = Style::for_values(&shown);
        if self.ndim() == 0 {
            return f.write_str(style.format(self.data[0]).trim());
        }
        let width = shown.iter().map(|&v| style.format(v).len()).max().unwrap_or(0);
        let mut out = String::new();
        write_dim(&mut out, self, 0, 0, &style, width, summarize);
        f.write_str(&out)
    }
}

/// The values that will be printed (all, or the edges when abbreviated), so
/// the style and width are chosen from what is on screen, as NumPy does.
fn shown_values(t: &Tensor, summarize: bool) -> Vec<f64> {
    if !summarize {
        return t.data.clone();
    }
    let mut vals = Vec::new();
    collect_shown(t, 0, 0, &mut vals);
    vals
}

fn collect_shown(t: &Tensor, dim: usize, offset: usize, vals: &mut Vec<f64>) {
    if dim == t.ndim() {
        vals.push(t.data[offset]);
        return;
    }
    let stride: usize = t.shape[dim + 1..].iter().product();
    for i in shown_indices(t.shape[dim], true).into_iter().flatten() {
        collect_shown(t, dim + 1, offset + i * stride, vals);
    }
}

/// Indices of one dimension to print; `None` marks the `...` gap.
fn shown_indices(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGE_ITEMS {
        let head = (0..EDGE_ITEMS).map(Some);
        let tail = (n - EDGE_ITEMS..n).map(Some);
        head.chain(std::iter::once(None)).chain(tail).collect()
    } else {
        (0..n).map(Some).collect()
    }
}

fn write_dim(out: &mut String, t: &Tensor, dim: usize, offset: usize, style: &Style, width: usize, summarize: bool) {
    let last = dim + 1 == t.ndim();
    let stride: usize = t.shape[dim + 1..].iter().product();
    out.push('[');
    for (pos, idx) in shown_indices(t.shape[dim], summarize).into_iter().enumerate() {
        if pos > 0 {
            if last {
                out.push(' ');
            } else {
                // Rows of a matrix on new lines; blank lines between blocks
                // of higher dimensions, indented under the opening brackets.
                out.push_str(&"\n".repeat(t.ndim() - dim - 1));
                out.push_str(&" ".repeat(dim + 1));
            }
        }
        match idx {
            None => out.push_str("..."),
            Some(i) if last => out.push_str(&format!("{:>width$}", style.format(t.data[offset + i]))),
            Some(i) => write_dim(out, t, dim + 1, offset + i * stride, style, width, summarize),
        }
    }
    out.push(']');
}

/// How every element of one tensor is written.
enum Style {
    /// Positional, with this many digits after the point (trailing zeros of
    /// each element shown as spaces so the points line up).
    Fixed(usize),
    /// Scientific, for very large or very small magnitudes.
    Scientific,
}

impl Style {
    fn for_values(vals: &[f64]) -> Style {
        let finite = vals.iter().copied().filter(|v| v.is_finite());
        let (mut max, mut min_nonzero) = (0.0f64, f64::INFINITY);
        for v in finite.clone() {
            max = max.max(v.abs());
            if v != 0.0 {
                min_nonzero = min_nonzero.min(v.abs());
            }
        }
        if max >= 1e16 || min_nonzero < 1e-4 || (min_nonzero.is_finite() && max / min_nonzero > 1e3 && max >= 1e8) {
            return Style::Scientific;
        }
        let digits = finite.map(decimals_needed).max().unwrap_or(0);
        Style::Fixed(digits)
    }

    fn format(&self, v: f64) -> String {
        if v.is_nan() {
            return "nan".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "inf".into() } else { "-inf".into() };
        }
        match *self {
            Style::Fixed(digits) => {
                let s = format!("{v:.digits$}");
                let s = if digits == 0 { format!("{s}.") } else { s };
                // Replace trailing zeros after the point with spaces.
                let trimmed = s.trim_end_matches('0');
                format!("{trimmed}{}", " ".repeat(s.len() - trimmed.len()))
            }
            Style::Scientific => {
                let s = format!("{v:.4e}");
                let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
                let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                format!("{mantissa}e{sign}{digits:0>2}")
            }
        }
    }
}

/// Digits after the point needed to write `v` exactly at `PRECISION` digits.
fn decimals_needed(v: f64) -> usize {
    let s = format!("{v:.PRECISION$}");
    let frac = s.split_once('.').map_or("", |(_, f)| f);
    frac.trim_end_matches('0').len()
}
