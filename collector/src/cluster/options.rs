//! Checked, resolved options of a cluster collection, built from the raw flags. Every rule
//! about flags (ranges, combinations, files to read) is applied here, once, with one-line
//! errors that name the flag or file.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use ktriage_schema::discovery::ApiResource;

use crate::cli::ClusterArgs;
use crate::pseudonym::PseudonymOptions;
use crate::redact::RedactConfig;

/// Most concurrent requests allowed by `--concurrency`.
pub const MAX_CONCURRENCY: usize = 64;

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Kubeconfig file given with `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// Contexts given with `--context`.
    pub contexts: Vec<String>,
    /// `--all-contexts`.
    pub all_contexts: bool,
    /// Namespaces to collect namespaced resources from; empty means all.
    pub namespaces: Vec<String>,
    /// Namespaces to leave out.
    pub exclude_namespaces: BTreeSet<String>,
    /// Which resources to collect.
    pub resources: ResourceFilter,
    /// Log bounds.
    pub logs: LogOptions,
    /// Time limit of one API request.
    pub request_timeout: Duration,
    /// Time limit of the whole run.
    pub timeout: Duration,
    /// Most requests in flight.
    pub concurrency: usize,
    /// Page size of list requests.
    pub chunk_size: u32,
    /// Redaction rules; `None` when redaction is turned off.
    pub redaction: Option<RedactConfig>,
    /// The `--redact` file, for the manifest.
    pub redact_file: Option<PathBuf>,
    /// `--pseudonymize`: what to replace with pseudonyms; `None` when nothing.
    pub pseudonyms: Option<PseudonymOptions>,
    /// No progress bars, no summary.
    pub quiet: bool,
    /// `-o`: a file, or a directory for default names.
    pub output: Option<PathBuf>,
}

/// Bounds of collected logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// Whether container and kubelet logs are collected at all.
    pub enabled: bool,
    /// Most recent lines kept; `None` keeps all.
    pub tail_lines: Option<u64>,
    /// Most bytes kept (the most recent).
    pub max_bytes: u64,
    /// Only logs newer than this.
    pub since: Option<Duration>,
}

impl Options {
    /// Checks the flags and reads the files they name.
    pub fn from_args(args: &ClusterArgs) -> anyhow::Result<Self> {
        if args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
            bail!(
                "--concurrency must be between 1 and {MAX_CONCURRENCY}, not {}",
                args.concurrency
            );
        }
        if args.request_timeout.is_zero() {
            bail!("--request-timeout must be longer than 0");
        }
        if args.timeout.is_zero() {
            bail!("--timeout must be longer than 0");
        }
        if args.chunk_size == 0 {
            bail!("--chunk-size must be at least 1");
        }
        if args.log_max_bytes == 0 {
            bail!("--log-max-bytes must be at least 1");
        }
        for ns in args.namespaces.iter().chain(&args.exclude_namespaces) {
            if !ktriage_schema::layout::is_safe_component(ns) {
                bail!("invalid namespace name {ns:?}");
            }
        }
        let redaction = if args.insecure_skip_redaction {
            None
        } else {
            let mut config = match &args.redact {
                Some(path) => {
                    let config = RedactConfig::from_file(path).context("--redact")?;
                    crate::redact::Redactor::new(&config)
                        .with_context(|| format!("--redact {}", path.display()))?;
                    config
                }
                None => RedactConfig::default(),
            };
            config.keep_configmap_binary_data = args.keep_configmap_binary_data;
            Some(config)
        };
        let exclude_namespaces: BTreeSet<String> =
            args.exclude_namespaces.iter().cloned().collect();
        let mut namespaces: Vec<String> = Vec::new();
        for ns in &args.namespaces {
            if !exclude_namespaces.contains(ns) && !namespaces.contains(ns) {
                namespaces.push(ns.clone());
            }
        }
        if !args.namespaces.is_empty() && namespaces.is_empty() {
            bail!("every namespace given with -n is also excluded with --exclude-namespace");
        }
        Ok(Options {
            kubeconfig: args.kubeconfig.clone(),
            contexts: args.contexts.clone(),
            all_contexts: args.all_contexts,
            namespaces,
            exclude_namespaces,
            resources: ResourceFilter::new(&args.resources, &args.exclude_resources),
            logs: LogOptions {
                enabled: !args.no_logs,
                tail_lines: (args.log_tail_lines > 0).then_some(args.log_tail_lines),
                max_bytes: args.log_max_bytes,
                since: args.since,
            },
            request_timeout: args.request_timeout,
            timeout: args.timeout,
            concurrency: args.concurrency,
            chunk_size: args.chunk_size,
            redaction,
            redact_file: args.redact.clone(),
            pseudonyms: PseudonymOptions::from_flags(
                &args.pseudonymize,
                args.pseudonymize_names.as_deref(),
                args.pseudonymize_key.as_deref(),
            )?,
            quiet: args.quiet,
            output: args.output.clone(),
        })
    }

    /// Whether objects and logs of `namespace` are wanted.
    pub fn wants_namespace(&self, namespace: &str) -> bool {
        !self.exclude_namespaces.contains(namespace)
            && (self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == namespace))
    }

    /// The options as recorded in the manifest (no secrets: the redaction file's path only).
    pub fn to_manifest_json(&self) -> serde_json::Value {
        serde_json::json!({
            "namespaces": self.namespaces,
            "exclude_namespaces": self.exclude_namespaces,
            "resources": self.resources.include,
            "exclude_resources": self.resources.exclude,
            "logs": self.logs.enabled,
            "log_tail_lines": self.logs.tail_lines,
            "log_max_bytes": self.logs.max_bytes,
            "since_seconds": self.logs.since.map(|d| d.as_secs()),
            "request_timeout_seconds": self.request_timeout.as_secs_f64(),
            "timeout_seconds": self.timeout.as_secs_f64(),
            "concurrency": self.concurrency,
            "chunk_size": self.chunk_size,
            "redaction": self.redaction.is_some(),
            "redaction_rules_file": self.redact_file.as_ref().map(|p| p.display().to_string()),
            "pseudonymize": self.pseudonyms.as_ref().map(PseudonymOptions::to_manifest_json),
            "keep_configmap_binary_data": self
                .redaction
                .as_ref()
                .is_some_and(|r| r.keep_configmap_binary_data),
        })
    }
}

/// `--resources` / `--exclude-resources`, matched against discovered resources by plural,
/// singular, kind, short name, or `plural.group`, case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Names to keep; empty keeps everything.
    pub include: Vec<String>,
    /// Names to drop.
    pub exclude: Vec<String>,
}

impl ResourceFilter {
    /// A filter from the flag values (blank entries ignored).
    pub fn new(include: &[String], exclude: &[String]) -> Self {
        let clean = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        ResourceFilter {
            include: clean(include),
            exclude: clean(exclude),
        }
    }

    /// Whether `resource` of `group` is collected.
    pub fn wants(&self, group: &str, resource: &ApiResource) -> bool {
        let matches = |name: &String| names_resource(name, group, resource);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

fn names_resource(name: &str, group: &str, r: &ApiResource) -> bool {
    let (base, name_group) = match name.split_once('.') {
        Some((b, g)) => (b, Some(g)),
        None => (name, None),
    };
    if let Some(g) = name_group
        && !(g.eq_ignore_ascii_case(group) || (g == "core" && group.is_empty()))
    {
        return false;
    }
    base.eq_ignore_ascii_case(&r.name)
        || (!r.singular_name.is_empty() && base.eq_ignore_ascii_case(&r.singular_name))
        || base.eq_ignore_ascii_case(&r.kind)
        || r.short_names.iter().any(|s| base.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn options(args: &[&str]) -> anyhow::Result<Options> {
        let cli =
            Cli::try_parse_from(std::iter::once("ktriage-collect").chain(args.iter().copied()))?;
        Options::from_args(&cli.cluster)
    }

    fn resource(name: &str, singular: &str, kind: &str, short: &[&str]) -> ApiResource {
        ApiResource {
            name: name.into(),
            singular_name: singular.into(),
            kind: kind.into(),
            namespaced: true,
            verbs: vec!["list".into()],
            short_names: short.iter().map(|s| s.to_string()).collect(),
            categories: vec![],
        }
    }

    #[test]
    fn resource_names_like_kubectl() {
        let deploy = resource("deployments", "deployment", "Deployment", &["deploy"]);
        let f = ResourceFilter::new(&["deploy".into()], &[]);
        assert!(f.wants("apps", &deploy));
        for name in [
            "deployments",
            "deployment",
            "Deployment",
            "deployments.apps",
        ] {
            assert!(
                ResourceFilter::new(&[name.into()], &[]).wants("apps", &deploy),
                "{name}"
            );
        }
        assert!(
            !ResourceFilter::new(&["deployments.extensions".into()], &[]).wants("apps", &deploy)
        );
        let pods = resource("pods", "pod", "Pod", &["po"]);
        assert!(ResourceFilter::new(&["pods.core".into()], &[]).wants("", &pods));
        assert!(!f.wants("", &pods));
        let all_but_events = ResourceFilter::new(&[], &["ev".into()]);
        let events = resource("events", "event", "Event", &["ev"]);
        assert!(!all_but_events.wants("", &events));
        assert!(all_but_events.wants("", &pods));
    }

    #[test]
    fn checks_ranges_and_combinations() {
        assert!(options(&["--concurrency", "0"]).is_err());
        assert!(options(&["--concurrency", "1000"]).is_err());
        assert!(options(&["--timeout", "0"]).is_err());
        assert!(options(&["--request-timeout", "0s"]).is_err());
        assert!(options(&["-n", "a", "--exclude-namespace", "a"]).is_err());
        assert!(options(&["-n", "../etc"]).is_err());
        let err = options(&["--redact", "/nonexistent/rules.yaml"]).expect_err("missing file");
        assert!(
            format!("{err:#}").contains("/nonexistent/rules.yaml"),
            "{err:#}"
        );
    }

    #[test]
    fn resolves_namespaces_logs_and_redaction() {
        let o = options(&[
            "-n",
            "a",
            "-n",
            "b",
            "--exclude-namespace",
            "b",
            "--log-tail-lines",
            "0",
        ])
        .expect("ok");
        assert_eq!(o.namespaces, vec!["a"]);
        assert!(o.wants_namespace("a") && !o.wants_namespace("b") && !o.wants_namespace("c"));
        assert_eq!(o.logs.tail_lines, None);
        assert!(o.redaction.is_some());
        let o = options(&["--insecure-skip-redaction", "--no-logs"]).expect("ok");
        assert!(o.redaction.is_none());
        assert!(!o.logs.enabled);
        assert_eq!(o.to_manifest_json()["redaction"], false);
    }

    #[test]
    fn bad_redaction_rules_are_reported_with_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rules.yaml");
        std::fs::write(&path, "regexes: ['(']\n").expect("write");
        let err = options(&["--redact", path.to_str().expect("utf8")]).expect_err("bad regex");
        assert!(format!("{err:#}").contains("rules.yaml"), "{err:#}");
    }
}
