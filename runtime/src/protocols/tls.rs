//! TLS client settings every protocol shares: the Mozilla root
//! certificates plus any `--ca-cert` files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// A client configuration trusting the Mozilla roots and the CA
/// certificates in each of `ca_files` (PEM).
pub fn client_config(ca_files: &[PathBuf]) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for file in ca_files {
        let shown = file.display();
        let certificates = CertificateDer::pem_file_iter(file)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("cannot read certificates from {shown}"))?;
        if certificates.is_empty() {
            bail!("{shown} holds no PEM certificate");
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .with_context(|| format!("{shown} holds an unusable certificate"))?;
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}
