//! wasiwheel: a PEP 517 build backend that cross-compiles Python projects with
//! C/C++ extension modules for WebAssembly/WASI (and builds ordinary native
//! wheels without a target).
//!
//! Data flows one way: config ([`pep517::config`], [`pep517::pyproject`]) →
//! a [`plan::BuildPlan`] → toolchains ([`toolchain`]) → compile/link
//! ([`crossbuild`]) → running ([`runtime`]) and components ([`component`]) →
//! artifacts named by [`tags`] → written by the [`pep517`] writers; [`driver`]
//! carries a plan out; [`registry`] makes and reads wheelhouses and indexes.
//! [`model`] and [`files`] are the leaves everything may use. See
//! docs/development.md ("Architecture") for which module may import which.

pub mod cli;
pub(crate) mod component;
pub(crate) mod crossbuild;
pub(crate) mod driver;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod http;
pub(crate) mod model;
pub(crate) mod pep517;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod registry;
pub(crate) mod runtime;
pub(crate) mod tags;
pub(crate) mod toolchain;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};

// The public surface is the command line (`cli::main`, used by the binary) and
// the error type; the Python module is built from the same crate. Everything
// else is crate-private, so unused code is reported.
