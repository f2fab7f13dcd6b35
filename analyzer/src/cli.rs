//! Command-line interface.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use ktriage_schema::cli::{CompletionsArgs, ManArgs, stamp_version};
use ktriage_schema::reader::Limits;

use crate::case::CaseOptions;
use crate::rules::engine::DEFAULT_RULE_TIMEOUT;
use crate::rules::{Lang, Severity};

/// Offline Kubernetes support-bundle analyzer.
#[derive(Debug, Parser)]
#[command(name = "ktriage", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze bundles with the rules and write HTML, Markdown and JSON reports.
    Analyze(AnalyzeArgs),
    /// Run SQL over bundles: one query with -c, or an interactive prompt.
    Sql(SqlArgs),
    /// List the rules: ids, severities, FAQ ids and titles.
    Rules(RulesArgs),
    /// Match a pasted error message or log excerpt against the FAQ knowledge.
    Explain(ExplainArgs),
    /// Serve bundles as a read-only Kubernetes API that kubectl works against.
    Serve(ServeArgs),
    /// Convert another tool's support bundle (troubleshoot, cluster-info dump, must-gather) into
    /// a ktriage bundle.
    Import(ImportArgs),
    /// Compare two snapshots of a cluster: findings appeared, resolved and persisting; objects
    /// added, removed and changed.
    Diff(DiffArgs),
    /// Print what happened, in time order: events, container terminations, node conditions,
    /// rollouts, log bursts and findings.
    Timeline(TimelineArgs),
    /// Export a case's tables and findings as Hive-partitioned Parquet for fleet queries.
    Export(ExportArgs),
    /// Run SQL over an export tree, across all its bundles: -c, --query, or a prompt.
    Fleet(FleetArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Write the man pages into a directory (used by the release script).
    #[command(hide = true)]
    Man(ManArgs),
}

/// The command line with its version texts (crate version, git commit, bundle format, and
/// with `duckdb` the version of the DuckDB library this binary runs).
pub fn command(duckdb: Option<&str>) -> clap::Command {
    let extra: Vec<(&str, &str)> = duckdb.map(|v| ("duckdb", v)).into_iter().collect();
    stamp_version(
        Cli::command(),
        env!("CARGO_PKG_VERSION"),
        env!("KTRIAGE_GIT_COMMIT"),
        &extra,
    )
}

impl Cli {
    /// Parses the process's arguments; exits with clap's message (and status 2) when they are
    /// wrong, or after printing help or the version.
    pub fn from_env() -> Cli {
        let args: Vec<OsString> = std::env::args_os().collect();
        // Asking DuckDB its version opens a database: only for `--version`, never on the way
        // to a real command.
        let duckdb = asks_for_long_version(&args).then(crate::db::library_version);
        let matches = command(duckdb.as_deref()).get_matches_from(args);
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Whether the arguments hold `--version` (clap prints the long version text for it).
fn asks_for_long_version(args: &[OsString]) -> bool {
    args.iter().skip(1).any(|a| a == "--version")
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `report.html`, self-contained.
    Html,
    /// `report.md`.
    Md,
    /// `findings.json`.
    Json,
}

/// Options shared by commands that read bundles.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Bundle archives (.tar.zst) or unpacked bundle directories. Several bundles (a cluster
    /// and its node bundles, or several clusters) are analyzed as one case. Another tool's
    /// bundle (troubleshoot's .tar.gz or directory) is imported first, redacted.
    #[arg(required = true, value_name = "BUNDLE")]
    pub bundles: Vec<PathBuf>,
    /// Largest total size a bundle may unpack to, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32 * 1024)]
    pub max_unpacked_mib: u64,
    /// Memory the database may use, in MiB. Beyond it, tables spill to the work directory
    /// (under TMPDIR) instead of growing the process. 0: DuckDB's default, 80% of RAM.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_MIB,
          value_parser = parse_memory_mib)]
    pub memory_mib: u64,
    /// Disk the database may spill to (in the work directory under TMPDIR), in MiB. A query
    /// needing more fails instead of filling the disk.
    #[arg(long, value_name = "MIB", default_value_t = 10 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_temp_mib: u64,
    /// No progress bars.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Below this, loading alone can fail: DuckDB's JSON reader holds two buffers of the
/// longest object line (16 MiB) per thread.
const MIN_MEMORY_MIB: u64 = 256;

/// `--memory-mib` by default. DuckDB uses up to about 700 MiB more than its limit at its peak
/// (memory it does not count), so this keeps the analysis of a 150,000-pod cluster under 2 GiB
/// of RSS (docs/benchmarks.md); 1536 took it to 2.0-2.3 GiB, no faster beyond run-to-run noise.
pub const DEFAULT_MEMORY_MIB: u64 = 1280;

fn parse_memory_mib(s: &str) -> Result<u64, String> {
    let mib: u64 = s.parse().map_err(|e| format!("{e}"))?;
    if mib != 0 && mib < MIN_MEMORY_MIB {
        return Err(format!(
            "at least {MIN_MEMORY_MIB} MiB (or 0 for DuckDB's default)"
        ));
    }
    Ok(mib)
}

impl InputArgs {
    /// Limits on unpacking each bundle.
    pub fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.max_unpacked_mib.saturating_mul(1 << 20),
            ..Limits::default()
        }
    }

    /// How to open the bundles as one case.
    pub fn case_options(&self) -> CaseOptions {
        CaseOptions {
            limits: self.limits(),
            memory_limit_mib: (self.memory_mib > 0).then_some(self.memory_mib),
            max_temp_mib: self.max_temp_mib,
            query_threads: None,
        }
    }
}

/// `ktriage analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Bundles.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output directory for the reports.
    #[arg(short, long, value_name = "DIR", default_value = "ktriage-report")]
    pub output: PathBuf,
    /// Report formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_values = ["html", "md", "json"])]
    pub format: Vec<Format>,
    /// Report language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Exit with code 1 when a finding of this severity or higher exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Write phase and per-rule wall times (milliseconds) to this JSON file. Rules run one
    /// per core at a time, so a rule's time includes waiting for the core it shares.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<PathBuf>,
    /// Seconds a rule may run; a rule still running is interrupted and reported as failed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RULE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rule_timeout: u64,
}

/// `ktriage diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot: a bundle, or the bundles of one snapshot separated by commas
    /// (`cluster.tar.zst,node-a.tar.zst`), analyzed together as `analyze` does.
    #[arg(value_name = "OLD", value_parser = parse_snapshot)]
    pub old: SnapshotPaths,
    /// The later snapshot, given the same way.
    #[arg(value_name = "NEW", value_parser = parse_snapshot)]
    pub new: SnapshotPaths,
    /// Output directory for diff.html, diff.md and diff.json (`--format` html, md, json).
    #[arg(short, long, value_name = "DIR", default_value = "ktriage-diff")]
    pub output: PathBuf,
    /// Report formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_values = ["html", "md", "json"])]
    pub format: Vec<Format>,
    /// Report language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Rule selection (the same rules run on both sides).
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Exit with code 1 when a finding of this severity or higher appeared in NEW.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Seconds a rule may run; a rule still running is interrupted and reported as failed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RULE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rule_timeout: u64,
    /// Largest total size a bundle may unpack to, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32 * 1024)]
    pub max_unpacked_mib: u64,
    /// Memory the database may use, in MiB, for each side (they are loaded one after the
    /// other). The facts kept of OLD while NEW loads come on top of it (about 450 MiB for a
    /// 150,000-pod cluster). 0: DuckDB's default, 80% of RAM.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_MIB,
          value_parser = parse_memory_mib)]
    pub memory_mib: u64,
    /// Disk the database may spill to (in the work directory under TMPDIR), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 10 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_temp_mib: u64,
    /// No progress bars.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The bundles of one snapshot, as `ktriage diff` takes them: `a.tar.zst,b.tar.zst`.
#[derive(Debug, Clone)]
pub struct SnapshotPaths(pub Vec<PathBuf>);

fn parse_snapshot(s: &str) -> Result<SnapshotPaths, String> {
    let paths: Vec<PathBuf> = s.split(',').map(PathBuf::from).collect();
    if paths.iter().any(|p| p.as_os_str().is_empty()) {
        return Err("bundle paths separated by single commas, none empty".into());
    }
    Ok(SnapshotPaths(paths))
}

impl DiffArgs {
    /// How to open each side.
    pub fn case_options(&self) -> CaseOptions {
        CaseOptions {
            limits: Limits {
                max_total_bytes: self.max_unpacked_mib.saturating_mul(1 << 20),
                ..Limits::default()
            },
            memory_limit_mib: (self.memory_mib > 0).then_some(self.memory_mib),
            max_temp_mib: self.max_temp_mib,
            // Rules run one per core, each on one thread, as in `analyze`.
            query_threads: Some(1),
        }
    }
}

/// `ktriage sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Bundles.
    #[command(flatten)]
    pub input: InputArgs,
    /// Run this query and exit.
    #[arg(short = 'c', long = "command", value_name = "QUERY")]
    pub query: Option<String>,
    /// Output format of results.
    #[arg(long, value_enum, default_value = "table")]
    pub output: SqlOutput,
    /// Seconds a query may run before it is interrupted.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RULE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub query_timeout: u64,
}

/// How `ktriage sql` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlOutput {
    /// Aligned columns.
    Table,
    /// Tab-separated, with a header line.
    Tsv,
    /// One JSON object per row.
    Json,
}

/// `ktriage rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Language of titles shown first.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ktriage explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The error message or log text.
    #[arg(value_name = "TEXT", required_unless_present = "file")]
    pub text: Option<String>,
    /// Read the text from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Which rules to use.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Extra rule directories (*.sql), added to the built-in rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Use only the rules of --rules directories (for developing or replacing rule sets).
    #[arg(long, requires = "dirs")]
    pub no_builtin_rules: bool,
}

/// `ktriage serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Bundles: every cluster bundle is served, one kubeconfig context each, in the order given.
    #[command(flatten)]
    pub input: InputArgs,
    /// Loopback address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub addr: String,
    /// Where to write the kubeconfig for kubectl (default: inside the temporary work directory).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
}

/// `ktriage import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The source: an archive (.tar.gz, .tgz, .tar, .tar.zst) or a directory.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// The ktriage bundle to write (.tar.zst).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Keep the source's secrets as they are: no redaction. The manifest records it.
    #[arg(long)]
    pub insecure_skip_redaction: bool,
    /// Largest total size the source may unpack to, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32 * 1024)]
    pub max_unpacked_mib: u64,
    /// No progress spinner.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `ktriage export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Bundles, loaded as one case.
    #[command(flatten)]
    pub input: InputArgs,
    /// Export tree to write into (created if missing; other bundles' sets are kept, each
    /// bundle of the case gets a new set of tables, replacing its previous one whole).
    #[arg(short, long, value_name = "DIR", required = true)]
    pub output: PathBuf,
    /// Tables to write, comma-separated (default: all of the export schema). A bundle's new
    /// set holds only these.
    #[arg(long, value_delimiter = ',', value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Seconds a rule may run; a rule still running is interrupted and reported as failed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RULE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rule_timeout: u64,
}

/// `ktriage fleet`.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Export tree written by `ktriage export`.
    #[arg(value_name = "DIR", required_unless_present = "list")]
    pub dir: Option<PathBuf>,
    /// Run this query and exit.
    #[arg(
        short = 'c',
        long = "command",
        value_name = "QUERY",
        conflicts_with = "name"
    )]
    pub query: Option<String>,
    /// Run the shipped fleet query NAME (see --list) and exit.
    #[arg(long = "query", value_name = "NAME")]
    pub name: Option<String>,
    /// List the shipped fleet queries.
    #[arg(long, conflicts_with_all = ["query", "name"])]
    pub list: bool,
    /// Output format of results.
    #[arg(long, value_enum, default_value = "table")]
    pub output: SqlOutput,
    /// Seconds a query may run before it is interrupted.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RULE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub query_timeout: u64,
    /// Memory the database may use, in MiB (0: DuckDB's default, 80% of RAM).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_MIB,
          value_parser = parse_memory_mib)]
    pub memory_mib: u64,
    /// Disk the database may spill to, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 10 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_temp_mib: u64,
    /// No progress bars.
    #[arg(short, long)]
    pub quiet: bool,
}

impl ImportArgs {
    /// Limits on reading the source.
    pub fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.max_unpacked_mib.saturating_mul(1 << 20),
            ..Limits::default()
        }
    }
}

/// `ktriage timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Bundles.
    #[command(flatten)]
    pub input: InputArgs,
    /// From this time: a duration before the collection (`2h`, `1h30m`, `3d`) or an absolute
    /// time (`2026-01-15T09:00:00Z`, `2026-01-15 09:00`, UTC).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Up to this time, written like `--since`.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only facts of this node.
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Only facts in this namespace.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Only these kinds (comma-separated or repeated): event, container-start,
    /// container-exit, oom-kill, pod-created, pod-scheduled, pod-readiness, pod-deleting,
    /// node-created, node-condition, kubelet-start, kubelet-exit, rollout,
    /// rollout-condition, job-start, job-complete, job-failed, certificate-valid-from,
    /// certificate-expiry, log-burst, finding, collection.
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TimelineFormat,
    /// Language of the summaries.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Rule selection (findings and log bursts come from the rules).
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// How `ktriage timeline` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// One aligned line per fact, terminal-safe.
    Text,
    /// A JSON array of rows.
    Json,
    /// CSV with a header line.
    Csv,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?} (info, low, medium, high, critical)"))
}
