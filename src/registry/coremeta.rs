//! Reading core metadata (the "Core metadata specifications"): the
//! email-header format of a wheel's `METADATA` and an sdist's `PKG-INFO`.
//!
//! Only the header block is read (the body after the first blank line is the
//! description); continuation lines (starting with whitespace) are folded into
//! the field before them, as the email format (RFC 822) that the spec uses
//! requires.

/// The header fields of a core metadata file, in order (a field may repeat).
#[derive(Debug, Default)]
pub struct CoreMetadata {
    fields: Vec<(String, String)>,
}

impl CoreMetadata {
    /// Parse `text`, the contents of `METADATA`/`PKG-INFO`.
    ///
    /// Errors: a message naming the line when a header line has no `:`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                match fields.last_mut() {
                    Some((_, v)) => {
                        v.push('\n');
                        v.push_str(line.trim());
                    }
                    None => return Err(format!("line {} continues a header that does not exist", n + 1)),
                }
                continue;
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| format!("line {} is not a `Field: value` header: `{line}`", n + 1))?;
            fields.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(CoreMetadata { fields })
    }

    /// The first value of `field` (compared case-insensitively, as email headers are).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_continuations_and_body() {
        let m = CoreMetadata::parse(
            "Metadata-Version: 2.1\nName: Foo\nrequires-python: >=3.8\nRequires-Dist: a; sys_platform != \"wasi\"\n\
             Requires-Dist: b\nLicense: line one\n        line two\n\nName: not-a-header\n",
        )
        .unwrap();
        assert_eq!(m.get("name"), Some("Foo"));
        assert_eq!(m.get("Requires-Python"), Some(">=3.8"));
        assert_eq!(m.get("Requires-Dist"), Some("a; sys_platform != \"wasi\""));
        assert_eq!(m.get("License"), Some("line one\nline two"));
        assert!(CoreMetadata::parse("Name Foo\n").unwrap_err().contains("line 1"));
    }
}
