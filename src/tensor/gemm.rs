//! General matrix multiply: `C = alpha * A B + beta * C`.
//!
//! Tiny products (the 1-3-1 sine network multiplies 1x1 by 1x3) run a plain
//! loop, because packing panels for them costs more than the math. Larger
//! ones run a packed, blocked GEMM in BLIS's loop order: blocks of A and B
//! are copied into panels inside a [`GemmWorkspace`], and a 6x8 microkernel
//! multiplies one panel pair into a tile of C. The blocking is
//! KC = 256 and NC = 1024 as in matrixmultiply for f64 (MC = 72, a multiple
//! of the kernel's 6 rows, where it has 64), and each element
//! of C is summed in k order inside a block, as there.
//!
//! Why not a crate: `matrixmultiply::dgemm` allocates its packing buffer in
//! every call, and the `gemm` crate allocates its packing memory and a flag
//! vector in every call too; neither takes a workspace. Ours does: the
//! workspace grows to the largest product it has served and is then reused,
//! so a training step that repeats its products allocates nothing.
//! [`gemm`] uses one workspace per thread; [`gemm_with`] takes the caller's.
//!
//! The kernel is safe Rust (slices of fixed-size arrays, so the compiler
//! vectorises it); on x86-64 it is compiled a second time with AVX2
//! enabled and picked when the CPU has it. Calling that copy is the
//! crate's one `unsafe` call, in [`packed`], after [`gemm`] has checked every
//! length and stride.
//!
//! **The same bits on every CPU.** No path uses fused multiply-add: every
//! product is rounded, then added (`acc + a * b`, as plain Rust writes it),
//! in the same order on every path (see [`microkernel`]), so a seeded model
//! gives bit-identical gradients on x86 with or without AVX2 and on
//! aarch64, and generated code that writes `a * b + c` reproduces them.
//! FMA would be faster on CPUs that have it (`BENCHMARKS.md` has the cost)
//! but would round differently wherever it is missing.

/// A read-only view of a matrix inside a slice: element (i, j) lives at
/// `data[i * row_stride + j * col_stride]`.
///
/// A transposed operand is the same slice with the strides swapped, so
/// `A^T` is read in place rather than copied.
///
/// ```
/// use tapegrad::tensor::MatRef;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3, row-major
/// let at = MatRef::row_major(&a, 2, 3).t(); // 3x2 view of the same data
/// assert_eq!((at.rows, at.cols), (3, 2));
/// assert_eq!(at.get(2, 1), 6.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The backing elements.
    pub data: &'a [f64],
    /// Number of rows of the view.
    pub rows: usize,
    /// Number of columns of the view.
    pub cols: usize,
    /// Distance in `data` between (i, j) and (i + 1, j).
    pub row_stride: usize,
    /// Distance in `data` between (i, j) and (i, j + 1).
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A contiguous row-major `rows x cols` matrix.
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0], 1, 2);
    /// assert_eq!(m.get(0, 1), 2.0);
    /// ```
    pub fn row_major(data: &'a [f64], rows: usize, cols: usize) -> Self {
        MatRef { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose, as a view of the same data.
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0], 1, 2).t();
    /// assert_eq!((m.rows, m.cols, m.get(1, 0)), (2, 1, 2.0));
    /// ```
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Element (i, j).
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    /// assert_eq!(m.get(1, 0), 3.0);
    /// ```
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// True when every element the view can address lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| (self.cols - 1).checked_mul(self.col_stride).and_then(|c| r.checked_add(c)));
        matches!(last, Some(l) if l < self.data.len())
            && self.row_stride <= isize::MAX as usize
            && self.col_stride <= isize::MAX as usize
    }
}

/// Products with at most this many multiply-adds use the plain loop.
const SMALL_GEMM: usize = 4096;

/// Rows of A (and of a C tile) per microkernel call.
const MR: usize = 6;
/// Columns of B (and of a C tile) per microkernel call: two 4-wide vectors.
/// 6 x 8 = 12 vector accumulators (BLIS's Haswell shape), enough to hide the
/// multiply-add latency; a 4 x 8 tile measured about 40% slower.
const NR: usize = 8;
/// Depth of a packed block: each C element is summed over KC products, then
/// added to C.
const KC: usize = 256;
/// Rows of A packed at once (a 72 x 256 block, 144 KiB, stays in L2); a
/// multiple of `MR`.
const MC: usize = 72;
/// Columns of B packed at once (a 256 x 1024 block, 2 MiB, stays in L3).
const NC: usize = 1024;

/// Packing memory for [`gemm_with`], owned by the caller and reused: it
/// grows to the largest blocks it has served and never shrinks, so repeated
/// products of the same shapes allocate nothing after the first.
///
/// ```
/// use tapegrad::tensor::{GemmWorkspace, MatRef, gemm_with};
/// let mut ws = GemmWorkspace::new();
/// let a = vec![1.0; 100 * 100];
/// let mut c = vec![0.0; 100 * 100];
/// let m = MatRef::row_major(&a, 100, 100);
/// gemm_with(&mut ws, 1.0, m, m, 0.0, &mut c);
/// assert_eq!(c[0], 100.0);
/// assert!(ws.capacity() > 0); // kept for the next call
/// ```
#[derive(Clone, Debug, Default)]
pub struct GemmWorkspace {
    /// Packed rows of A: `MR` values of one column per entry, panel after panel.
    a: Vec<[f64; MR]>,
    /// Packed columns of B: `NR` values of one row per entry, panel after panel.
    b: Vec<[f64; NR]>,
}

impl GemmWorkspace {
    /// An empty workspace; the first product sizes it.
    ///
    /// ```
    /// assert_eq!(tapegrad::tensor::GemmWorkspace::new().capacity(), 0);
    /// ```
    pub const fn new() -> Self {
        GemmWorkspace { a: Vec::new(), b: Vec::new() }
    }

    /// Number of `f64` the workspace holds now.
    ///
    /// ```
    /// use tapegrad::tensor::{GemmWorkspace, MatRef, gemm_with};
    /// let mut ws = GemmWorkspace::new();
    /// let x = vec![0.5; 64 * 64];
    /// let mut c = vec![0.0; 64 * 64];
    /// gemm_with(&mut ws, 1.0, MatRef::row_major(&x, 64, 64), MatRef::row_major(&x, 64, 64), 0.0, &mut c);
    /// // A's 64 rows in 11 panels of 6, B's 64 columns in 8 panels of 8, 64 deep
    /// assert_eq!(ws.capacity(), 66 * 64 + 64 * 64);
    /// ```
    pub fn capacity(&self) -> usize {
        self.a.len() * MR + self.b.len() * NR
    }

    /// Grows the panels to hold `a_panels` and `b_panels` of depth `kc`.
    fn reserve(&mut self, a_panels: usize, b_panels: usize, kc: usize) {
        if self.a.len() < a_panels * kc {
            self.a.resize(a_panels * kc, [0.0; MR]);
        }
        if self.b.len() < b_panels * kc {
            self.b.resize(b_panels * kc, [0.0; NR]);
        }
    }
}

thread_local! {
    /// The workspace behind [`gemm`]: one per thread, kept for the thread's life.
    static WORKSPACE: std::cell::RefCell<GemmWorkspace> = const { std::cell::RefCell::new(GemmWorkspace::new()) };
}

/// `c = alpha * a b + beta * c`, with `c` a contiguous row-major
/// `a.rows x b.cols` matrix. With `beta == 0.0`, `c` is overwritten (its old
/// contents, even NaN, are ignored).
///
/// Packs into this thread's reused workspace (see [`gemm_with`] for one the
/// caller owns), so after the first product of a size it allocates nothing.
///
/// # Panics
/// If the inner dimensions differ, `c` has the wrong length, or a view
/// addresses elements outside its slice. These are checked before the
/// kernel runs.
///
/// ```
/// use tapegrad::tensor::{gemm, MatRef};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [0.0; 4];
/// gemm(1.0, MatRef::row_major(&a, 2, 2), MatRef::row_major(&a, 2, 2).t(), 0.0, &mut c);
/// assert_eq!(c, [5.0, 11.0, 11.0, 25.0]); // A A^T
/// ```
pub fn gemm(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    if !checked_is_large(a, b, c) {
        return small_gemm(alpha, a, b, beta, c, b.cols);
    }
    with_workspace(|ws| packed(ws, alpha, a, b, beta, c));
}

/// Runs `f` on this thread's workspace.
fn with_workspace(f: impl FnOnce(&mut GemmWorkspace)) {
    WORKSPACE.with(|ws| match ws.try_borrow_mut() {
        Ok(mut ws) => f(&mut ws),
        // Unreachable today (the kernel calls nothing that could re-enter
        // `gemm`), but a fresh workspace is the right answer if it ever is.
        Err(_) => f(&mut GemmWorkspace::new()),
    });
}

/// [`gemm`] with packing memory owned by the caller.
///
/// # Panics
/// As [`gemm`].
///
/// ```
/// use tapegrad::tensor::{GemmWorkspace, MatRef, gemm_with};
/// let mut ws = GemmWorkspace::new();
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let mut c = [1.0; 4];
/// gemm_with(&mut ws, 2.0, MatRef::row_major(&a, 2, 2), MatRef::row_major(&a, 2, 2), 1.0, &mut c);
/// assert_eq!(c, [15.0, 21.0, 31.0, 45.0]); // 2 A A + C
/// ```
pub fn gemm_with(ws: &mut GemmWorkspace, alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    if checked_is_large(a, b, c) {
        packed(ws, alpha, a, b, beta, c);
    } else {
        small_gemm(alpha, a, b, beta, c, b.cols);
    }
}

/// [`gemm`] on the portable kernel only, never the CPU-specific copy: for
/// the tests that check the two give the same bits, and for the benchmark
/// that measures what the vectorised copy buys. Same results as [`gemm`].
///
/// # Panics
/// As [`gemm`].
#[doc(hidden)]
pub fn gemm_portable(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    if !checked_is_large(a, b, c) {
        return small_gemm(alpha, a, b, beta, c, b.cols);
    }
    with_workspace(|ws| blocked(ws, alpha, a, b, beta, c));
}

/// Checks every length and stride (panicking with the shapes if one is
/// wrong) and says whether the product is large enough to pack.
fn checked_is_large(a: MatRef<'_>, b: MatRef<'_>, c: &[f64]) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "gemm: inner dimensions {k} and {} differ", b.rows);
    assert_eq!(c.len(), m * n, "gemm: output holds {} elements, expected {m}x{n}", c.len());
    assert!(a.in_bounds(), "gemm: left operand view ({m}x{k}) runs past its {} elements", a.data.len());
    assert!(b.in_bounds(), "gemm: right operand view ({k}x{n}) runs past its {} elements", b.data.len());
    m * n * k > SMALL_GEMM
}

/// [`gemm`] for the tape's matmul, whose views come from arena slices of
/// checked shapes: a tiny product goes straight to the loop, skipping view
/// checks that cost more than a 3-element product (the loop's indexing is
/// still bounds-checked); larger ones take the checked path.
#[inline]
pub(crate) fn gemm_of_checked_shapes(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    if a.rows * b.cols * a.cols <= SMALL_GEMM && a.cols == b.rows && c.len() == a.rows * b.cols {
        small_gemm(alpha, a, b, beta, c, b.cols);
    } else {
        gemm(alpha, a, b, beta, c);
    }
}

/// True when an `m x k` by `k x n` product takes the plain loop
/// ([`small_gemm`]), not the packed one: what the emitter copies.
pub(crate) fn gemm_is_small(m: usize, k: usize, n: usize) -> bool {
    m * n * k <= SMALL_GEMM
}

/// The plain triple loop for tiny products, walking the strides directly
/// (the sine network's products have 1 to 3 elements, so the loop's setup
/// is most of its cost: plain index loops, no `chunks` and its division).
fn small_gemm(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64], n: usize) {
    let (m, k) = (a.rows, a.cols);
    let (ad, bd) = (a.data, b.data);
    let mut ic = 0;
    for i in 0..m {
        for j in 0..n {
            // Walk row i of a and column j of b by their strides.
            let (mut ia, mut ib) = (i * a.row_stride, j * b.col_stride);
            let mut acc = 0.0;
            for _ in 0..k {
                acc += ad[ia] * bd[ib];
                ia += a.col_stride;
                ib += b.row_stride;
            }
            c[ic] = if beta == 0.0 { alpha * acc } else { alpha * acc + beta * c[ic] };
            ic += 1;
        }
    }
}

/// Runs the blocked product with the best copy of the kernel this CPU has.
/// Every copy computes the same bits: see [`microkernel`].
fn packed(ws: &mut GemmWorkspace, alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // The audited unsafe call. A `#[target_feature]` function has one
        // precondition beyond its signature: the CPU must have the feature
        // it was compiled for. It was detected just above. Its body is
        // safe code (every slice access checked), so no length or stride can
        // make it read or write out of bounds.
        #[allow(unsafe_code)]
        // SAFETY: avx2 is present (checked on the line above).
        unsafe {
            blocked_avx2(ws, alpha, a, b, beta, c)
        };
        return;
    }
    blocked(ws, alpha, a, b, beta, c);
}

/// [`blocked`] compiled for AVX2: 4-wide vectors, the same operations in
/// the same order. FMA is deliberately not enabled (Rust never fuses
/// `a * b + c` by itself, but only a copy compiled without the feature
/// makes that visible in the source): a fused multiply-add rounds once
/// where the portable kernel rounds twice, and every CPU must give the
/// same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn blocked_avx2(ws: &mut GemmWorkspace, alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    blocked(ws, alpha, a, b, beta, c);
}

/// The loops around the microkernel (BLIS order): for each NC-wide block of
/// B's columns and each KC-deep slice of the inner dimension, pack that block
/// of B; for each MC-tall block of A's rows, pack it; then multiply every
/// pair of panels into a tile of C.
#[inline(always)]
fn blocked(ws: &mut GemmWorkspace, alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if k == 0 {
        // An empty sum: C = beta C (or 0), as BLAS does.
        c.iter_mut().for_each(|x| *x = if beta == 0.0 { 0.0 } else { beta * *x });
        return;
    }
    ws.reserve(MC.min(m).div_ceil(MR), NC.min(n).div_ceil(NR), KC.min(k));
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            // The first slice scales the old C by beta; later ones add to it.
            let beta = if pc == 0 { beta } else { 1.0 };
            let b_panels = nc.div_ceil(NR);
            let bp = &mut ws.b[..b_panels * kc];
            pack::<NR>(bp, b.t(), jc, nc, pc, kc);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let a_panels = mc.div_ceil(MR);
                let ap = &mut ws.a[..a_panels * kc];
                pack::<MR>(ap, a, ic, mc, pc, kc);
                for (jp, bpanel) in bp.chunks_exact(kc).enumerate() {
                    let j0 = jc + jp * NR;
                    for (ip, apanel) in ap.chunks_exact(kc).enumerate() {
                        let i0 = ic + ip * MR;
                        let tile = microkernel(apanel, bpanel);
                        store(c, n, i0, j0, (MR.min(m - i0), NR.min(n - j0)), &tile, alpha, beta);
                    }
                }
            }
        }
    }
}

/// One `MR x NR` tile of `A B` from an A panel and a B panel of equal depth:
/// the accumulators are a fixed-size array the compiler keeps in registers.
///
/// The arithmetic every path shares, so that every CPU gives the same
/// bits: each element starts at 0 and adds `a * b` (a rounded product,
/// then a rounded sum; never a fused multiply-add) in `k` order; the tile
/// is then stored as `alpha * tile` (or `alpha * tile + beta * c`), one KC
/// block after another. Vectorising across `j` changes no element's order.
#[inline(always)]
fn microkernel(a: &[[f64; MR]], b: &[[f64; NR]]) -> [[f64; NR]; MR] {
    let mut acc = [[0.0; NR]; MR];
    for (ak, bk) in a.iter().zip(b) {
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += ak[i] * bk[j]; // a rounded product, then a rounded sum
            }
        }
    }
    acc
}

/// Copies rows `i0..i0 + m`, columns `k0..k0 + kc` of `a` into panels of
/// `R` rows, column by column; rows past the end of `a` are zeros, so the
/// kernel never needs an edge case (the zeros' products are not stored).
/// A's panels are `pack::<MR>` of A; B's are `pack::<NR>` of B's transpose
/// (its columns become the panels' rows), a view, so nothing is copied twice.
#[inline(always)]
fn pack<const R: usize>(dst: &mut [[f64; R]], a: MatRef<'_>, i0: usize, m: usize, k0: usize, kc: usize) {
    for (p, panel) in dst.chunks_exact_mut(kc).enumerate() {
        let rows = R.min(m - p * R);
        for (kk, col) in panel.iter_mut().enumerate() {
            let base = (k0 + kk) * a.col_stride;
            for (i, x) in col.iter_mut().enumerate() {
                *x = if i < rows { a.data[(i0 + p * R + i) * a.row_stride + base] } else { 0.0 };
            }
        }
    }
}

/// Writes the valid `rows x cols` corner of a tile into C at (i0, j0):
/// `alpha * tile + beta * C`, or `alpha * tile` when `beta == 0` (the old C,
/// even NaN, is ignored).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn store(
    c: &mut [f64],
    n: usize,
    i0: usize,
    j0: usize,
    (rows, cols): (usize, usize),
    tile: &[[f64; NR]; MR],
    alpha: f64,
    beta: f64,
) {
    for (i, t) in tile.iter().enumerate().take(rows) {
        let row = &mut c[(i0 + i) * n + j0..][..cols];
        for (x, &t) in row.iter_mut().zip(t) {
            *x = if beta == 0.0 { alpha * t } else { alpha * t + beta * *x };
        }
    }
}
