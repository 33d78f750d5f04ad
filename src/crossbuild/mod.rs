//! Cross-building: toolchains (host cc, WASI SDK), target CPython, compile and
//! link, relinking CPython with extensions, and running WebAssembly.

pub mod cache;
pub mod compile;
pub mod component;
pub mod crossenv;
pub mod download;
pub mod fetch;
pub mod fpcast;
pub mod objlink;
pub mod pyconfig;
pub mod python;
pub mod relink;
#[cfg(feature = "run")]
pub mod run;
pub mod sdk;
#[cfg(feature = "run")]
pub mod serve;
pub mod sysconfigdata;
#[cfg(feature = "run")]
pub mod wasm;
pub mod wasm_meta;
pub mod world;
