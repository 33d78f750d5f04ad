//! Cross-building: compiling and linking for the target. Owns the compile of
//! one extension (`compile`), the function-pointer cast repair (`fpcast`),
//! keeping modules' symbols apart in static links (`objlink`), one definition
//! for the symbols CPython and wasi-libc both define (`overlap`), relinking
//! CPython with extensions built in (`relink`) with the result repair of
//! linked interpreters (`resultcast`), and the cross environment for foreign
//! PEP 517 backends (`crossenv/`).
//!
//! It uses the toolchains (`toolchain`) and never runs WebAssembly, builds
//! components, or names wheels (`runtime`, `component`, `tags`).

pub mod compile;
pub mod crossenv;
pub mod fpcast;
pub mod objlink;
pub mod overlap;
pub mod relink;
pub mod resultcast;
