//! Serves an opened ktriage bundle as a read-only Kubernetes API, so that `kubectl get`,
//! `describe` and `logs` work against a post-mortem snapshot.
//!
//! Start with [`ServeState::new`] (indexes the bundle), [`router`] and [`serve`]; point kubectl
//! at it with [`write_kubeconfig`]. Objects stay on disk: the server keeps a compact index per
//! resource ([`index`]) and reads objects on demand. `faults` (feature `test-faults`, tests only)
//! wraps the router to inject API failures.
//!
//! See `analyzer/serve/README.md` for what is served and how.

mod apipath;
mod body;
mod catalog;
mod discovery;
#[cfg(feature = "test-faults")]
pub mod faults;
pub mod index;
mod kubeconfig;
mod list;
mod logs;
mod objects;
mod params;
mod probe;
pub mod selector;
mod server;
mod state;
pub mod status;
pub mod table;

use std::future::Future;

pub use kubeconfig::{
    CONTEXT, cluster_url, context_name, kubeconfig, kubeconfig_for, write_kubeconfig,
    write_kubeconfig_for,
};
pub use server::{router, router_for};
pub use state::ServeState;

/// Why a bundle cannot be served. Renders as one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServeError(String);

impl ServeError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> ServeError {
        ServeError(message.into())
    }
}

/// Serves `router` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes open requests.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
