//! The embedded wasmtime: running modules and components (`wasm`: the engine,
//! its cache, wizer pre-initialization), `wasiwheel run` and `exec` with a
//! relinked interpreter (`run`), `wasiwheel test` (`test`), and `wasiwheel
//! serve` for wasi:http/proxy components (`serve`).
//!
//! It runs what `crossbuild` links; it never compiles, and never writes wheels.

#[cfg(feature = "run")]
pub mod run;
#[cfg(feature = "run")]
pub mod serve;
#[cfg(feature = "run")]
pub mod test;
#[cfg(feature = "run")]
pub mod wasm;
