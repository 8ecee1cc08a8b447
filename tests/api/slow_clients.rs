//! Clients that hold connections open: headers sent a byte at a time, and many
//! connections from one address. Raw TCP on loopback, so nothing can hide the
//! server's own behaviour.
use std::time::Duration;

use patronage::server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, WAIT};

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base_url.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect to the app")
}

/// Reads until the server closes the connection (or WAIT passes); what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(WAIT, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let limits = Limits { header_read_timeout: Duration::from_millis(300), connections_per_client: 256 };
    let app = TestApp::builder().serve_limits(limits).spawn().await;
    let mut slow = connect(&app).await;
    // Headers begun, never ended: a slowloris client.
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a").await.expect("write");
    let answer = read_until_closed(&mut slow).await;
    assert!(answer.is_some(), "the server must close a connection whose headers never end");
    // Ordinary requests are not affected.
    app.client.get("/healthz").send().await.assert_status(200);
}

#[tokio::test]
async fn one_address_may_hold_only_so_many_connections_at_once() {
    let limits = Limits { header_read_timeout: Duration::from_secs(30), connections_per_client: 5 };
    let app = TestApp::builder().serve_limits(limits).spawn().await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("write");
        held.push(s);
    }
    // The sixth is closed before anything is read: no answer at all.
    let mut sixth = connect(&app).await;
    let _ = sixth.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    let answer = read_until_closed(&mut sixth).await.expect("the sixth connection is closed at once");
    assert_eq!(answer, "", "the sixth connection must get no answer");

    // One of the five finishes its request and leaves: a new connection is served.
    let mut first = held.remove(0);
    first.write_all(b"Connection: close\r\n\r\n").await.expect("write");
    let reply = read_until_closed(&mut first).await.expect("answered and closed");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    drop(first);
    let mut next = None;
    // The server counts the closed connection down as its task ends; a client
    // retrying at once may still meet the full count, so it tries again.
    for _ in 0..100 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.expect("write");
        let reply = read_until_closed(&mut s).await.unwrap_or_default();
        if reply.starts_with("HTTP/1.1 200") {
            next = Some(reply);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(next.is_some(), "a place freed by a closed connection is given to the next one");
}
