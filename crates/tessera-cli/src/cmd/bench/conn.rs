//! One simulated client: a single HTTP/1.1 keep-alive connection (hyper's
//! low-level client over one TCP socket), reopened when the server closes
//! it. N of these are exactly N sockets, which a pooled client cannot promise.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tessera_server::client::{Http, Reply};
use tokio::net::TcpStream;

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    Connect,
    Timeout,
    /// The connection broke mid-request (reset, closed, bad HTTP).
    Io,
}

impl TransportError {
    /// The key in the error counts: never an API code, so never confused.
    pub fn key(self) -> &'static str {
        match self {
            TransportError::Connect => "transport_connect",
            TransportError::Timeout => "transport_timeout",
            TransportError::Io => "transport_io",
        }
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// Where to connect, and the Host header every request carries.
#[derive(Debug, Clone)]
pub struct Target {
    pub addrs: Vec<SocketAddr>,
    pub host: HeaderValue,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct Connection {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub fn new(target: Target) -> Connection {
        Connection {
            target,
            sender: None,
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let mut last = TransportError::Connect;
        for addr in &self.target.addrs {
            let stream =
                match tokio::time::timeout(self.target.timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(_)) => continue,
                    Err(_) => {
                        last = TransportError::Timeout;
                        continue;
                    }
                };
            // Small requests: do not let Nagle hold them back.
            let _ = stream.set_nodelay(true);
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|_| TransportError::Connect)?;
            tokio::spawn(async move {
                // Ends when the sender is dropped or the server closes.
                let _ = connection.await;
            });
            return Ok(sender);
        }
        Err(last)
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<Answer, TransportError> {
        let timeout = self.target.timeout;
        match tokio::time::timeout(timeout, self.exchange(method, path, token, body)).await {
            Ok(result) => {
                if result.is_err() {
                    self.sender = None;
                }
                result
            }
            Err(_) => {
                // The request may still be in flight on this socket: drop it.
                self.sender = None;
                Err(TransportError::Timeout)
            }
        }
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<Answer, TransportError> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.open().await?,
        };
        sender.ready().await.map_err(|_| TransportError::Io)?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.target.host.clone());
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|_| TransportError::Io)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| TransportError::Io)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| TransportError::Io)?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Answer { status, body })
    }
}

/// Signing up and in (`tessera_server::client`) runs over this connection,
/// outside the measured requests.
impl Http for Connection {
    type Error = TransportError;

    async fn post(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<Reply, TransportError> {
        let body = Bytes::from(body.to_string());
        let answer = self.send(Method::POST, path, bearer, Some(body)).await?;
        Ok(Reply {
            status: answer.status,
            body: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        })
    }

    async fn get(&mut self, path: &str, bearer: Option<&str>) -> Result<Reply, TransportError> {
        let answer = self.send(Method::GET, path, bearer, None).await?;
        Ok(Reply {
            status: answer.status,
            body: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        })
    }
}
