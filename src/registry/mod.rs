//! A WASI wheel registry: a static package index of a wheelhouse
//! (`wasiwheel index`, [`index`]) and installation for the WASI target from
//! any index (`wasiwheel install`, [`install`]).
//!
//! Distribution files are read and checked by [`dist`], their core metadata by
//! [`coremeta`]. This module uses only `model`, `files` and `error`: the
//! command line resolves the target CPython and its wheel tags and hands them
//! in (docs/development.md, "Architecture"; docs/registry.md for users).

pub mod coremeta;
pub mod dist;
pub mod index;
pub mod install;
