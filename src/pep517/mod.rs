//! PEP 517 build backend: config settings, `pyproject.toml` → core metadata,
//! and the sdist and wheel writers.

pub mod config;
pub mod metadata;
pub mod pyproject;
pub mod sdist;
pub mod timestamp;
pub mod wheel;
