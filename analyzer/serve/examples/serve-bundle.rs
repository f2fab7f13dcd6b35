//! `serve-bundle BUNDLE KUBECONFIG-OUT`: serves one bundle on a free loopback port without the
//! analyzer around it (no DuckDB to build), for profiling the server and benchmarking clients.
//! `ktriage serve` is the command users run.

use std::path::PathBuf;
use std::sync::Arc;

use ktriage_schema::reader::{self, Limits};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bundle), Some(kubeconfig)) = (args.first(), args.get(1)) else {
        return Err("usage: serve-bundle BUNDLE KUBECONFIG-OUT".into());
    };
    let work = tempfile::tempdir()?;
    let start = std::time::Instant::now();
    let opened = reader::open(
        &PathBuf::from(bundle),
        &work.path().join("bundle"),
        &Limits::default(),
    )?;
    let opened_in = start.elapsed();
    let state = Arc::new(ktriage_serve::ServeState::new(&[opened])?);
    eprintln!(
        "serve-bundle: opened in {:.1}s, indexed in {:.1}s",
        opened_in.as_secs_f64(),
        (start.elapsed() - opened_in).as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    ktriage_serve::write_kubeconfig(&PathBuf::from(kubeconfig), &url)?;
    eprintln!("serve-bundle: serving at {url}");
    // Runs until killed (SIGINT or SIGTERM end the process).
    ktriage_serve::serve_until(
        listener,
        ktriage_serve::router(state),
        std::future::pending(),
    )
    .await?;
    Ok(())
}
