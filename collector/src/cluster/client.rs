//! Which clusters to collect and how to reach them: the kubeconfig from `--kubeconfig`,
//! `KUBECONFIG` or `~/.kube/config`, else the in-cluster service account; one [`Target`] per
//! selected context. Clients are built with timeouts set and kube's retry layer off (see
//! [`crate::cluster::api`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::options::Options;

/// Longest wait for a TCP/TLS connection, whatever the request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One cluster to collect.
#[derive(Clone)]
pub struct Target {
    /// Kubeconfig context name; empty for the in-cluster configuration.
    pub context: String,
    /// Connection settings.
    pub config: kube::Config,
}

impl Target {
    /// A short name for messages and file names: the context, or `in-cluster`.
    pub fn label(&self) -> &str {
        if self.context.is_empty() {
            "in-cluster"
        } else {
            &self.context
        }
    }

    /// The API server URL.
    pub fn server(&self) -> String {
        self.config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string()
    }

    /// A kube client for this target with the collector's timeouts and no retry layer.
    pub fn client(&self, request_timeout: Duration) -> anyhow::Result<kube::Client> {
        let mut config = self.config.clone();
        config.connect_timeout = Some(request_timeout.min(MAX_CONNECT_TIMEOUT));
        config.read_timeout = Some(request_timeout);
        config.write_timeout = Some(request_timeout);
        config.reset_reader_on_write = true;
        config.default_retry = false;
        kube::Client::try_from(config).with_context(|| {
            format!(
                "context {}: cannot build a client for {}",
                self.label(),
                self.server()
            )
        })
    }
}

/// Where the kubeconfig came from, for messages.
enum Source {
    Flag(PathBuf),
    Env(String),
    Home(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(p) | Source::Home(p) => write!(f, "{}", p.display()),
            Source::Env(v) => write!(f, "KUBECONFIG={v}"),
        }
    }
}

/// The clusters selected by the options.
pub async fn targets(options: &Options) -> anyhow::Result<Vec<Target>> {
    let Some((kubeconfig, source)) = load_kubeconfig(options.kubeconfig.as_deref())? else {
        if !options.contexts.is_empty() || options.all_contexts {
            bail!(
                "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) to take contexts from"
            );
        }
        let config = kube::Config::incluster().map_err(|e| {
            anyhow::anyhow!(
                "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a cluster: {e}"
            )
        })?;
        return Ok(vec![Target {
            context: String::new(),
            config,
        }]);
    };
    let names = select_contexts(&kubeconfig, &source, options)?;
    let mut targets = Vec::new();
    for name in names {
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig.clone(),
            &KubeConfigOptions {
                context: Some(name.clone()),
                cluster: None,
                user: None,
            },
        )
        .await
        .with_context(|| format!("context {name} in {source}"))?;
        targets.push(Target {
            context: name,
            config,
        });
    }
    Ok(targets)
}

fn load_kubeconfig(flag: Option<&Path>) -> anyhow::Result<Option<(Kubeconfig, Source)>> {
    if let Some(path) = flag {
        let kc = Kubeconfig::read_from(path)
            .with_context(|| format!("--kubeconfig {}", path.display()))?;
        return Ok(Some((kc, Source::Flag(path.to_path_buf()))));
    }
    let env = std::env::var("KUBECONFIG").unwrap_or_default();
    if !env.is_empty() {
        let kc = Kubeconfig::from_env().with_context(|| format!("KUBECONFIG={env}"))?;
        if let Some(kc) = kc {
            return Ok(Some((kc, Source::Env(env))));
        }
    }
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config"));
    match home {
        Some(path) if path.exists() => {
            let kc = Kubeconfig::read_from(&path).with_context(|| path.display().to_string())?;
            Ok(Some((kc, Source::Home(path))))
        }
        _ => Ok(None),
    }
}

fn select_contexts(
    kc: &Kubeconfig,
    source: &Source,
    options: &Options,
) -> anyhow::Result<Vec<String>> {
    let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    if options.all_contexts {
        if known.is_empty() {
            bail!("{source} has no contexts");
        }
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    if !options.contexts.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for name in &options.contexts {
            if !known.contains(&name.as_str()) {
                bail!(
                    "context {name:?} not found in {source} (contexts: {})",
                    known.join(", ")
                );
            }
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        return Ok(names);
    }
    match &kc.current_context {
        Some(current) if !current.is_empty() => {
            if !known.contains(&current.as_str()) {
                bail!("current-context {current:?} not found in {source}");
            }
            Ok(vec![current.clone()])
        }
        _ => bail!("{source} has no current-context; pass --context NAME or --all-contexts"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: b
clusters:
- name: c1
  cluster: {server: 'http://127.0.0.1:1'}
contexts:
- name: a
  context: {cluster: c1, user: u}
- name: b
  context: {cluster: c1, user: u}
users:
- name: u
  user: {token: abc}
";

    fn options(args: &[&str]) -> Options {
        let cli =
            Cli::try_parse_from(std::iter::once("ktriage-collect").chain(args.iter().copied()))
                .expect("parses");
        Options::from_args(&cli.cluster).expect("valid")
    }

    #[tokio::test]
    async fn selects_contexts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).expect("write");
        let p = path.to_str().expect("utf8");
        let labels = |args: &[&str]| {
            let o = options(args);
            async move {
                targets(&o)
                    .await
                    .map(|t| t.iter().map(|t| t.label().to_string()).collect::<Vec<_>>())
            }
        };
        assert_eq!(
            labels(&["--kubeconfig", p]).await.expect("current"),
            vec!["b"]
        );
        assert_eq!(
            labels(&["--kubeconfig", p, "--all-contexts"])
                .await
                .expect("all"),
            vec!["a", "b"]
        );
        assert_eq!(
            labels(&["--kubeconfig", p, "--context", "a"])
                .await
                .expect("one"),
            vec!["a"]
        );
        let err = labels(&["--kubeconfig", p, "--context", "zz"])
            .await
            .expect_err("unknown");
        assert!(
            format!("{err:#}").contains("\"zz\" not found in"),
            "{err:#}"
        );
        let err = labels(&["--kubeconfig", "/nonexistent/kc"])
            .await
            .expect_err("missing");
        assert!(format!("{err:#}").contains("/nonexistent/kc"), "{err:#}");
        let t = targets(&options(&["--kubeconfig", p])).await.expect("ok");
        assert_eq!(t[0].server(), "http://127.0.0.1:1");
    }
}
