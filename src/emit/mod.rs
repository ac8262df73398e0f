//! Compile a recorded tape to Rust source: the value of a program and its
//! gradients as plain straight-line code, with no tape, no allocation and
//! no dynamic dispatch (CasADi's `CodeGenerator`, Tapenade's adjoint
//! routines, for a tapegrad tape).
//!
//! You record the program once, mark which nodes are its arguments and
//! which is its output, and get a module's text with two functions per
//! program: `NAME(args..) -> f64` and `NAME_grad(args.., grads..) -> f64`,
//! which also writes d(output)/d(argument) into caller buffers. Shapes are
//! fixed at recording, so an argument of shape `[]` is an `f64` and any
//! other a `&[f64; N]` (row-major); its gradient buffer is `&mut f64` or
//! `&mut [f64; N]`.
//!
//! ```
//! use tapegrad::{Tape, emit::Module};
//! let tape = Tape::new();
//! let a = tape.scalar(2.0).named("a");
//! let b = tape.scalar(3.0).named("b");
//! let y = (a * b).sin().named("y");
//! let src = Module::new().function("f", y, &[a, b]).unwrap().to_source();
//! assert!(src.contains("pub fn f(a: f64, b: f64) -> f64"));
//! assert!(src.contains("pub fn f_grad(a: f64, b: f64, d_a: &mut f64, d_b: &mut f64) -> f64"));
//! assert!(src.contains("// 3: sin(v2)\n    let y = v2.sin();"));
//! ```
//!
//! **Bit for bit.** Each op writes its own code (`Op::emit_forward`,
//! `emit_backward`, beside its `forward` and `backward` in its file of
//! `src/ops/`): the same float operations in the same order, so the
//! generated code returns exactly the tape's value and gradients, eager or
//! replayed. The reverse sweep is copied too: nodes from the output back to
//! the first, each *adding* its contribution into its inputs' adjoints,
//! which start at `0.0` (so a first contribution of `-0.0` gives `0.0`, as
//! on the tape). Small products copy the GEMM's plain loop; large ones call
//! [`crate::tensor::gemm`] itself, so their blocked summation order is the
//! tape's by construction (the generated module then uses `tapegrad`).
//!
//! **Which ops.** Every built-in op: elementwise rules through their
//! source text (`UnaryFn::F_SRC`, `BinaryFn::F_SRC`..., under any
//! broadcasting), reductions and axis ops (`sum`, `mean`, `sum_axis`,
//! `mean_axis`, `max_axis`, `min_axis`, `argmax`, `argmin`, `softmax`,
//! `log_softmax`), products (`matmul`, batched `matmul`), layout and
//! selection (`t`, `reshape`, `permute`, `narrow`, `concat`,
//! `broadcast_to`, `sum_to`, `pick`, `gather`, `index_select`,
//! `scatter_add`, `index_add`, `where`), masks (`sign`, `step`, `ge_mask`)
//! and `detach`. A user op (`Tape::custom`, or a rule without `F_SRC`) has
//! none unless it writes one: emitting it is [`EmitError::NoRule`].
//! Indices are read from their node (a constant array in the code), so
//! the code does what a replay does.
//!
//! **What is left out.** Nodes the output does not depend on, and the
//! adjoints of nodes no argument flows into. Inputs that are not arguments
//! (data, targets, unmarked weights) become constants in the code, written
//! so they round-trip exactly ([`f64_literal`]).
//!
//! **Size.** rustc's time on one function grows faster than linearly with
//! its size (at `-O`: 0.34 s for 1,000 nodes, 20 s for 10,000; see
//! BENCHMARKS.md). A program of at most [`CHUNK`] live nodes is one
//! straight-line body per function, as above. A larger one is cut, in
//! recording order, into chunks of at most [`CHUNK`] nodes, each an
//! `#[inline(never)]` function (`NAME_fwd_K`, `NAME_bwd_K`) whose body is
//! the same lines; `NAME` and `NAME_grad` call the forward chunks in
//! order, and `NAME_grad` then the backward chunks in reverse. Values and
//! adjoints that cross a chunk's edge go through two `f64` arrays on the
//! stack (`saved`, `d_saved`), loaded into the usual `let`s at a chunk's
//! top and stored at its end: still no allocation, still the same float
//! operations in the same order, and rustc's time now grows linearly.
//! Past [`MAX_NODES`] live nodes emitting is an error.

mod chunk;
mod function;
mod names;

use crate::tape::Var;
pub use crate::tape::emit_cx::f64_literal;
use std::fmt;

/// Most nodes (live, not parameters) one straight-line function holds; a
/// larger program is written as `#[inline(never)]` chunks of at most this
/// many. Measured (`tests/emit_cost.rs`, its chunk size set with
/// `TAPEGRAD_EMIT_CHUNK`; BENCHMARKS.md, one sitting): the
/// 10,000-node chain takes rustc -O 20 s as one function, 5.0 s in chunks
/// of 1,000, 3.6 s of 500, 2.8 s of 250; 30,000 nodes 11.8 s, 11.1 s, 7.9
/// s. Smaller chunks compile faster still but run slower: the 1,000-node
/// pendulum in chunks of 250 runs about 10% slower than as one function
/// (`benches/pendulum.rs`, `compiled_chunked`). 1,000 keeps every program
/// checked in and benchmarked one straight-line function; [`Module::chunk`]
/// picks another size.
pub const CHUNK: usize = 1_000;

/// Most live nodes a program may have. Chunked, rustc's time grows
/// linearly (about 0.4 s per 1,000 nodes at `-O`: 12 s for 30,000, so
/// about 20 s here), and `saved` and `d_saved` each hold up to one `f64`
/// per node on the caller's stack (400 KB each here, for scalars; a tensor saved across chunks
/// takes all its elements, so a chunked program of large tensors can need
/// a bigger stack). Past this, record a loop's body once instead of its
/// unrolling.
pub const MAX_NODES: usize = 50_000;

/// Why a program could not be emitted.
///
/// ```
/// use tapegrad::{Tape, Tensor, emit::{EmitError, Module}};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::ones(&[2]));
/// let e = Module::new().function("f", x * 2.0, &[x]).unwrap_err();
/// assert!(matches!(e, EmitError::NotScalar { .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum EmitError {
    /// A node's op has no emit rule (a user op without one), or none for
    /// these shapes.
    NoRule {
        /// The op's name.
        op: String,
        /// The node.
        node: usize,
        /// The inputs' shapes.
        shapes: Vec<Vec<usize>>,
    },
    /// An argument is not one of the tape's inputs (`var`, `constant`).
    NotAnInput {
        /// The node given as an argument.
        node: usize,
        /// Its op.
        op: String,
    },
    /// The output must be one element (a loss).
    NotScalar {
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// An argument or the output is on another tape than the others.
    OtherTape,
    /// Two functions of one module share a name, or one node is passed
    /// twice as an argument (two nodes that share a name are renamed).
    DuplicateName(String),
    /// More live nodes than [`MAX_NODES`].
    TooLarge {
        /// Live nodes of the program.
        nodes: usize,
        /// The limit, [`MAX_NODES`].
        limit: usize,
    },
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::NoRule { op, node, shapes } => {
                write!(f, "emit: op `{op}` (node {node}, input shapes {shapes:?}) has no emit rule")
            }
            EmitError::NotAnInput { node, op } => {
                write!(f, "emit: argument node {node} is a `{op}` node, not an input (var or constant)")
            }
            EmitError::NotScalar { shape } => {
                write!(f, "emit: the output has shape {shape:?}, not one element; reduce it first (sum, mean)")
            }
            EmitError::OtherTape => write!(f, "emit: the output and the arguments are not all on one tape"),
            EmitError::DuplicateName(n) => write!(f, "emit: the name `{n}` is used twice"),
            EmitError::TooLarge { nodes, limit } => write!(
                f,
                "emit: {nodes} live nodes, more than the limit of {limit} (emit::MAX_NODES): rustc would take minutes; record a loop's body once instead of its unrolling"
            ),
        }
    }
}

impl std::error::Error for EmitError {}

/// A generated module: functions added one after another, the helper
/// functions they call written once at the top.
///
/// ```
/// use tapegrad::{Tape, emit::Module};
/// let tape = Tape::new();
/// let x = tape.scalar(0.5).named("x");
/// let m = Module::new()
///     .function("sig", x.sigmoid(), &[x]).unwrap()
///     .function("sq", (x * x).sigmoid(), &[x]).unwrap();
/// let src = m.to_source();
/// assert_eq!(src.matches("fn stable_sigmoid(").count(), 1); // the helper both call, once
/// assert!(src.contains("pub fn sq_grad("));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Module {
    functions: Vec<(String, String)>,
    helpers: Vec<&'static str>,
    /// The chunk size of the functions added next ([`Module::chunk`]);
    /// `None` is [`CHUNK`].
    chunk: Option<usize>,
}

impl Module {
    /// An empty module.
    ///
    /// ```
    /// assert!(tapegrad::emit::Module::new().to_source().contains("@generated"));
    /// ```
    pub fn new() -> Module {
        Module::default()
    }

    /// Cuts the functions added after this call into chunks of at most
    /// `nodes` live nodes (the default is [`CHUNK`]); a function of at most
    /// `nodes` is written whole, and `usize::MAX` writes every function
    /// whole. Smaller chunks compile faster; BENCHMARKS.md measures what
    /// they cost at run time. A size of 0 is taken as 1.
    ///
    /// ```
    /// use tapegrad::{Tape, emit::Module};
    /// let tape = Tape::new();
    /// let x = tape.scalar(0.5).named("x");
    /// let y = x.sin().exp().tanh();
    /// let src = Module::new().chunk(1).function("f", y, &[x]).unwrap().to_source();
    /// assert!(src.contains("fn f_fwd_2(") && !src.contains("fn f_fwd_3("));
    /// ```
    pub fn chunk(mut self, nodes: usize) -> Module {
        self.chunk = Some(nodes.max(1));
        self
    }

    /// Adds `NAME` and `NAME_grad` computing `output` from `args`, which
    /// must be inputs of the tape (`Tape::var`, `scalar`, `constant`...):
    /// each becomes a parameter named after its node (`Var::named`), and
    /// `NAME_grad` writes its gradient. Every other input is baked in as a
    /// constant.
    ///
    /// ```
    /// use tapegrad::{Tape, emit::Module};
    /// let tape = Tape::new();
    /// let x = tape.scalar(3.0).named("x");
    /// let src = Module::new().function("cube", x * x * x, &[x]).unwrap().to_source();
    /// assert!(src.contains("d_x: &mut f64"));
    /// ```
    pub fn function(self, name: &str, output: Var<'_>, args: &[Var<'_>]) -> Result<Module, EmitError> {
        self.function_with_inputs(name, output, args, &[])
    }

    /// Like [`Module::function`], with `inputs` too: parameters of both
    /// functions that get no gradient (a sample, its target), so one
    /// compiled step serves every sample.
    ///
    /// ```
    /// use tapegrad::{Tape, emit::Module};
    /// let tape = Tape::new();
    /// let w = tape.scalar(0.5).named("w");
    /// let x = tape.constant(tapegrad::Tensor::scalar(2.0)).named("x");
    /// let src = Module::new().function_with_inputs("f", (w * x).tanh(), &[w], &[x]).unwrap().to_source();
    /// assert!(src.contains("pub fn f_grad(w: f64, x: f64, d_w: &mut f64) -> f64"));
    /// ```
    pub fn function_with_inputs(
        mut self,
        name: &str,
        output: Var<'_>,
        args: &[Var<'_>],
        inputs: &[Var<'_>],
    ) -> Result<Module, EmitError> {
        if self.functions.iter().any(|(n, _)| n == name) {
            return Err(EmitError::DuplicateName(name.to_string()));
        }
        let tape = output.tape();
        if args.iter().chain(inputs).any(|v| !std::ptr::eq(v.tape(), tape)) {
            return Err(EmitError::OtherTape);
        }
        let inner = tape.inner.borrow();
        let program = function::Program::read(&inner, output.index(), args, inputs)?;
        // Past CHUNK lets, one function would take rustc superlinear time.
        let size = self.chunk.unwrap_or(CHUNK);
        let text = if program.lets() > size {
            chunk::emit(&program, name, size, &mut self.helpers)?
        } else {
            function::emit_whole(&program, name, &mut self.helpers)?
        };
        self.functions.push((name.to_string(), text));
        Ok(self)
    }

    /// The module's source: a header, the helpers, then every function.
    /// Include it inside a `mod` of its own (`mod step { include!(..); }`):
    /// the helpers are private items of that module.
    ///
    /// ```
    /// let src = tapegrad::emit::Module::new().to_source();
    /// assert!(src.starts_with("// @generated by tapegrad::emit"));
    /// ```
    pub fn to_source(&self) -> String {
        let mut s = String::from("// @generated by tapegrad::emit: do not edit; regenerate it from the recording.\n");
        for h in &self.helpers {
            s.push('\n');
            s.push_str(h);
            s.push('\n');
        }
        for (_, f) in &self.functions {
            s.push('\n');
            s.push_str(f);
        }
        s
    }
}
