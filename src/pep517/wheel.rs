//! The wheel writer (the "Binary distribution format" specification, PEP 427
//! and PEP 491): a zip archive with `RECORD` (sha256, urlsafe base64 without
//! padding), files sorted, `.dist-info` last and `RECORD` very last.
//!
//! The archive is written to a temporary file in the output directory and
//! renamed into place only when complete, so a failed build never leaves a
//! partial wheel behind.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::error::{Error, IoContext, Result};
use crate::files::zip_datetime;

/// `sha256=<urlsafe base64, no padding>` of `data`, as in `RECORD`.
pub fn record_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!("sha256={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

/// Quote a `RECORD` field as CSV does (only when needed).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One file of a wheel being assembled.
#[derive(Debug, Clone)]
struct Entry {
    data: Vec<u8>,
    executable: bool,
}

/// A wheel being assembled in memory; [`WheelBuilder::write`] writes it.
#[derive(Debug)]
pub struct WheelBuilder {
    dist_info: String,
    files: BTreeMap<String, Entry>,
    timestamp: i64,
}

impl WheelBuilder {
    /// A new wheel whose `.dist-info` directory is `dist_info` (e.g.
    /// `demo-1.0.dist-info`); every entry gets the modification time
    /// `timestamp` (seconds since the Unix epoch, clamped to the zip format's
    /// 1980 floor).
    pub fn new(dist_info: impl Into<String>, timestamp: i64) -> Self {
        WheelBuilder { dist_info: dist_info.into(), files: BTreeMap::new(), timestamp }
    }

    /// Add a file at `path` (`/`-separated, relative to the wheel root).
    ///
    /// Errors: [`Error::Other`] for an absolute path, a `..` component, or a
    /// path added twice.
    pub fn add(&mut self, path: &str, data: Vec<u8>, executable: bool) -> Result<()> {
        if path.starts_with('/') || path.split('/').any(|c| c == ".." || c.is_empty()) || path.contains('\\') {
            return Err(Error::Other(format!("internal: `{path}` is not a valid path inside a wheel")));
        }
        if path == format!("{}/RECORD", self.dist_info) {
            return Err(Error::Other("internal: RECORD is written by the wheel writer".into()));
        }
        if self.files.insert(path.to_string(), Entry { data, executable }).is_some() {
            return Err(Error::Other(format!(
                "two files would be written to `{path}` in the wheel: rename one of them"
            )));
        }
        Ok(())
    }

    /// Add a file inside `.dist-info` (e.g. `METADATA`).
    ///
    /// Errors: as [`WheelBuilder::add`].
    pub fn add_dist_info(&mut self, name: &str, data: Vec<u8>) -> Result<()> {
        let p = format!("{}/{}", self.dist_info, name);
        self.add(&p, data, false)
    }

    /// Write the wheel to `dir/filename` atomically and return its path.
    ///
    /// Errors: [`Error::Io`] when the directory cannot be written; nothing is
    /// left in `dir` on failure.
    pub fn write(self, dir: &Utf8Path, filename: &str) -> Result<Utf8PathBuf> {
        let final_path = dir.join(filename);
        crate::files::write_atomic(&final_path, |file| {
            let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
            let mtime = zip_datetime(self.timestamp);
            let dist_prefix = format!("{}/", self.dist_info);
            // Files outside .dist-info first, then .dist-info, each group sorted.
            let (body, meta): (Vec<_>, Vec<_>) = self.files.iter().partition(|(p, _)| !p.starts_with(&dist_prefix));
            let mut record = String::new();
            let zerr = |e: zip::result::ZipError| Error::Other(format!("cannot write {final_path}: {e}"));
            let options = |mode: u32| {
                SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .last_modified_time(mtime)
                    .unix_permissions(mode)
            };
            for (path, entry) in body.into_iter().chain(meta) {
                zip.start_file(path.as_str(), options(if entry.executable { 0o755 } else { 0o644 })).map_err(zerr)?;
                zip.write_all(&entry.data).context(|| format!("cannot write {final_path}"))?;
                record.push_str(&format!("{},{},{}\n", csv_field(path), record_hash(&entry.data), entry.data.len()));
            }
            let record_path = format!("{}RECORD", dist_prefix);
            record.push_str(&format!("{},,\n", csv_field(&record_path)));
            zip.start_file(record_path.as_str(), options(0o644)).map_err(zerr)?;
            zip.write_all(record.as_bytes()).context(|| format!("cannot write {final_path}"))?;
            zip.finish().map_err(zerr)?.flush().context(|| format!("cannot write {final_path}"))
        })?;
        Ok(final_path)
    }
}

/// The `WHEEL` file for a wheel with these expanded tags.
pub fn wheel_file(root_is_purelib: bool, tags: &[String]) -> String {
    let mut s = format!(
        "Wheel-Version: 1.0\nGenerator: wasiwheel {}\nRoot-Is-Purelib: {}\n",
        env!("CARGO_PKG_VERSION"),
        root_is_purelib
    );
    for t in tags {
        s.push_str(&format!("Tag: {t}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn hash_is_urlsafe_unpadded() {
        // sha256 of the empty string.
        assert_eq!(record_hash(b""), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }

    #[test]
    fn writes_sorted_with_record_last_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = Utf8Path::from_path(dir.path()).unwrap();
        let mut w = WheelBuilder::new("a-1.dist-info", 0);
        w.add("z.py", b"z".to_vec(), false).unwrap();
        w.add_dist_info("METADATA", b"m".to_vec()).unwrap();
        w.add("a/b.py", b"b".to_vec(), false).unwrap();
        assert!(w.add("a/b.py", vec![], false).is_err());
        assert!(w.add("../x", vec![], false).is_err());
        let p = w.write(d, "a-1-py3-none-any.whl").unwrap();
        let mut z = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
        let names: Vec<String> = (0..z.len()).map(|i| z.by_index(i).unwrap().name().unwrap().to_string()).collect();
        assert_eq!(names, vec!["a/b.py", "z.py", "a-1.dist-info/METADATA", "a-1.dist-info/RECORD"]);
        let mut rec = String::new();
        z.by_name("a-1.dist-info/RECORD").unwrap().read_to_string(&mut rec).unwrap();
        assert!(rec.ends_with("a-1.dist-info/RECORD,,\n"));
        // Only the wheel is in the directory: no temporary file left over.
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);
    }
}
