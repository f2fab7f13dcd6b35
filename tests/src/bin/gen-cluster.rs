//! `gen-cluster SIZE|NODES:PODS OUT-DIR [--seed N] [--hosts N] [--log-fraction F]`: writes a
//! synthetic cluster bundle (`cluster.tar.zst`) and node bundles into OUT-DIR.
//! Sizes: XS (20/600), S (500/15,000), M (2,000/60,000), L (5,000/150,000).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ktriage_tests::generate::{Spec, generate};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-cluster: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(size), Some(out)) = (args.first(), args.get(1)) else {
        anyhow::bail!(
            "usage: gen-cluster SIZE|NODES:PODS OUT-DIR [--seed N] [--hosts N] [--log-fraction F]"
        );
    };
    let mut spec = match Spec::named(size) {
        Some(s) => s,
        None => {
            let (n, p) = size
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("size {size:?}: use XS, S, M, L or NODES:PODS"))?;
            Spec {
                nodes: n.parse()?,
                pods: p.parse()?,
                ..Spec::named("S").expect("S exists")
            }
        }
    };
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seed" => spec.seed = value.parse()?,
            "--hosts" => spec.host_bundles = value.parse()?,
            "--log-fraction" => spec.log_fraction = value.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let start = Instant::now();
    let files = generate(&spec, &PathBuf::from(out))?;
    for f in &files {
        let size = std::fs::metadata(f)?.len();
        eprintln!("{} ({:.1} MiB)", f.display(), size as f64 / 1048576.0);
    }
    eprintln!(
        "generated {} nodes, {} pods in {:.1}s",
        spec.nodes,
        spec.pods,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
