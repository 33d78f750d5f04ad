//! wasiwheel's PyO3 sample: errors raised as Python exceptions, bytes and
//! dicts returned, a class with state, and a standard-library workout
//! (formatting, hashing, sorting) whose result is checked against Python's.

use std::collections::{BTreeMap, HashMap};

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// `text` parsed as a base-10 integer; `ValueError` naming it when it is not one.
#[pyfunction]
fn parse(text: &str) -> PyResult<i64> {
    text.trim().parse::<i64>().map_err(|e| PyValueError::new_err(format!("not an integer: {text:?} ({e})")))
}

/// `n` bytes counting up from `start` (wrapping at 256).
#[pyfunction]
fn ramp<'py>(py: Python<'py>, start: u8, n: usize) -> Bound<'py, PyBytes> {
    let data: Vec<u8> = (0..n).map(|i| start.wrapping_add(i as u8)).collect();
    PyBytes::new(py, &data)
}

/// How often each word occurs in `text`, as a dict (words in first-seen order).
#[pyfunction]
fn word_counts<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyDict>> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut order = Vec::new();
    for w in text.split_whitespace() {
        let c = counts.entry(w).or_insert(0);
        if *c == 0 {
            order.push(w);
        }
        *c += 1;
    }
    let d = PyDict::new(py);
    for w in order {
        d.set_item(w, counts[w])?;
    }
    Ok(d)
}

/// Keys of `d` sorted, each with its value formatted as `{value:>8.3}`.
#[pyfunction]
fn table(d: BTreeMap<String, f64>) -> Vec<String> {
    d.iter().map(|(k, v)| format!("{k}={v:>8.3}")).collect()
}

/// Panics with `message` (a Rust panic; see docs/foreign-sdists.md on how it ends in WASI).
#[pyfunction]
fn panic(message: &str) {
    panic!("{message}");
}

/// A named counter.
#[pyclass]
struct Counter {
    name: String,
    counts: BTreeMap<String, i64>,
}

#[pymethods]
impl Counter {
    #[new]
    fn new(name: String) -> Self {
        Counter { name, counts: BTreeMap::new() }
    }

    /// Add `by` to `key`; returns the new count.
    #[pyo3(signature = (key, by=1))]
    fn add(&mut self, key: String, by: i64) -> i64 {
        let c = self.counts.entry(key).or_insert(0);
        *c += by;
        *c
    }

    /// The count of `key`; `KeyError` when it was never added.
    fn get(&self, key: &str) -> PyResult<i64> {
        self.counts.get(key).copied().ok_or_else(|| PyKeyError::new_err(key.to_string()))
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    fn __len__(&self) -> usize {
        self.counts.len()
    }

    fn __repr__(&self) -> String {
        format!("Counter({:?}, {} keys)", self.name, self.counts.len())
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(ramp, m)?)?;
    m.add_function(wrap_pyfunction!(word_counts, m)?)?;
    m.add_function(wrap_pyfunction!(table, m)?)?;
    m.add_function(wrap_pyfunction!(panic, m)?)?;
    m.add_class::<Counter>()?;
    Ok(())
}
