//! Serves the router over HTTP/1.1: accepts connections until told to stop, then lets the open
//! ones finish.
//!
//! Why not `axum::serve`: it serves every connection through hyper-util's "auto" builder, which
//! is ready for HTTP/1 and HTTP/2 alike, and that readiness costs about 8 KB more for each open
//! connection. Browsers never speak cleartext HTTP/2 (a TLS-terminating proxy in front speaks
//! HTTP/1.1 to us), while every open page holds a connection for its live stream: 500 open pages
//! were 4 MB of it (BENCHMARKS.md, issue 5).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt as _};

/// Serves `router` on `listener` until `stop` completes, then waits for the connections it
/// served to end (an event stream ends when the server's shutdown is signalled).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let connections = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    wait_after_accept_error(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = service_for(&mut make_service, remote).await;
        let connection = hyper::server::conn::http1::Builder::new()
            // The timer bounds how long a client may take to send a request's head.
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// The router's service for one connection, with the peer's address for `ConnectInfo`.
async fn service_for(
    make_service: &mut IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    remote: SocketAddr,
) -> impl Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let router = make_service
        .call(remote)
        .await
        .unwrap_or_else(|never| match never {});
    router.map_request(|request: hyper::Request<Incoming>| request.map(axum::body::Body::new))
}

/// Accepting fails when the process is out of file descriptors (or the peer left before it was
/// accepted): waiting a moment lets connections close instead of spinning on the error.
async fn wait_after_accept_error(error: std::io::Error) {
    tracing::warn!(%error, "could not accept a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}
