//! HTTPS: the certificate chain and key named by `[listener]`, checked at
//! start, served with rustls (ring) for HTTP/2 and HTTP/1.1 by ALPN.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::StartError;

/// Reads `cert` (a PEM chain, the server's certificate first) and `key`
/// (its PEM private key) and makes the acceptor; every failure says which
/// file and what to do.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, StartError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            StartError::new(format!(
                "listener.tls_cert {}: cannot read a PEM certificate chain ({e})",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(StartError::new(format!(
            "listener.tls_cert {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        )));
    }
    // The key's own error would quote nothing secret, but say only which
    // file failed.
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        StartError::new(format!(
            "listener.tls_key {}: cannot read a PEM private key ({})",
            key.display(),
            pem_error(&e)
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::new(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            StartError::new(format!(
                "listener.tls_cert {} and listener.tls_key {} do not go together: the key must \
                 be the certificate's own ({e})",
                cert.display(),
                key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn pem_error(error: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as E;
    match error {
        E::NoItemsFound => "no private key in it (-----BEGIN PRIVATE KEY-----)".to_owned(),
        E::Io(e) => e.to_string(),
        _ => "not PEM".to_owned(),
    }
}
