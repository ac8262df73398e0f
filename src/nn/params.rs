//! Named, ordered parameters, and their Vars on a tape for one step.
//!
//! A model's parameters live in [`Params`] (an `IndexMap<String, Tensor>`:
//! `"hidden.w"`, `"hidden.b"`, ...), outside any tape. Each training step
//! copies them onto a tape as leaf Vars ([`Params::on_tape`]), runs the
//! forward pass and the backward sweep, then reads the gradients back by
//! name ([`ParamVars::grads`]) or has an optimizer apply them in place
//! ([`Optimizer::step`](crate::optim::Optimizer::step), the one way to step
//! a model; plain SGD is [`Sgd`](crate::optim::Sgd) with its defaults).
//!
//! # The zero-allocation path
//! A loop that reuses one tape allocates nothing after its first step:
//! - `tape.clear()` keeps the arenas' capacity;
//! - [`Params::on_tape`] records each parameter with `tape.var(&tensor)`
//!   (a copy into the arena) and names it through the tape's name arena;
//!   it returns a [`ParamVars`], a `Copy` handle (tape, first node, count),
//!   not a `Vec`: parameter `i` is node `first + i`;
//! - `opt.step(&mut params, vars, &grads)` reads each gradient as a slice
//!   with `Gradients::with_grad` and updates the tensor in place, building
//!   no `Tensor`; the optimizer's per-parameter state, made on the first
//!   step, is found by name without allocating.
//!
//! The allocating conveniences ([`ParamVars::grads`], [`Params::get`] into
//! a clone, ...) are for tests and printing.
//!
//! ```
//! use tapegrad::{Tape, Tensor, nn::Params, optim::{Optimizer, Sgd, SgdConfig}};
//! let mut params = Params::new();
//! params.insert("w", Tensor::from_vec(vec![1.0, 2.0], &[2]));
//! let mut opt = Sgd::new(SgdConfig { lr: 0.25, ..Default::default() }).unwrap();
//! let mut tape = Tape::new();
//! for _ in 0..3 {
//!     tape.clear();                           // keeps the arena: no allocation
//!     let vars = params.on_tape(&tape);       // Copy handle, no Vec
//!     let loss = vars.by_name(&params, "w").square().sum();
//!     let grads = loss.backward();
//!     opt.step(&mut params, vars, &grads).unwrap(); // w -= 0.25 * 2w, in place
//! }
//! assert_eq!(params["w"].data(), &[0.125, 0.25]); // halved three times
//! ```

use crate::tape::{Gradients, Tape, Var};
use crate::tensor::Tensor;
use indexmap::IndexMap;

/// Gradients of the parameters by name, in the parameters' order.
///
/// ```
/// use tapegrad::{Tape, Tensor, nn::{ParamGrads, Params}};
/// let mut p = Params::new();
/// p.insert("w", Tensor::from_vec(vec![1.0, 2.0], &[2]));
/// let tape = Tape::new();
/// let v = p.on_tape(&tape);
/// let g: ParamGrads = v.grads(&p, &v.get(0).square().sum().backward());
/// assert_eq!(g["w"].data(), &[2.0, 4.0]); // 2w
/// ```
pub type ParamGrads = IndexMap<String, Tensor>;

/// Named, ordered parameters: an `IndexMap<String, Tensor>` with the
/// operations a training step needs.
///
/// ```
/// use tapegrad::{Tensor, nn::Params};
/// let mut p = Params::new();
/// p.insert("out.w", Tensor::zeros(&[3, 1]));
/// p.insert("out.b", Tensor::zeros(&[1]));
/// assert_eq!(p.names().collect::<Vec<_>>(), ["out.w", "out.b"]);
/// assert_eq!(p.numel(), 4);
/// ```
pub struct Params {
    map: IndexMap<String, Tensor>,
    /// Which set of parameters this is, so that the [`ParamVars`] of one
    /// `Params` cannot step another of the same size (they would silently
    /// update the wrong tensors). Unique per value: a clone gets its own.
    id: u64,
}

/// A fresh [`Params`] id.
fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for Params {
    fn default() -> Params {
        Params { map: IndexMap::new(), id: next_id() }
    }
}

/// A clone holds the same tensors but is another set of parameters: it
/// gets its own id, so the original's [`ParamVars`] cannot step it.
impl Clone for Params {
    fn clone(&self) -> Params {
        Params { map: self.map.clone(), id: next_id() }
    }
}

/// Equal when the names, order and tensors are equal (the id is identity, not value).
impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.map == other.map
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params").field("map", &self.map).finish()
    }
}

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds (or replaces) a parameter and returns its position.
    ///
    /// ```
    /// let mut p = tapegrad::nn::Params::new();
    /// assert_eq!(p.insert("a", tapegrad::Tensor::scalar(1.0)), 0);
    /// assert_eq!(p.insert("b", tapegrad::Tensor::scalar(2.0)), 1);
    /// ```
    pub fn insert(&mut self, name: impl Into<String>, value: Tensor) -> usize {
        self.map.insert_full(name.into(), value).0
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.map.get(name)
    }

    /// The parameter called `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Tensor> {
        self.map.get_mut(name)
    }

    /// Position of `name` in the order, which is also its node's offset in
    /// a [`ParamVars`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.map.get_index_of(name)
    }

    /// Number of parameter tensors.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Total number of scalars over all parameters.
    ///
    /// ```
    /// let mut p = tapegrad::nn::Params::new();
    /// p.insert("w", tapegrad::Tensor::zeros(&[2, 3]));
    /// assert_eq!(p.numel(), 6);
    /// ```
    pub fn numel(&self) -> usize {
        self.map.values().map(Tensor::len).sum()
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// `(name, tensor)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `(name, tensor)` pairs with the tensors mutable, in order: what an
    /// optimizer steps ("named params with named grads").
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Tensor)> {
        self.map.iter_mut().map(|(k, v)| (k.as_str(), v))
    }

    /// Records every parameter on `tape` as a named leaf Var, in order, and
    /// returns a handle to them. Allocates nothing once the tape's arenas
    /// have grown (see the module docs).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::ones(&[2]));
    /// let tape = Tape::new();
    /// let vars = p.on_tape(&tape);
    /// assert_eq!(vars.get(0).name().as_deref(), Some("w"));
    /// ```
    pub fn on_tape<'t>(&self, tape: &'t Tape) -> ParamVars<'t> {
        self.record(tape, |t, v| t.var(v))
    }

    /// Like [`Params::on_tape`], but each parameter is recorded as a
    /// constant: no node computed from them needs a gradient, so the tape
    /// keeps no adjoint slot for any of them (inference; see
    /// [`no_grad`](super::no_grad)). The returned `ParamVars` works with
    /// every layer as `on_tape`'s does.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::ones(&[2]));
    /// let tape = Tape::new();
    /// let vars = p.constants_on_tape(&tape);
    /// assert!(!vars.get(0).requires_grad());
    /// assert_eq!(vars.by_name(&p, "w").value().data(), &[1.0, 1.0]);
    /// ```
    pub fn constants_on_tape<'t>(&self, tape: &'t Tape) -> ParamVars<'t> {
        self.record(tape, |t, v| t.constant(v))
    }

    /// Records every parameter by `input` (a leaf or a constant), named,
    /// in order: the two above.
    fn record<'t>(&self, tape: &'t Tape, input: impl Fn(&'t Tape, &Tensor) -> Var<'t>) -> ParamVars<'t> {
        let first = tape.len();
        for (name, value) in &self.map {
            input(tape, value).named(name);
        }
        ParamVars { tape, first, count: self.map.len(), owner: Some(self.id) }
    }

    /// Calls `f(name, param, grad)` for every parameter the loss reaches,
    /// in order, with the gradient as a slice read straight from `grads`,
    /// allocating nothing: what `Optimizer::step` steps through. A
    /// parameter the loss does not reach (recorded after it) is skipped.
    ///
    /// An error (nothing stepped) if `vars` was not made by these
    /// parameters' [`Params::on_tape`] (the handle of another `Params` of
    /// the same size, or of a clone, is refused rather than silently
    /// stepping the wrong tensors), a parameter's shape no longer matches
    /// its Var, or `grads` were swept on another tape.
    pub(crate) fn for_each_grad<'t>(
        &mut self,
        vars: ParamVars<'t>,
        grads: &Gradients<'t>,
        mut f: impl FnMut(&str, &mut Tensor, &[f64]),
    ) -> Result<(), String> {
        self.try_check_vars("step", vars)?;
        if !std::ptr::eq(vars.tape, grads.tape) {
            return Err("step: the gradients were swept on another tape than these ParamVars".to_string());
        }
        grads.for_each_in(vars.first, vars.count, |k, g| {
            if let (Some(g), Some((name, value))) = (g, self.map.get_index_mut(k)) {
                f(name, value, g);
            }
        });
        Ok(())
    }

    /// Largest absolute difference between matching parameters, by name.
    ///
    /// # Panics
    /// If the two do not hold the same names with the same shapes.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut a = Params::new();
    /// a.insert("w", Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let mut b = a.clone();
    /// b.get_mut("w").unwrap().data_mut()[1] = 2.5;
    /// assert_eq!(a.max_abs_diff(&b), 0.5);
    /// ```
    pub fn max_abs_diff(&self, other: &Params) -> f64 {
        assert_eq!(self.len(), other.len(), "max_abs_diff: {} parameters vs {}", self.len(), other.len());
        self.iter()
            .map(|(name, a)| {
                let b = other.get(name).unwrap_or_else(|| panic!("max_abs_diff: the other has no parameter {name:?}"));
                a.max_abs_diff(b)
            })
            .fold(0.0, crate::tensor::max_keep_nan) // a NaN difference is not "no difference"
    }

    /// Refuses `vars` made from other parameters: by id when `on_tape` made
    /// them, and always by count and by each parameter's shape (so
    /// `ParamVars::from_vars` handles are checked as far as they can be).
    /// Allocates nothing: it runs at every training step.
    fn check_vars(&self, op: &str, vars: ParamVars<'_>) {
        if let Err(e) = self.try_check_vars(op, vars) {
            panic!("{e}");
        }
    }

    /// Why `vars` cannot stand for these parameters, if it cannot.
    pub(crate) fn try_check_vars(&self, op: &str, vars: ParamVars<'_>) -> Result<(), String> {
        self.try_check_owner(op, vars)?;
        // One borrow of the tape for all the shapes: this runs every step.
        vars.tape.try_for_each_shape(vars.first, vars.count, |k, shape| {
            let (name, value) = self.map.get_index(k).expect("the counts were compared above");
            if crate::tensor::same_shape(shape, value.shape()) {
                return Ok(());
            }
            Err(format!(
                "{op}: parameter {name:?} has shape {:?} but its Var (node {}) has shape {shape:?}; \
                 was it replaced after on_tape?",
                value.shape(),
                vars.first + k
            ))
        })
    }

    /// The part of [`Params::try_check_vars`] that needs no look at the
    /// tape: the id and the count (a caller holding the tape's borrow
    /// checks the shapes as it goes).
    pub(crate) fn try_check_owner(&self, op: &str, vars: ParamVars<'_>) -> Result<(), String> {
        if vars.owner.is_some_and(|owner| owner != self.id) {
            return Err(format!(
                "{op}: these ParamVars were made by on_tape of other Params (a different model, or a clone); \
                 use the ParamVars these Params' on_tape returned"
            ));
        }
        if vars.count != self.len() {
            return Err(format!(
                "{op}: these Vars hold {} parameters but the Params hold {}; use the ParamVars made by on_tape",
                vars.count,
                self.len()
            ));
        }
        Ok(())
    }
}

impl std::ops::Index<&str> for Params {
    type Output = Tensor;

    /// The parameter called `name`; panics with the known names if missing.
    fn index(&self, name: &str) -> &Tensor {
        self.get(name)
            .unwrap_or_else(|| panic!("Params: no parameter {name:?}; have {:?}", self.names().collect::<Vec<_>>()))
    }
}

impl FromIterator<(String, Tensor)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Params {
        Params { map: iter.into_iter().collect(), id: next_id() }
    }
}

/// The parameters' Vars on one tape: parameter `i` is node `first + i`.
/// A `Copy` handle, so getting it allocates nothing.
///
/// ```
/// use tapegrad::{Tape, Tensor, nn::Params};
/// let mut p = Params::new();
/// p.insert("a", Tensor::scalar(2.0));
/// p.insert("b", Tensor::scalar(5.0));
/// let tape = Tape::new();
/// let v = p.on_tape(&tape);
/// let f = v.by_name(&p, "a") * v.by_name(&p, "b");
/// let g = v.grads(&p, &f.backward());
/// assert_eq!((g["a"].item(), g["b"].item()), (5.0, 2.0));
/// ```
#[derive(Clone, Copy)]
pub struct ParamVars<'t> {
    tape: &'t Tape,
    first: usize,
    count: usize,
    /// The id of the [`Params`] whose `on_tape` made this handle; `None`
    /// for [`ParamVars::from_vars`], which any Params of that layout may use.
    owner: Option<u64>,
}

impl<'t> ParamVars<'t> {
    /// The handle for Vars that sit on consecutive nodes of one tape, in
    /// the parameters' order: e.g. the Vars `check::gradcheck` records for
    /// `params.iter()` tensors, so a model's `forward` can run under gradcheck.
    ///
    /// # Panics
    /// If the Vars are not consecutive nodes.
    ///
    /// ```
    /// use tapegrad::{Tape, nn::ParamVars};
    /// let tape = Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(2.0));
    /// assert_eq!(ParamVars::from_vars(&tape, &[a, b]).get(1).item(), 2.0);
    /// ```
    pub fn from_vars(tape: &'t Tape, vars: &[Var<'t>]) -> ParamVars<'t> {
        let first = vars.first().map_or(tape.len(), |v| v.index());
        for (i, v) in vars.iter().enumerate() {
            assert!(
                std::ptr::eq(v.tape(), tape) && v.index() == first + i,
                "ParamVars::from_vars: Var {i} is node {} but must be node {} of the given tape (consecutive Vars)",
                v.index(),
                first + i
            );
        }
        ParamVars { tape, first, count: vars.len(), owner: None }
    }

    /// The handle from its parts ([`ParamVars::parts`]), for a helper that
    /// keeps a tape and its parameters' place on it (`nn::ReplayStep`).
    pub(crate) fn from_parts(tape: &'t Tape, first: usize, count: usize, owner: Option<u64>) -> ParamVars<'t> {
        ParamVars { tape, first, count, owner }
    }

    /// The first node, the number of parameters and the owner's id.
    pub(crate) fn parts(self) -> (usize, usize, Option<u64>) {
        (self.first, self.count, self.owner)
    }

    /// The Var of parameter `i` (in the parameters' order).
    ///
    /// # Panics
    /// If `i` is out of range.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(2.0));
    /// let tape = Tape::new();
    /// assert_eq!(p.on_tape(&tape).get(0).item(), 2.0);
    /// ```
    pub fn get(self, i: usize) -> Var<'t> {
        assert!(i < self.count, "ParamVars::get: index {i} but there are {} parameters", self.count);
        self.tape.node(self.first + i)
    }

    /// The Var of the parameter called `name`.
    ///
    /// # Panics
    /// If `params` has no such parameter.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(2.0));
    /// let tape = Tape::new();
    /// assert_eq!(p.on_tape(&tape).by_name(&p, "w").item(), 2.0);
    /// ```
    pub fn by_name(self, params: &Params, name: &str) -> Var<'t> {
        let i = params.index_of(name).unwrap_or_else(|| {
            panic!("ParamVars::by_name: no parameter {name:?}; have {:?}", params.names().collect::<Vec<_>>())
        });
        self.get(i)
    }

    /// Number of parameters.
    pub fn len(self) -> usize {
        self.count
    }

    /// True when there are no parameters.
    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    /// The Vars, in the parameters' order.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("a", Tensor::scalar(1.0));
    /// p.insert("b", Tensor::scalar(2.0));
    /// let tape = Tape::new();
    /// let sum: f64 = p.on_tape(&tape).iter().map(|v| v.item()).sum();
    /// assert_eq!(sum, 3.0);
    /// ```
    pub fn iter(self) -> impl Iterator<Item = Var<'t>> {
        (0..self.count).map(move |i| self.get(i))
    }

    /// The gradients of every parameter, by name (copies: for tests,
    /// printing and optimizers that want tensors).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::from_vec(vec![1.0, -1.0], &[2]));
    /// let tape = Tape::new();
    /// let v = p.on_tape(&tape);
    /// let g = v.grads(&p, &(v.get(0) * 3.0).sum().backward());
    /// assert_eq!(g["w"].data(), &[3.0, 3.0]);
    /// ```
    pub fn grads(self, params: &Params, grads: &Gradients<'t>) -> ParamGrads {
        params.check_vars("grads", self);
        params.names().enumerate().map(|(i, name)| (name.to_string(), grads.wrt(self.get(i)))).collect()
    }
}

impl std::fmt::Debug for ParamVars<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParamVars(nodes {}..{})", self.first, self.first + self.count)
    }
}
