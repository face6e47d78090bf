//! The HTTP side of ccp: webhook receivers and health, served by axum on a runtime of its own so
//! the pipeline thread and the cockpit never wait on the network. `ccp run` mounts the
//! Alertmanager receiver; `ccp serve` adds its own routes to the same router.

mod accept;
pub mod alertmanager_hook;
pub mod ci_hooks;
pub mod same_origin;
pub mod serve;

use anyhow::{Context, Result};
use axum::Router;
use std::net::SocketAddr;
use std::thread::JoinHandle;

/// A server running on its own thread; dropping it stops the server and waits for the thread.
pub struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Bind `listen` now (so a busy port is an error at start, not a log line later) and serve
    /// `router` in the background.
    pub fn start(listen: &str, router: Router) -> Result<Self> {
        let std_listener = std::net::TcpListener::bind(listen)
            .with_context(|| format!("cannot listen on {listen} for webhooks"))?;
        std_listener
            .set_nonblocking(true)
            .context("configuring the webhook listener")?;
        let addr = std_listener
            .local_addr()
            .context("reading the webhook listener's address")?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ccp-http")
            .enable_all()
            .build()
            .context("starting the HTTP runtime")?;
        let thread = std::thread::Builder::new()
            .name("ccp-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("webhook listener: {e}");
                            return;
                        }
                    };
                    accept::serve(listener, router, rx).await;
                });
            })
            .context("starting the HTTP thread")?;
        tracing::info!(%addr, "HTTP server listening");
        Ok(Self {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Where it listens (the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `GET /healthz`: answers while the process can serve requests.
pub async fn healthz() -> &'static str {
    "ok\n"
}
