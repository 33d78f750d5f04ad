//! HTTP downloads with a pinned sha256, progress, and no partial file left
//! behind.

use camino::Utf8Path;

use crate::error::{Error, IoContext, Result};
use crate::progress;

/// Download `url` to `dest`, checking its sha256 against `want` while
/// streaming; a progress bar shows bytes and rate. On any error `dest` is
/// removed.
///
/// Errors: [`Error::Download`] naming the URL for HTTP errors, connection
/// drops, short bodies and checksum mismatches.
pub fn download_checked(url: &str, dest: &Utf8Path, want: &str) -> Result<()> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    let result = (|| -> Result<()> {
        let resp = crate::http::agent()
            .get(url)
            .call()
            .map_err(|e| Error::Download { url: url.to_string(), reason: format!("cannot download {url}: {e}") })?;
        let total: Option<u64> =
            resp.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let b = indicatif::ProgressBar::new(total.unwrap_or(0));
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "wasiwheel: downloading {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("valid template"),
            );
            b.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
            Some(b)
        } else {
            progress::status(&format!(
                "downloading {url}{}",
                total.map(|t| format!(" ({:.1} MB)", t as f64 / 1e6)).unwrap_or_default()
            ));
            None
        };
        let mut reader = resp.into_body().into_reader();
        let mut out = std::io::BufWriter::new(std::fs::File::create(dest).context(|| format!("cannot create {dest}"))?);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut got: u64 = 0;
        loop {
            let n = reader.read(&mut buf).map_err(|e| Error::Download {
                url: url.to_string(),
                reason: format!("the download of {url} was interrupted after {got} bytes: {e}"),
            })?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).context(|| format!("cannot write {dest}"))?;
            got += n as u64;
            if let Some(b) = &bar {
                b.set_position(got);
            }
        }
        out.flush().context(|| format!("cannot write {dest}"))?;
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        if let Some(t) = total {
            if got != t {
                return Err(Error::Download {
                    url: url.to_string(),
                    reason: format!("the download of {url} was interrupted: got {got} of {t} bytes"),
                });
            }
        }
        let sum: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if sum != want {
            return Err(Error::Download {
                url: url.to_string(),
                reason: format!(
                    "{url} has sha256 {sum}, but wasiwheel \
                pins {want}: the file is corrupt or not the official release; nothing was installed"
                ),
            });
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}
