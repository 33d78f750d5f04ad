//! PEP 517 build backend: config settings, `pyproject.toml` → core metadata,
//! and the sdist and wheel writers.
//!
//! It reads and writes the standard formats; it never compiles, links or
//! provisions (those are `crossbuild` and `toolchain`, reached through `plan`
//! and `driver`).

pub mod config;
pub mod metadata;
pub mod pyproject;
pub mod sdist;
pub mod timestamp;
pub mod wheel;
