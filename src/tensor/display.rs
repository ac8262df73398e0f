//! `Display` for tensors, following NumPy's `str()` of a float64 array
//! (`numpy/_core/arrayprint.py`, default options):
//!
//! - one format for every element: positional with up to 8 decimals, or
//!   scientific when the magnitudes call for it (largest >= 1e8, smallest
//!   nonzero < 1e-4, or their ratio > 1000);
//! - positional values keep their own shortest digits (`2.`, `0.5`) padded
//!   with spaces so the points line up; scientific ones share one digit count;
//! - rows wrap at 75 characters; brackets nest per dimension, with blank
//!   lines between blocks of higher dimensions;
//! - more than 1000 elements print abbreviated: the first and last three
//!   entries of each dimension with `...` between;
//! - a 0-d tensor prints like a Python float (`3.0`), an empty one as `[]`.

use super::Tensor;
use std::fmt;

/// Tensors larger than this print abbreviated (NumPy's `threshold`).
const THRESHOLD: usize = 1000;
/// Entries kept at each end of an abbreviated dimension (NumPy's `edgeitems`).
const EDGE_ITEMS: usize = 3;
/// Most digits after the point (NumPy's default `precision`).
const PRECISION: usize = 8;
/// Characters per line before wrapping (NumPy's `linewidth`).
const LINE_WIDTH: usize = 75;

impl fmt::Display for Tensor {
    /// ```
    /// let t = tapegrad::Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1, 0.0, 3.0], &[2, 3]);
    /// assert_eq!(t.to_string(), "[[ 0.5 -1.   2. ]\n [ 0.1  0.   3. ]]");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ndim() == 0 {
            return f.write_str(&python_float(self.data[0]));
        }
        if self.is_empty() {
            return f.write_str("[]");
        }
        let summarize = self.len() > THRESHOLD;
        let style = Style::for_values(&shown_values(self, summarize));
        let layout = Layout { t: self, style: &style, summarize };
        // NumPy starts with a one-space hanging indent, then drops it.
        f.write_str(&layout.dim(0, 0, " ", LINE_WIDTH))
    }
}

/// The values that will be printed (all, or the edges when abbreviated), so
/// the format is chosen from what is on screen, as NumPy does.
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

/// NumPy's `_formatArray`: nested brackets, rows wrapped to the line width.
struct Layout<'a> {
    t: &'a Tensor,
    style: &'a Style,
    summarize: bool,
}

impl Layout<'_> {
    /// Dimension `dim` of the block starting at `offset`. `indent` is the
    /// hanging indent of continuation lines; `width` shrinks by one per
    /// level for the closing brackets.
    fn dim(&self, dim: usize, offset: usize, indent: &str, width: usize) -> String {
        let t = self.t;
        let stride: usize = t.shape[dim + 1..].iter().product();
        let inner_indent = format!("{indent} ");
        let indices = shown_indices(t.shape[dim], self.summarize);
        let word = |idx: Option<usize>| match idx {
            None => "...".to_string(),
            Some(i) if dim + 1 == t.ndim() => self.style.format(t.data[offset + i]),
            Some(i) => self.dim(dim + 1, offset + i * stride, &inner_indent, width.saturating_sub(1)),
        };
        let mut s = String::new();
        if dim + 1 == t.ndim() {
            // The last axis: elements separated by spaces, wrapped.
            let elem_width = width.saturating_sub(1);
            let mut line = indent.to_string();
            for (pos, &idx) in indices.iter().enumerate() {
                let w = word(idx);
                if line.len() + w.len() > elem_width && line.len() > indent.len() {
                    s.push_str(line.trim_end());
                    s.push('\n');
                    line = indent.to_string();
                }
                line.push_str(&w);
                if pos + 1 < indices.len() {
                    line.push(' ');
                }
            }
            s.push_str(&line);
        } else {
            // Outer axes: one block per line, blank lines between 3-D blocks.
            let sep = "\n".repeat(t.ndim() - dim - 1);
            for (pos, &idx) in indices.iter().enumerate() {
                s.push_str(indent);
                s.push_str(&word(idx));
                if pos + 1 < indices.len() {
                    s.push_str(&sep);
                }
            }
        }
        format!("[{}]", &s[indent.len()..])
    }
}

/// How every element of one tensor is written (NumPy's `FloatingFormat`).
struct Style {
    scientific: bool,
    /// Width of the part before the point (sign included).
    pad_left: usize,
    /// Positional: width of the part after the point (spaces fill).
    /// Scientific: digits after the point, shared by all.
    frac: usize,
    /// Scientific: digits of the exponent (at least 2).
    exp_digits: usize,
}

impl Style {
    fn for_values(vals: &[f64]) -> Style {
        let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
        let nonzero = finite.iter().filter(|v| **v != 0.0).map(|v| v.abs());
        let (max, min) = nonzero.fold((0.0f64, f64::INFINITY), |(hi, lo), v| (hi.max(v), lo.min(v)));
        let scientific = min.is_finite() && (max >= 1e8 || min < 1e-4 || max / min > 1e3);
        let mut style = Style { scientific, pad_left: 0, frac: 0, exp_digits: 0 };
        for &v in &finite {
            let (int, frac, exp) =
                if scientific { split_scientific(&shortest_scientific(v)) } else { split_positional(v) };
            style.pad_left = style.pad_left.max(int.len());
            style.frac = style.frac.max(frac.len());
            // NumPy writes at least two exponent digits: e+03.
            style.exp_digits = style.exp_digits.max(exp.trim_start_matches('-').len().max(2));
        }
        if finite.len() < vals.len() {
            // Room for nan / inf / -inf in the same width.
            let neg_inf = vals.contains(&f64::NEG_INFINITY) as usize;
            let right = style.right_width() + 1;
            style.pad_left = style.pad_left.max((3 + neg_inf).saturating_sub(right));
        }
        style
    }

    /// Characters after the integer part, excluding the point.
    fn right_width(&self) -> usize {
        if self.scientific { self.frac + 2 + self.exp_digits } else { self.frac }
    }

    fn format(&self, v: f64) -> String {
        let width = self.pad_left + 1 + self.right_width();
        if !v.is_finite() {
            let s = if v.is_nan() {
                "nan"
            } else if v > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            return format!("{s:>width$}");
        }
        let (int, frac, exp) = if self.scientific {
            let p = self.frac;
            split_scientific(&format!("{v:.p$e}"))
        } else {
            split_positional(v)
        };
        let mut out = format!("{int:>pad$}.{frac}", pad = self.pad_left);
        if self.scientific {
            let (sign, digits) = exp.strip_prefix('-').map_or(('+', exp.as_str()), |d| ('-', d));
            out.push_str(&format!("e{sign}{digits:0>n$}", n = self.exp_digits));
        } else {
            out.push_str(&" ".repeat(self.frac - frac.len()));
        }
        out
    }
}

/// Positional digits of `v`: the shortest that round-trip, at most 8 after
/// the point, as (integer part, fraction without trailing zeros, "").
fn split_positional(v: f64) -> (String, String, String) {
    let s = format!("{v:.PRECISION$}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    (int.to_string(), frac.trim_end_matches('0').to_string(), String::new())
}

/// `v` in scientific notation with the fewest digits (at most 8 after the
/// point) that represent it: Rust's `{:.8e}` with trailing zeros dropped.
fn shortest_scientific(v: f64) -> String {
    let s = format!("{v:.PRECISION$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{}e{exp}", mantissa.trim_end_matches('0'))
}

/// Splits Rust's `1.25e-3` into ("1", "25", "-3").
fn split_scientific(s: &str) -> (String, String, String) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    (int.to_string(), frac.to_string(), exp.to_string())
}

/// How Python prints a float (`str(np.float64(v))`, which NumPy uses for a
/// 0-d array): shortest round-trip digits, positional for exponents -4 to
/// 15 with at least one decimal (`3.0`), otherwise scientific (`1e-05`).
fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if v == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// A number with 4 significant digits, trailing zeros dropped (`0.5`, `-6`,
/// `0.7071`), and scientific notation outside `[1e-3, 1e5)`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs();
    if !(1e-3..1e5).contains(&mag) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - mag.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" { "0".into() } else { s.to_string() }
}
