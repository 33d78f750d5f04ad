//! Finishing a foreign backend's wheel: every `.so` checked to be a wasm
//! dylib the wrappers linked, the static archives and
//! `static-extensions/manifest.json` added, the wheel retagged (`WHEEL` and
//! file name, the tags of wasiwheel's own WASI wheels) and its `RECORD`
//! rewritten (binary distribution format: sha256, urlsafe base64 without
//! padding; `RECORD` last).

use std::io::{Read, Write};

use base64::Engine as _;
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

use super::wrap::{self, Failure};
use super::ForeignTags;
use crate::error::{Error, IoContext, Result};
use crate::model::layout::{library_relative, StaticManifest, StaticModuleEntry, STATIC_DIR};
use crate::model::target::WasiTarget;
use crate::toolchain::python::TargetPython;
use crate::toolchain::sdk::WasiSdk;

/// What [`finish`] needs besides the wheel.
#[derive(Debug)]
pub struct Finish<'a> {
    /// The wrappers' records.
    pub state: &'a Utf8Path,
    /// The target CPython.
    pub python: &'a TargetPython,
    /// The SDK that compiled.
    pub sdk: &'a WasiSdk,
    /// The target.
    pub target: WasiTarget,
    /// The tags to give.
    pub tags: &'a ForeignTags,
    /// Compile failures the backend tolerated (optional extensions).
    pub failures: Vec<Failure>,
}

fn record_hash(data: &[u8]) -> String {
    format!("sha256={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data)))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// True for a file name that is a compiled extension module.
fn is_extension(name: &str) -> bool {
    name.ends_with(".so") || name.contains(".so.")
}

/// Check, complete and retag the backend's wheel `inner` and write the
/// result into `out_dir`. Returns its path. A wheel without extension
/// modules is copied unchanged, unless compiles failed (the backend fell back
/// to pure Python): that is the first failure's error.
///
/// Errors: [`Error::Toolchain`] naming the file when a `.so` is a host ELF
/// object or any other non-dylib, or was not linked by the wrappers;
/// [`Error::CompileFailed`] for a fallback to pure Python; [`Error::Io`].
pub fn finish(inner: &Utf8Path, out_dir: &Utf8Path, f: &Finish) -> Result<Utf8PathBuf> {
    let name = inner.file_name().unwrap_or("wheel.whl").to_string();
    let file = std::fs::File::open(inner).context(|| format!("cannot open the backend's wheel {inner}"))?;
    let mut z = zip::ZipArchive::new(file).map_err(|e| Error::Other(format!("{inner} is not a wheel: {e}")))?;
    let mut entries: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).map_err(|e| Error::Other(format!("{inner}: {e}")))?;
        if e.is_dir() {
            continue;
        }
        let n = e.name().map_err(|e| Error::Other(format!("{inner}: {e}")))?.to_string();
        let mode = e.unix_mode().unwrap_or(0o644);
        let mut data = Vec::new();
        e.read_to_end(&mut data).context(|| format!("cannot read {n} from {inner}"))?;
        entries.push((n, data, mode));
    }
    let dist_info = entries
        .iter()
        .filter_map(|(n, _, _)| n.strip_suffix("/WHEEL"))
        .find(|d| d.ends_with(".dist-info") && !d.contains('/'))
        .ok_or_else(|| Error::Other(format!("{inner} has no .dist-info/WHEEL: it is not a wheel")))?
        .to_string();
    let mut modules = Vec::new();
    let mut archives = Vec::new();
    let mut all_abi3 = true;
    for (n, data, _) in &entries {
        let base = n.rsplit('/').next().unwrap_or(n);
        if !is_extension(base) {
            continue;
        }
        if data.starts_with(b"\x7fELF") {
            return Err(Error::Toolchain(format!(
                "{n} in the wheel of the project's backend is a host ELF shared object, not a WebAssembly dylib for \
                 {}: the backend compiled it without wasiwheel's compiler wrappers (it ignores CC/LDSHARED or \
                 calls a compiler by path); nothing was written",
                f.target
            )));
        }
        if !crate::toolchain::wasm_meta::is_dylib(data) {
            return Err(Error::Toolchain(format!(
                "{n} in the wheel of the project's backend is not a WebAssembly dylib (no dylink.0 section): it was \
                 not linked by wasiwheel's wrappers; nothing was written"
            )));
        }
        let sha = crate::files::sha256_hex(data);
        let rec = wrap::link_record(f.state, &sha).ok_or_else(|| {
            Error::Toolchain(format!(
                "{n} in the wheel of the project's backend is a wasm dylib that wasiwheel's linker wrapper did not \
                 make (it was copied or changed after linking), so it has no static archive; nothing was written"
            ))
        })?;
        let rel = library_relative(n).unwrap_or(n);
        let module = match rel.rsplit_once('/') {
            Some((dir, file)) => format!("{}.{}", dir.replace('/', "."), file.split('.').next().unwrap_or(file)),
            None => rel.split('.').next().unwrap_or(rel).to_string(),
        };
        if !module.ends_with(&rec.basename) {
            return Err(Error::Toolchain(format!(
                "{n} was linked as module `{}` but sits at `{module}` in the wheel; nothing was written",
                rec.basename
            )));
        }
        all_abi3 &= base.ends_with(".abi3.so");
        let archive_name = format!("{module}.a");
        archives.push((
            format!("{dist_info}/{STATIC_DIR}/{archive_name}"),
            std::fs::read(&rec.archive).context(|| format!("cannot read {}", rec.archive))?,
        ));
        modules.push(StaticModuleEntry {
            init: format!("PyInit_{}", rec.basename),
            name: module,
            archive: archive_name,
            libraries: rec.libraries,
            language: if rec.cxx { "c++".into() } else { "c".into() },
        });
    }
    if modules.is_empty() {
        if let Some(first) = f.failures.first() {
            crate::progress::status("the backend fell back to a wheel without its extension modules");
            return Err(first.clone().into_error());
        }
        crate::progress::status(&format!(
            "warning: the backend built {name} without extension modules (none were linked for {})",
            f.target
        ));
        let dest = out_dir.join(&name);
        crate::files::write_atomic(&dest, |out| {
            out.write_all(&std::fs::read(inner).context(|| format!("cannot read {inner}"))?)
                .context(|| format!("cannot write {dest}"))
        })?;
        return Ok(dest);
    }
    for failure in &f.failures {
        crate::progress::status(&format!(
            "warning: the backend left out a module that did not compile for {}:\n{}",
            f.target,
            failure.clone().into_error()
        ));
    }
    let (tag, expanded) = if all_abi3 { &f.tags.abi3 } else { &f.tags.normal };
    let manifest =
        StaticManifest { version: 1, target: f.target, python: f.python.version, sdk: f.sdk.identity.clone(), modules };
    let wheel_meta = format!("{dist_info}/WHEEL");
    let record_path = format!("{dist_info}/RECORD");
    let mut out_entries: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for (n, data, mode) in entries {
        if n == record_path || n.ends_with(".dist-info/RECORD.jws") || n.ends_with(".dist-info/RECORD.p7s") {
            continue;
        }
        if n == wheel_meta {
            let text = String::from_utf8_lossy(&data);
            let mut w = String::new();
            for line in text.lines() {
                if line.starts_with("Tag:") {
                    continue;
                }
                if line.starts_with("Root-Is-Purelib:") {
                    w.push_str("Root-Is-Purelib: false\n");
                } else if !line.trim().is_empty() {
                    w.push_str(line);
                    w.push('\n');
                }
            }
            for t in expanded {
                w.push_str(&format!("Tag: {t}\n"));
            }
            out_entries.push((n, w.into_bytes(), mode));
            continue;
        }
        out_entries.push((n, data, mode));
    }
    for (n, data) in archives {
        out_entries.push((n, data, 0o644));
    }
    out_entries.push((
        format!("{dist_info}/{STATIC_DIR}/manifest.json"),
        serde_json::to_vec_pretty(&manifest).expect("serialisable"),
        0o644,
    ));
    // `{name}-{version}[-{build}]` from the backend's file name, then the tags.
    let stem = name.strip_suffix(".whl").unwrap_or(&name);
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() < 5 {
        return Err(Error::Other(format!("{name} is not a wheel file name")));
    }
    let filename = format!("{}-{tag}.whl", parts[..parts.len() - 3].join("-"));
    let dest = out_dir.join(&filename);
    crate::files::write_atomic(&dest, |file| {
        let mut zw = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let zerr = |e: zip::result::ZipError| Error::Other(format!("cannot write {dest}: {e}"));
        let mut record = String::new();
        for (n, data, mode) in &out_entries {
            let o = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode & 0o777);
            zw.start_file(n.as_str(), o).map_err(zerr)?;
            zw.write_all(data).context(|| format!("cannot write {dest}"))?;
            record.push_str(&format!("{},{},{}\n", csv_field(n), record_hash(data), data.len()));
        }
        record.push_str(&format!("{},,\n", csv_field(&record_path)));
        zw.start_file(record_path.as_str(), zip::write::SimpleFileOptions::default()).map_err(zerr)?;
        zw.write_all(record.as_bytes()).context(|| format!("cannot write {dest}"))?;
        zw.finish().map_err(zerr)?.flush().context(|| format!("cannot write {dest}"))
    })?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_names() {
        assert!(is_extension("_speedups.cpython-313-wasm32-wasi.so"));
        assert!(is_extension("_x.abi3.so"));
        assert!(!is_extension("x.py"));
        assert_eq!(record_hash(b""), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }
}
