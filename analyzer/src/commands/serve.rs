//! `ktriage serve`: a bundle as a read-only Kubernetes API for plain kubectl.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use ktriage_schema::manifest::Source;

use crate::case::BadInput;
use crate::cli::ServeArgs;
use crate::progress::Progress;
use crate::stop::{self, Interrupted};

/// How long open requests get to finish after a signal before their connections are closed:
/// a slow or streaming client must not hold the server. Shorter than [`stop::GRACE`], after
/// which the process quits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How often the server looks for a signal.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Opens the bundles, writes a kubeconfig, serves until SIGINT or SIGTERM (then fails with
/// [`Interrupted`], which `main` turns into 130 or 143), removing the work directory.
pub fn run(args: &ServeArgs) -> Result<()> {
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        BadInput(format!(
            "--addr {:?}: not an address like 127.0.0.1:8001",
            args.addr
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(BadInput(format!(
            "--addr {addr}: ktriage serve listens on loopback only (it has no authentication)"
        ))
        .into());
    }
    stop::install()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // Removed by a second signal, or if the first cannot be honoured in time.
    let (work, _work_on_signal) =
        stop::WorkDir::create("ktriage-serve-").context("creating a work directory")?;
    let progress = Progress::new(args.input.quiet);
    let mut bundles = Vec::new();
    for (i, path) in args.input.bundles.iter().enumerate() {
        let spinner = progress.spinner(&format!("checking {}", path.display()));
        let opened = crate::foreign::open(
            path,
            &work.path().join(format!("bundle-{i}")),
            &args.input.limits(),
            &progress,
        )?;
        spinner.finish_and_clear();
        bundles.extend(opened);
        stop::check()?;
    }
    // Every cluster bundle is served, each under its own context; host bundles have no API.
    let spinner = progress.spinner("indexing");
    let states = bundles
        .iter()
        .filter(|b| matches!(b.manifest.source, Source::Cluster(_)))
        .map(|b| ktriage_serve::ServeState::for_bundle(b).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BadInput(e.to_string()))?;
    spinner.finish_and_clear();
    if states.is_empty() {
        return Err(BadInput(
            "no cluster bundle to serve (host bundles have no Kubernetes API)".into(),
        )
        .into());
    }
    let stopped_by = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        let url = format!("http://{local}");
        let kubeconfig = match &args.kubeconfig_out {
            Some(p) => p.clone(),
            None => work.path().join("kubeconfig"),
        };
        ktriage_serve::write_kubeconfig_for(&kubeconfig, &url, states.len())
            .with_context(|| format!("writing {}", kubeconfig.display()))?;
        for (n, state) in states.iter().enumerate() {
            eprintln!(
                "ktriage: serving {} objects of {} at {} as context {} (read-only)",
                state.object_count(),
                state.source().display(),
                ktriage_serve::cluster_url(&url, n),
                ktriage_serve::context_name(n),
            );
            let nameless = state.nameless();
            if let Some(first) = nameless.first() {
                let more = match nameless.len() {
                    1 => String::new(),
                    n => format!(" and {} more", n - 1),
                };
                eprintln!(
                    "ktriage: not serving {} object(s) of {} without metadata.name (kubectl cannot name them): {first}{more}",
                    nameless.len(),
                    state.source().display(),
                );
            }
        }
        eprintln!("ktriage: Ctrl-C to stop");
        println!("export KUBECONFIG={}", kubeconfig.display());
        let (shut, shutdown) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async {
            let _ = shutdown.await;
        };
        let server =
            ktriage_serve::serve_until(listener, ktriage_serve::router_for(states), shutdown);
        tokio::pin!(server);
        let signal = tokio::select! {
            served = &mut server => {
                served.context("serving")?;
                return anyhow::Ok(None);
            }
            signal = signalled() => signal,
        };
        let _ = shut.send(());
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(served) => served.context("serving")?,
            Err(_) => eprintln!(
                "ktriage: {}: requests still open after {} s: closing their connections",
                signal,
                SHUTDOWN_GRACE.as_secs()
            ),
        }
        anyhow::Ok(Some(signal))
    });
    // Connections still open are dropped with the runtime; nothing may hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    drop(work);
    match stopped_by? {
        Some(signal) => Err(signal.into()),
        None => Ok(()),
    }
}

/// Resolves once SIGINT or SIGTERM has arrived.
async fn signalled() -> Interrupted {
    loop {
        if let Some(signal) = stop::requested() {
            return signal;
        }
        tokio::time::sleep(SIGNAL_POLL).await;
    }
}
