//! The connection layer as a siege meets it, over raw TCP on loopback: a
//! connection that sends nothing, or only part of its headers, is closed
//! after the header-read timeout; a kept-alive connection after the idle
//! timeout; past the connection cap every new connection is answered `503
//! overloaded` without its request being read, while the connections
//! already open keep being served and a freed slot serves again. Only
//! "closed eventually, within a generous bound" is asserted of time.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

use crate::{Backend, TestServer};

/// Far above every timeout the tests set: only a connection left open for
/// good fails.
const GENEROUS: Duration = Duration::from_secs(30);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: tessera\r\n\r\n";

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.server.as_ref().unwrap().addr)
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent, or a panic
/// if it is still open after [`GENEROUS`].
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(GENEROUS, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server left the connection open");
    seen
}

/// One request on `stream`; the status line's code and the whole answer
/// (the test's requests have small answers, read in one go or two).
async fn ask(stream: &mut TcpStream) -> (u16, String) {
    stream.write_all(HEALTHZ).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !complete(&answer) {
        let n = tokio::time::timeout(GENEROUS, stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8(answer).unwrap();
    (status(&text), text)
}

/// Head and a body of content-length bytes.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

async fn silent_and_half_sent_connections_are_closed(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.listener.header_read_timeout_secs = 1;
        config.listener.idle_timeout_secs = 600;
    })
    .await;
    let mut silent = connect(&server).await;
    let mut half = connect(&server).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: tes")
        .await
        .unwrap();
    // Meanwhile a whole request is served.
    let mut whole = connect(&server).await;
    assert_eq!(ask(&mut whole).await.0, 200);
    let said = until_closed(&mut silent).await;
    assert!(said.is_empty(), "{}", String::from_utf8_lossy(&said));
    let said = String::from_utf8_lossy(&until_closed(&mut half).await).into_owned();
    assert!(!said.contains(" 200 "), "{said}");
    server.stop().await;
}

async fn idle_kept_alive_connections_are_closed(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.listener.header_read_timeout_secs = 300;
        config.listener.idle_timeout_secs = 1;
    })
    .await;
    let mut stream = connect(&server).await;
    // Two requests on one connection: it is kept alive between them.
    assert_eq!(ask(&mut stream).await.0, 200);
    assert_eq!(ask(&mut stream).await.0, 200);
    let said = until_closed(&mut stream).await;
    assert!(said.is_empty(), "{}", String::from_utf8_lossy(&said));
    server.stop().await;
}

async fn past_the_cap_connections_are_refused_and_a_freed_slot_serves(backend: Backend) {
    const CAP: usize = 3;
    const EXCESS: usize = 12;
    let server = TestServer::start_on(backend, |config| {
        config.listener.max_connections = CAP as u32;
    })
    .await;
    assert_eq!(server.server.as_ref().unwrap().limits.max_connections, CAP);
    // The cap's connections, each served once so that it holds its slot.
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut stream = connect(&server).await;
        assert_eq!(ask(&mut stream).await.0, 200);
        held.push(stream);
    }
    // Every excess connection opened first, then their requests released
    // together.
    let mut excess = Vec::new();
    for _ in 0..EXCESS {
        excess.push(connect(&server).await);
    }
    let barrier = Arc::new(Barrier::new(EXCESS));
    let mut tasks = Vec::new();
    for mut stream in excess {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            // The answer may come before the request is written: the
            // server does not read it.
            let _ = stream.write_all(HEALTHZ).await;
            String::from_utf8_lossy(&until_closed(&mut stream).await).into_owned()
        }));
    }
    let mut refused = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert_eq!(status(head), 503, "{answer}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "overloaded", "{body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        refused += 1;
    }
    assert_eq!(refused, EXCESS);
    // The connections within the cap are still served.
    for stream in &mut held {
        assert_eq!(ask(stream).await.0, 200);
    }
    // A freed slot serves a new connection, once the server has seen the
    // old one close.
    drop(held.pop());
    let served = tokio::time::timeout(GENEROUS, async {
        loop {
            let mut stream = connect(&server).await;
            let _ = stream.write_all(HEALTHZ).await;
            let answer =
                String::from_utf8_lossy(&until_closed_or_answered(&mut stream).await).into_owned();
            if status(&answer) == 200 {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "no slot was freed");
    server.stop().await;
}

/// Reads one answer, or until the server closes (a refusal).
async fn until_closed_or_answered(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(GENEROUS, async {
        while !complete(&seen) {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    seen
}

on_both_backends!(
    silent_and_half_sent_connections_are_closed,
    idle_kept_alive_connections_are_closed,
    past_the_cap_connections_are_refused_and_a_freed_slot_serves,
);
