//! The timestamp stamped on every file of a wheel or sdist, for reproducible
//! builds: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org
//! specification), otherwise a fixed default, so two builds of the same tree
//! are byte-identical either way.

use crate::error::{Error, Result};

/// 1980-01-01T00:00:00Z: the earliest time a zip file can record.
pub const DEFAULT_TIMESTAMP: i64 = crate::files::ZIP_EPOCH;

/// The build timestamp in seconds since the Unix epoch: `SOURCE_DATE_EPOCH`
/// if set (values before 1980 are raised to 1980 in wheels, as zip requires),
/// else [`DEFAULT_TIMESTAMP`].
///
/// Errors: [`Error::Config`] naming `SOURCE_DATE_EPOCH` when it is not a
/// non-negative whole number of seconds.
pub fn build_timestamp() -> Result<i64> {
    parse(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

fn parse(value: Option<&str>) -> Result<i64> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT_TIMESTAMP),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Error::config(
                "SOURCE_DATE_EPOCH",
                format!(
                    "`{v}` is not a number of seconds since 1970-01-01 (e.g. \
                `1700000000`); fix or unset the environment variable"
                ),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse(None).unwrap(), DEFAULT_TIMESTAMP);
        assert_eq!(parse(Some("1700000000")).unwrap(), 1_700_000_000);
        assert!(parse(Some("yesterday")).unwrap_err().to_string().contains("SOURCE_DATE_EPOCH"));
        assert!(parse(Some("-5")).is_err());
    }
}
