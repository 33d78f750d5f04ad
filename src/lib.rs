//! wasiwheel: a PEP 517 build backend that cross-compiles Python projects with
//! C/C++ extension modules for WebAssembly/WASI (and builds ordinary native
//! wheels without a target).
//!
//! Data flows one way: config ([`pep517::config`], [`pep517::pyproject`]) →
//! a [`plan::BuildPlan`] → compile/link ([`crossbuild`]) → artifacts named by
//! [`tags`] → written by the [`pep517`] writers.

pub mod cli;
pub mod crossbuild;
pub mod error;
pub mod pep517;
pub mod plan;
pub mod progress;
pub mod tags;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
