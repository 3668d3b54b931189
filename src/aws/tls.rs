//! TLS trust for the HTTP client.
//!
//! The system's CA store is trusted; when the system has none (a minimal container, the
//! static binary on a bare server) the bundled Mozilla roots are used instead, so the tool
//! still works. A CA bundle named by `AWS_CA_BUNDLE` or the profile's `ca_bundle` is added
//! on top. rustls runs on ring, not aws-lc (no C++/cmake build; see toolchain notes).

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// A rustls client configuration with our roots.
pub(crate) fn client_config(ca_bundle: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    if let Some(path) = ca_bundle {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<std::result::Result<_, _>>())
            .map_err(|e| Error::Config(format!("CA bundle {}: {e}", path.display())))?;
        let (ok, _) = roots.add_parsable_certificates(certs);
        if ok == 0 {
            return Err(Error::Config(format!(
                "CA bundle {}: no usable PEM certificate in it",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}
