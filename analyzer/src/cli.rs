//! Command-line interface.

use std::path::PathBuf;

use std::sync::OnceLock;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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

impl Cli {
    /// Parses the process's arguments. `--version` also names the DuckDB library in use; it
    /// is looked up only when asked for, so other commands do not pay for opening DuckDB.
    pub fn parse_with_version() -> Cli {
        let wants_version = std::env::args_os()
            .skip(1)
            .any(|a| a == "--version" || a == "-V");
        let mut command = Cli::command();
        if wants_version {
            command = command.version(version_line());
        }
        let matches = command.get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// `0.1.0 (DuckDB v1.5.6)`.
fn version_line() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| {
        let duckdb = crate::db::duckdb_version()
            .unwrap_or_else(|e| format!("unavailable: {}", crate::one_line(&format!("{e:#}"))));
        format!("{} (DuckDB {duckdb})", env!("CARGO_PKG_VERSION"))
    })
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
    /// and its node bundles, or several clusters) are analyzed as one case.
    #[arg(required = true, value_name = "BUNDLE")]
    pub bundles: Vec<PathBuf>,
    /// Largest total size a bundle may unpack to, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32 * 1024)]
    pub max_unpacked_mib: u64,
    /// Memory the database may use, in MiB. Beyond it, tables spill to the work directory
    /// (under TMPDIR) instead of growing the process. 0: DuckDB's default, 80% of RAM.
    #[arg(long, value_name = "MIB", default_value_t = 1536,
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

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?} (info, low, medium, high, critical)"))
}
