//! The command line, kubectl style. Flags are parsed here into raw [`ClusterArgs`]; they are
//! checked and resolved into [`crate::cluster::options::Options`] separately, so parsing stays a thin
//! declaration and every rule about flags lives in one place with its tests.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ktriage_schema::cli::{CompletionsArgs, ManArgs, stamp_version};

/// Collects a Kubernetes support bundle for offline analysis with `ktriage`.
#[derive(Debug, Parser)]
#[command(
    name = "ktriage-collect",
    version,
    propagate_version = true,
    about = "Collects a Kubernetes support bundle (objects, discovery, logs, kubelet configuration) for offline analysis with ktriage",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Another collection mode.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Cluster mode (the default): collect through the API server.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Collection modes other than the default cluster mode.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the host this runs on (files, kernel facts, certificates, service logs).
    Node(crate::node::NodeArgs),
    /// Redact an existing bundle again (current rules plus --redact FILE) into a new one.
    Redact(crate::reredact::RedactArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Write the man pages into a directory (used by the release script).
    #[command(hide = true)]
    Man(ManArgs),
}

/// The command line with its version texts (crate version, git commit, bundle format).
pub fn command() -> clap::Command {
    stamp_version(
        Cli::command(),
        env!("CARGO_PKG_VERSION"),
        env!("KTRIAGE_GIT_COMMIT"),
        &[],
    )
}

impl Cli {
    /// Parses the process's arguments; exits with clap's message (and status 2) when they are
    /// wrong, or after printing help or the version.
    pub fn from_env() -> Cli {
        let matches = command().get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Flags of cluster mode.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: $KUBECONFIG, else ~/.kube/config, else in-cluster config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to collect; repeat for several clusters (one bundle each)
    /// [default: the current context].
    #[arg(long = "context", value_name = "NAME")]
    pub contexts: Vec<String>,

    /// Collect every context of the kubeconfig (one bundle each).
    #[arg(long, conflicts_with = "contexts")]
    pub all_contexts: bool,

    /// Namespace to collect namespaced objects and logs from; repeatable [default: all].
    /// Cluster-scoped objects are collected either way.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,

    /// Namespace to leave out; repeatable.
    #[arg(long = "exclude-namespace", value_name = "NS", value_delimiter = ',')]
    pub exclude_namespaces: Vec<String>,

    /// Only these resources (plural, singular, kind, short name or `plural.group`).
    #[arg(long, value_name = "R,..", value_delimiter = ',')]
    pub resources: Vec<String>,

    /// Leave out these resources (same names as --resources).
    #[arg(long, value_name = "R,..", value_delimiter = ',')]
    pub exclude_resources: Vec<String>,

    /// Only logs newer than this (e.g. 30m, 2h, 1h30m) [default: no limit].
    #[arg(long, value_name = "DURATION", value_parser = ktriage_schema::duration::parse)]
    pub since: Option<Duration>,

    /// Most recent lines kept of each log; 0 keeps all (still bounded by --log-max-bytes).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub log_tail_lines: u64,

    /// Most bytes kept of each log, its most recent part (e.g. 5Mi, 500k).
    #[arg(long, value_name = "N", default_value = "5Mi", value_parser = parse_size)]
    pub log_max_bytes: u64,

    /// Collect no container or kubelet logs.
    #[arg(long)]
    pub no_logs: bool,

    /// Time limit of each API request (e.g. 30s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = ktriage_schema::duration::parse)]
    pub request_timeout: Duration,

    /// Time limit of the whole collection: when reached, the bundle is closed with what it
    /// has and marked partial.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = ktriage_schema::duration::parse)]
    pub timeout: Duration,

    /// Most API requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,

    /// Objects per list request (pages are followed with `continue`).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,

    /// Extra redaction rules: a YAML or JSON file with `literals: [..]` and `regexes: [..]`.
    #[arg(long, value_name = "FILE")]
    pub redact: Option<PathBuf>,

    /// Write secrets into the bundle as they are: no redaction at all. The manifest records it.
    #[arg(long, conflicts_with = "redact")]
    pub insecure_skip_redaction: bool,

    /// Replace these with stable pseudonyms: `hosts`, `ips`, `names` (comma-separated). The
    /// key and the pseudonyms' originals go to OUT.pseudonyms.json beside the bundle.
    #[arg(long, value_name = "CLASS,..", value_delimiter = ',')]
    pub pseudonymize: Vec<String>,

    /// The chosen names for `--pseudonymize names`: one a line (`#` comments).
    #[arg(long, value_name = "FILE")]
    pub pseudonymize_names: Option<PathBuf>,

    /// Reuse the key of an earlier collection's OUT.pseudonyms.json, so its bundles and this
    /// one share their pseudonyms.
    #[arg(long, value_name = "FILE")]
    pub pseudonymize_key: Option<PathBuf>,
    /// Keep ConfigMap `binaryData` values (redacted by default: they may hold keystores or
    /// packed credentials). The rest of redaction still applies.
    #[arg(long)]
    pub keep_configmap_binary_data: bool,

    /// No progress bars and no summary line.
    #[arg(short, long)]
    pub quiet: bool,

    /// Output file, or a directory for the default names
    /// [default: ktriage-<cluster>-<UTC time>.tar.zst in the current directory].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Parses a byte size: a plain number, or with a suffix `k`/`K`, `M`, `G` (powers of 1000)
/// or `Ki`, `Mi`, `Gi` (powers of 1024), as Kubernetes quantities.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected a number"))?;
    let factor: u64 = match suffix {
        "" => 1,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => {
            return Err(format!(
                "invalid size {text:?}: unknown suffix {other:?} (k, M, G, Ki, Mi, Gi)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("invalid size {text:?}: too large"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ktriage-collect").chain(args.iter().copied()))
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("5Mi"), Ok(5 << 20));
        assert_eq!(parse_size("500k"), Ok(500_000));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert!(parse_size("5MB").is_err());
        assert!(parse_size("Mi").is_err());
        assert!(parse_size("99999999999999999999Gi").is_err());
    }

    #[test]
    fn defaults() {
        let cli = parse(&[]).expect("parses");
        assert!(cli.command.is_none());
        let a = cli.cluster;
        assert_eq!(a.log_tail_lines, 10_000);
        assert_eq!(a.log_max_bytes, 5 << 20);
        assert_eq!(a.request_timeout, Duration::from_secs(30));
        assert_eq!(a.timeout, Duration::from_secs(600));
        assert_eq!(a.concurrency, 8);
        assert_eq!(a.chunk_size, 500);
        assert!(!a.insecure_skip_redaction && !a.no_logs && !a.quiet);
    }

    #[test]
    fn kubectl_style_flags() {
        let cli = parse(&[
            "--kubeconfig",
            "/tmp/kc",
            "--context",
            "a",
            "--context",
            "b",
            "-n",
            "ns1",
            "-n",
            "ns2,ns3",
            "--exclude-namespace",
            "kube-public",
            "--resources",
            "pods,deploy",
            "--exclude-resources",
            "events",
            "--since",
            "2h",
            "--log-tail-lines",
            "100",
            "--log-max-bytes",
            "1Mi",
            "--request-timeout",
            "5s",
            "--timeout",
            "1m",
            "--concurrency",
            "4",
            "-q",
            "-o",
            "out.tar.zst",
        ])
        .expect("parses");
        let a = cli.cluster;
        assert_eq!(a.kubeconfig, Some(PathBuf::from("/tmp/kc")));
        assert_eq!(a.contexts, vec!["a", "b"]);
        assert_eq!(a.namespaces, vec!["ns1", "ns2", "ns3"]);
        assert_eq!(a.exclude_namespaces, vec!["kube-public"]);
        assert_eq!(a.resources, vec!["pods", "deploy"]);
        assert_eq!(a.exclude_resources, vec!["events"]);
        assert_eq!(a.since, Some(Duration::from_secs(7200)));
        assert_eq!(a.log_max_bytes, 1 << 20);
        assert_eq!(a.concurrency, 4);
        assert!(a.quiet);
        assert_eq!(a.output, Some(PathBuf::from("out.tar.zst")));
    }

    #[test]
    fn conflicting_and_bad_flags_are_usage_errors() {
        for args in [
            &["--context", "a", "--all-contexts"][..],
            &["--redact", "r.yaml", "--insecure-skip-redaction"],
            &["--timeout", "soon"],
            &["--log-max-bytes", "lots"],
            &["--no-such-flag"],
        ] {
            let err = parse(args).expect_err("rejected");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn node_subcommand_is_separate() {
        let cli = parse(&["node", "--root", "/host"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::Node(_))));
        assert!(parse(&["-n", "x", "node"]).is_err());
    }
}
