//! Reading metadata out of WebAssembly binaries without running them: custom
//! sections (binary format §5.5.3) and the `producers` section (the
//! tool-conventions "Producers Section"), from which the SDK that built a
//! module can be told.

use crate::crossbuild::sdk::SdkIdentity;

fn leb(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut r = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*i)?;
        *i += 1;
        r |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return Some(r);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

fn name<'a>(b: &'a [u8], i: &mut usize) -> Option<&'a str> {
    let n = leb(b, i)? as usize;
    let s = std::str::from_utf8(b.get(*i..*i + n)?).ok()?;
    *i += n;
    Some(s)
}

/// The custom sections of a WebAssembly binary: `(name, payload)` in order.
/// Returns an empty list for anything that is not a wasm binary.
pub fn custom_sections(wasm: &[u8]) -> Vec<(&str, &[u8])> {
    let mut out = Vec::new();
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return out;
    }
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let Some(size) = leb(wasm, &mut i) else { break };
        let end = i.saturating_add(size as usize).min(wasm.len());
        if id == 0 {
            let mut j = i;
            if let Some(n) = name(wasm, &mut j) {
                out.push((n, &wasm[j..end]));
            }
        }
        i = end;
    }
    out
}

/// The entries of the `producers` section: `(field, name, version)`, e.g.
/// `("processed-by", "clang", "17.0.6 (https://github.com/llvm/llvm-project 6009708b…)")`.
pub fn producers(wasm: &[u8]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (n, payload) in custom_sections(wasm) {
        if n != "producers" {
            continue;
        }
        let mut i = 0;
        let Some(fields) = leb(payload, &mut i) else { continue };
        for _ in 0..fields {
            let Some(field) = name(payload, &mut i) else { break };
            let Some(count) = leb(payload, &mut i) else { break };
            for _ in 0..count {
                let (Some(nm), Some(ver)) = (name(payload, &mut i), name(payload, &mut i)) else { break };
                out.push((field.to_string(), nm.to_string(), ver.to_string()));
            }
        }
    }
    out
}

/// llvm-project commits of the LLVM builds in official wasi-sdk releases → SDK major.
pub const LLVM_COMMITS: &[(&str, u32)] = &[
    ("6009708b", 21),
    ("26a1d660", 24),
    ("ab4b5a2d", 25),
    ("222fc11f", 30),
    ("4434dabb", 33),
];

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
                    wasi_libc: crate::crossbuild::sdk::wasi_libc_of(*major).map(str::to_string),
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
        let w = module_with_producers("17.0.6 (https://github.com/llvm/llvm-project 6009708b4367171ccdbf4b5905cb6a803753fe18)");
        let names: Vec<&str> = custom_sections(&w).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["dylink.0", "producers"]);
        let id = sdk_from_producers(&w).unwrap();
        assert_eq!(id.major, 21);
        assert_eq!(id.wasi_libc.as_deref(), Some("c5264e2bbe53"));
        assert_eq!(id.llvm_version.as_deref(), Some("17.0.6"));
        assert!(sdk_from_producers(&module_with_producers("19.1.7 (3~deb12u1)")).is_none());
        assert!(custom_sections(b"not wasm").is_empty());
    }
}
