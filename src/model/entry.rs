//! The entry point of a component (the entry points specification's object
//! reference, `module:attr`).

use crate::model::names::is_dotted_name;

/// The entry point of a component: `module:function` (function may be dotted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Dotted module name.
    pub module: String,
    /// Attribute path of the function in the module.
    pub function: String,
}

impl Entry {
    /// Parse `pkg.module:function`.
    ///
    /// Errors: a message when it is not `module:function`.
    pub fn parse(s: &str) -> std::result::Result<Entry, String> {
        let ident = is_dotted_name;
        match s.split_once(':') {
            Some((m, f)) if ident(m.trim()) && ident(f.trim()) => {
                Ok(Entry { module: m.trim().to_string(), function: f.trim().to_string() })
            }
            _ => Err(format!("`{s}` is not an entry point like `package.module:function`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(Entry::parse("pkg.cli:main").unwrap(), Entry { module: "pkg.cli".into(), function: "main".into() });
        assert_eq!(Entry::parse("m:App.run").unwrap().function, "App.run");
        assert!(Entry::parse("pkg.cli").is_err());
        assert!(Entry::parse("pkg-x:main").is_err());
    }
}
