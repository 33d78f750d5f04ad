//! Toolchains for the target: WASI SDKs (`sdk/`: official releases and the
//! Debian assembly), target CPythons (`python/`: source builds, compile-only
//! assemblies, the standard library's C libraries), the WASI `pyconfig.h` and
//! sysconfigdata they carry (`pyconfig`, `sysconfigdata`), what a wasm file
//! says about its producers (`wasm_meta`), the cache, downloads, pinned
//! sources (`sources`, `apt`), exception-enabled C++ runtimes (`cxx_eh`) and
//! provisioning on first use (`provision`).
//!
//! It provisions and describes; it never compiles a project's code, runs
//! WebAssembly, or builds wheels.

pub mod apt;
pub mod cache;
pub mod cxx_eh;
pub mod download;
pub mod provision;
pub mod pyconfig;
pub mod python;
pub mod sdk;
pub mod sources;
pub mod sysconfigdata;
pub mod wasm_meta;
