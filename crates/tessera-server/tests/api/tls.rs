//! HTTPS with a certificate made in the test (rcgen): HTTP/1.1 and HTTP/2
//! chosen by ALPN, spoken by hyper's client over rustls trusting only that
//! certificate; the header-read timeout and the connection cap hold on TLS
//! too; missing or mismatched files stop the start with a clear error; the
//! support console's cookie is `Secure`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::header::HOST;
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tessera_server::Config;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{Backend, TestDatabase, TestServer};

const GENEROUS: Duration = Duration::from_secs(30);

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM
/// files in `dir`: (certificate file, key file, the certificate to trust).
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, CertificateDer<'static>) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key, made.cert.der().clone())
}

async fn https_server(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> (TestServer, CertificateDer<'static>) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, trusted) = certificate(dir.path(), "server");
    let server = TestServer::start_on(backend, |config| {
        config.listener.tls_cert = Some(cert);
        config.listener.tls_key = Some(key);
        adjust(config);
    })
    .await;
    // The files are read at start; the directory may go.
    drop(dir);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    (server, trusted)
}

fn addr(server: &TestServer) -> SocketAddr {
    server.server.as_ref().unwrap().addr
}

/// A TLS connection trusting only `trusted`, offering one ALPN protocol.
async fn tls_connect(
    addr: SocketAddr,
    trusted: &CertificateDer<'static>,
    alpn: &[u8],
) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(alpn));
    stream
}

/// GET `path` over a new TLS connection speaking HTTP/2 (`h2`) or
/// HTTP/1.1: the version answered, the status, the body.
async fn get(
    addr: SocketAddr,
    trusted: &CertificateDer<'static>,
    alpn: &[u8],
    path: &str,
) -> (Version, u16, String) {
    let io = TokioIo::new(tls_connect(addr, trusted, alpn).await);
    let response = if alpn == b"h2" {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = Request::get(format!("https://localhost{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender.send_request(request).await.unwrap()
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        let request = Request::get(path)
            .header(HOST, "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender.send_request(request).await.unwrap()
    };
    let (version, status) = (response.version(), response.status().as_u16());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (version, status, String::from_utf8_lossy(&body).into_owned())
}

/// Reads until the server closes; panics if it is still open after
/// [`GENEROUS`].
async fn closed<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
    let ended = tokio::time::timeout(GENEROUS, async {
        let mut buffer = [0u8; 1024];
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server left the connection open");
}

async fn https_speaks_http1_and_http2(backend: Backend) {
    let (server, trusted) = https_server(backend, |_| {}).await;
    let at = addr(&server);
    let (version, status, body) = get(at, &trusted, b"http/1.1", "/healthz").await;
    assert_eq!((version, status), (Version::HTTP_11, 200), "{body}");
    let (version, status, body) = get(at, &trusted, b"h2", "/healthz").await;
    assert_eq!((version, status), (Version::HTTP_2, 200), "{body}");
    // Errors come from the same catalogue over either.
    let (version, status, body) = get(at, &trusted, b"h2", "/v1/me").await;
    assert_eq!((version, status), (Version::HTTP_2, 401), "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    server.stop().await;
}

async fn tls_connections_meet_the_same_timeouts_and_cap(backend: Backend) {
    const CAP: usize = 2;
    let (server, trusted) = https_server(backend, |config| {
        config.listener.header_read_timeout_secs = 1;
        config.listener.max_connections = CAP as u32;
    })
    .await;
    let at = addr(&server);
    // No handshake at all, then a handshake and no request: both closed.
    let mut silent = TcpStream::connect(at).await.unwrap();
    closed(&mut silent).await;
    let mut shook_hands = tls_connect(at, &trusted, b"http/1.1").await;
    closed(&mut shook_hands).await;
    // Past the cap a connection is closed without a handshake, while the
    // cap's connections are served.
    let mut held = Vec::new();
    for _ in 0..CAP {
        let io = TokioIo::new(tls_connect(at, &trusted, b"h2").await);
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
        tokio::spawn(connection);
        // A request at once: the header-read clock stops, the idle one
        // (60 s) takes over.
        assert_eq!(healthz_h2(&mut sender).await, 200);
        held.push(sender);
    }
    let mut excess = TcpStream::connect(at).await.unwrap();
    closed(&mut excess).await;
    for sender in &mut held {
        assert_eq!(healthz_h2(sender).await, 200);
    }
    server.stop().await;
}

async fn healthz_h2(sender: &mut hyper::client::conn::http2::SendRequest<Empty<Bytes>>) -> u16 {
    let request = Request::get("https://localhost/healthz")
        .body(Empty::<Bytes>::new())
        .unwrap();
    sender
        .send_request(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn missing_or_mismatched_files_stop_the_start(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _, _) = certificate(dir.path(), "one");
    let (_, other_key, _) = certificate(dir.path(), "two");
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestDatabase::create().await.unwrap()),
    };
    // Each start fails before it listens; the store opened for it is
    // closed again.
    for (cert, key, says) in [
        (
            dir.path().join("missing.crt"),
            other_key.clone(),
            "listener.tls_cert",
        ),
        (
            cert.clone(),
            dir.path().join("missing.key"),
            "listener.tls_key",
        ),
        (other_key.clone(), other_key.clone(), "listener.tls_cert"),
        (cert.clone(), cert.clone(), "listener.tls_key"),
        (cert.clone(), other_key.clone(), "do not go together"),
    ] {
        let mut config = Config::new_for_test(dir.path().join("data"));
        config.database_url = database.as_ref().map(|d| d.url().to_owned());
        config.listener.tls_cert = Some(cert);
        config.listener.tls_key = Some(key);
        let opened = tessera_server::open(config).await.unwrap();
        let store = opened.state.store.clone();
        let error = tessera_server::start(opened.state).await.unwrap_err();
        assert!(error.to_string().contains(says), "{says}: {error}");
        store.close().await;
    }
}

/// Over HTTPS the console's session cookie is `Secure` as well: the
/// browser never sends it over plain HTTP.
async fn the_console_cookie_is_secure_under_tls(backend: Backend) {
    let (server, trusted) = https_server(backend, |_| {}).await;
    let io = TokioIo::new(tls_connect(addr(&server), &trusted, b"http/1.1").await);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(connection);
    let form = format!("key={}", server.support_key);
    let request = Request::post("/support/sign-in")
        .header(HOST, "localhost")
        .header("origin", "https://localhost")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(Bytes::from(form)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    for attribute in [
        "; HttpOnly",
        "; SameSite=Strict",
        "; Path=/support",
        "; Secure",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    server.stop().await;
}

on_both_backends!(
    the_console_cookie_is_secure_under_tls,
    https_speaks_http1_and_http2,
    tls_connections_meet_the_same_timeouts_and_cap,
    missing_or_mismatched_files_stop_the_start,
);
