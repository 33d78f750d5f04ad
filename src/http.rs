//! The HTTP client of every download and index request (ureq).

use std::time::Duration;

/// The TLS roots: the certificates of the PEM file that `SSL_CERT_FILE` or
/// `PIP_CERT` names (as pip and OpenSSL do, e.g. behind a TLS-intercepting
/// proxy), else Mozilla's roots (webpki-roots).
fn roots() -> ureq::tls::RootCerts {
    let bundle = ["SSL_CERT_FILE", "PIP_CERT"].iter().find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()));
    let certs: Vec<ureq::tls::Certificate<'static>> = bundle
        .and_then(|p| std::fs::read(p).ok())
        .map(|pem| {
            ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::from(certs)
    }
}

/// The agent for downloads and index pages: HTTP error statuses are errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots()).build())
        .build()
        .new_agent()
}

/// The agent for probing whether an index answers: a global `timeout`, and
/// HTTP error statuses returned as responses for the caller to name.
pub fn probe_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots()).build())
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .new_agent()
}
