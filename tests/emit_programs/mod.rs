//! The recordings behind the checked-in generated code of `examples/compiled/`.
