//! Reading metadata out of WebAssembly binaries without running them: the
//! `producers` section (the tool-conventions "Producers Section"), from which
//! the SDK that built a module can be told, and the `dylink.0` section of
//! dylibs.

use crate::model::sdk::SdkIdentity;

/// The entries of the `producers` section (the tool-conventions "Producers
/// Section", read with `wasm-metadata`): `(field, name, version)`, e.g.
/// `("processed-by", "clang", "17.0.6 (https://github.com/llvm/llvm-project 6009708b…)")`.
/// Empty for anything that is not a wasm binary or has no such section.
pub fn producers(wasm: &[u8]) -> Vec<(String, String, String)> {
    let Ok(Some(p)) = wasm_metadata::Producers::from_wasm(wasm) else { return Vec::new() };
    let mut out = Vec::new();
    for (field, entries) in p.iter() {
        for (name, version) in entries.iter() {
            out.push((field.clone(), name.clone(), version.clone()));
        }
    }
    out
}

/// True if `wasm` is a WebAssembly dylib: a module whose first section is
/// the `dylink.0` custom section (the tool-conventions "Dynamic Linking").
pub fn is_dylib(wasm: &[u8]) -> bool {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::Version { .. }) => continue,
            Ok(Payload::CustomSection(c)) => return c.name() == "dylink.0",
            _ => return false,
        }
    }
    false
}

/// llvm-project commits of the LLVM builds in official wasi-sdk releases → SDK major.
pub const LLVM_COMMITS: &[(&str, u32)] =
    &[("6009708b", 21), ("26a1d660", 24), ("ab4b5a2d", 25), ("222fc11f", 30), ("4434dabb", 33)];

/// Tell the WASI SDK that built a module from the clang in its `producers`
/// section: an official SDK's clang names its llvm-project commit, which maps
/// to exactly one release. `None` when the section is absent or the clang is
/// not one of [`LLVM_COMMITS`].
pub fn sdk_from_producers(wasm: &[u8]) -> Option<SdkIdentity> {
    for (field, nm, ver) in producers(wasm) {
        if field != "processed-by" || nm != "clang" {
            continue;
        }
        let commit = ver.split(['(', ')', ' ']).find(|w| w.len() >= 12 && w.chars().all(|c| c.is_ascii_hexdigit()));
        if let Some(c) = commit {
            if let Some((_, major)) = LLVM_COMMITS.iter().find(|(k, _)| c.starts_with(k)) {
                return Some(SdkIdentity {
                    major: *major,
                    version: format!("{major}.0"),
                    wasi_libc: crate::model::sdk::wasi_libc_of(*major).map(str::to_string),
                    llvm_version: ver.split_whitespace().next().map(str::to_string),
                    origin: format!("official (read from the producers section: clang {ver})"),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend(name.as_bytes());
        body.extend(payload);
        let mut s = vec![0u8, body.len() as u8];
        s.extend(body);
        s
    }

    fn module_with_producers(clang: &str) -> Vec<u8> {
        let mut p = vec![1u8];
        p.push(b"processed-by".len() as u8);
        p.extend(b"processed-by");
        p.push(1);
        p.push(5);
        p.extend(b"clang");
        p.push(clang.len() as u8);
        p.extend(clang.as_bytes());
        let mut w = b"\0asm\x01\0\0\0".to_vec();
        w.extend(section("dylink.0", b""));
        w.extend(section("producers", &p));
        w
    }

    #[test]
    fn reads_sections_and_producers() {
        let w = module_with_producers(
            "17.0.6 (https://github.com/llvm/llvm-project 6009708b4367171ccdbf4b5905cb6a803753fe18)",
        );
        assert!(is_dylib(&w));
        assert!(!is_dylib(b"not wasm"));
        let id = sdk_from_producers(&w).unwrap();
        assert_eq!(id.major, 21);
        assert_eq!(id.wasi_libc.as_deref(), Some("c5264e2bbe53"));
        assert_eq!(id.llvm_version.as_deref(), Some("17.0.6"));
        assert!(sdk_from_producers(&module_with_producers("19.1.7 (3~deb12u1)")).is_none());
        assert!(producers(b"not wasm").is_empty());
    }
}
