//! Accepting connections. axum's `serve` gives hyper no timer, so hyper's
//! header-read timeout never fires, and it takes every connection offered: a
//! client sending its headers a byte at a time held a connection and a task for
//! as long as it liked, as many times over as it liked. Here a request's headers
//! must arrive within [`Limits::header_read_timeout`], and one client address
//! holds at most [`Limits::connections_per_client`] connections at once (new
//! ones beyond that are closed at once, before anything is read).
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    /// 0: no limit.
    pub connections_per_client: usize,
}

/// Open connections per client address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

impl OpenConnections {
    /// Counts a new connection from `ip` unless it already holds `max`.
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Admitted> {
        let mut open = self.0.lock().ok()?;
        let n = open.entry(ip).or_default();
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(Admitted { open: self.clone(), ip })
    }
}

/// One admitted connection; leaving it frees its place.
struct Admitted {
    open: Arc<OpenConnections>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.0.lock()
            && let Some(n) = open.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then takes no new
/// connection, lets the requests in flight finish, and returns when every
/// connection has closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(OpenConnections::default());
    // Closed (by dropping the sender) to ask every connection to finish.
    let (stop_tx, stop_rx) = watch::channel(());
    // Every connection task holds a receiver; the sender sees when all are gone.
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(admitted) = open.admit(peer.ip(), limits.connections_per_client) else {
            metrics::counter!("http_connections_refused_total", "reason" => "per_client_limit").increment(1);
            tracing::warn!(client.ip = %peer.ip(), "connection refused: too many open from this address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(request)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error while stopping");
                    }
                }
            }
            drop((admitted, done));
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
