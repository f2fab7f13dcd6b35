//! `ktriage-collect redact IN -o OUT`: a bundle already written (ours, or one collected with
//! `--insecure-skip-redaction`) redacted again with today's rules and the user's own, before
//! it is shared further.
//!
//! The input is opened with the schema reader (every entry checked against its size and
//! checksum, unpacked into a temporary directory beside the output, never into memory); each
//! entry is redacted as it streams to a spool file, then written through the schema writer,
//! which checksums it again. The output is a temporary file beside `OUT`, renamed into place
//! only when complete: an error leaves neither it nor the unpacked copy behind.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ktriage_schema::manifest::{Manifest, Redaction};
use ktriage_schema::reader::{self, Limits};
use ktriage_schema::writer::{BundleWriter, WriterOptions};

use crate::redact::{RedactConfig, Redactor};

/// Flags of `ktriage-collect redact`.
#[derive(Debug, Clone, Args)]
pub struct RedactArgs {
    /// The bundle to redact (`.tar.zst`).
    #[arg(value_name = "IN")]
    pub input: PathBuf,

    /// Where to write the redacted bundle (must not be IN).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,

    /// Extra redaction rules: a YAML or JSON file with `literals: [..]` and `regexes: [..]`.
    #[arg(long, value_name = "FILE")]
    pub redact: Option<PathBuf>,

    /// Keep ConfigMap `binaryData` values.
    #[arg(long)]
    pub keep_configmap_binary_data: bool,
}

/// Why a redaction of a bundle failed: the user's mistake (exit 2) or the bundle's (exit 4).
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// A flag, the rules file or the output path is unusable; nothing was read.
    #[error("{0:#}")]
    Usage(anyhow::Error),
    /// The bundle could not be read, redacted or written.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// Redacts `args.input` into `args.output`; returns the manifest written.
pub fn run(args: &RedactArgs) -> Result<Manifest, RedactError> {
    let redactor = redactor(args).map_err(RedactError::Usage)?;
    check_paths(&args.input, &args.output).map_err(RedactError::Usage)?;
    rewrite(args, &redactor).map_err(RedactError::Failed)
}

fn redactor(args: &RedactArgs) -> anyhow::Result<Redactor> {
    let mut config = match &args.redact {
        Some(path) => RedactConfig::from_file(path).context("--redact")?,
        None => RedactConfig::default(),
    };
    config.keep_configmap_binary_data = args.keep_configmap_binary_data;
    let described = args
        .redact
        .as_ref()
        .map_or_else(|| "built-in rules".to_string(), |p| p.display().to_string());
    Redactor::new(&config).with_context(|| format!("--redact {described}"))
}

/// OUT must differ from IN: writing over the bundle being read would lose it on an error.
fn check_paths(input: &Path, output: &Path) -> anyhow::Result<()> {
    let input_real = input
        .canonicalize()
        .with_context(|| format!("{}", input.display()))?;
    if !input_real.is_file() {
        bail!("{}: not a bundle file", input.display());
    }
    let output_real = match output.canonicalize() {
        Ok(p) => p,
        // OUT does not exist yet: compare through its directory.
        Err(_) => {
            let dir = output_dir(output);
            let dir = dir
                .canonicalize()
                .with_context(|| format!("-o {}: no such directory", output.display()))?;
            match output.file_name() {
                Some(name) => dir.join(name),
                None => bail!("-o {}: not a file name", output.display()),
            }
        }
    };
    if output_real == input_real {
        bail!(
            "-o {}: is the input bundle; write the redacted bundle elsewhere",
            output.display()
        );
    }
    if output_real.is_dir() {
        bail!("-o {}: is a directory", output.display());
    }
    Ok(())
}

fn output_dir(output: &Path) -> PathBuf {
    match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn rewrite(args: &RedactArgs, redactor: &Redactor) -> anyhow::Result<Manifest> {
    let dir = output_dir(&args.output);
    // Both temporaries live beside the output (same file system: the rename is atomic; the
    // unpacked copy is as large as the bundle's content) and go when dropped.
    let work = tempfile::Builder::new()
        .prefix(".ktriage-redact-")
        .tempdir_in(&dir)
        .with_context(|| format!("creating a work directory in {}", dir.display()))?;
    let bundle = reader::open(&args.input, &work.path().join("in"), &Limits::default())
        .map_err(anyhow::Error::new)?;
    let tmp = tempfile::Builder::new()
        .prefix(".ktriage-redact-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(|| format!("creating the bundle in {}", dir.display()))?;
    let (file, tmp_path) = tmp.into_parts();
    let options = WriterOptions {
        mtime: chrono::Utc::now().timestamp().max(0) as u64,
        ..WriterOptions::default()
    };
    let out = |e: io::Error| anyhow::anyhow!("{}: {e}", args.output.display());
    let mut writer = BundleWriter::new(BufWriter::new(file), &options).map_err(out)?;
    for entry in &bundle.manifest.entries {
        let source = bundle.path(&entry.path);
        let mut spool = tempfile::tempfile_in(work.path())
            .with_context(|| format!("creating a spool file in {}", dir.display()))?;
        let size = redact_entry(redactor, &entry.path, &source, &mut spool)
            .with_context(|| format!("{}: {}", args.input.display(), entry.path))?;
        spool.rewind().map_err(out)?;
        writer
            .add_reader(
                &entry.path,
                size,
                BufReader::new(spool),
                entry.truncated.clone(),
            )
            .map_err(out)?;
    }
    let manifest = redacted_manifest(bundle.manifest.clone(), args, redactor);
    let (buffered, manifest) = writer.finish_with(manifest).map_err(out)?;
    let file = buffered.into_inner().map_err(|e| out(e.into_error()))?;
    file.sync_all().map_err(out)?;
    tmp_path.persist(&args.output).map_err(|e| {
        anyhow::anyhow!(
            "moving the bundle to {}: {}",
            args.output.display(),
            e.error
        )
    })?;
    Ok(manifest)
}

/// Redacts one entry into `out`; returns the bytes written. Object files line by line, JSON
/// documents whole, everything else (logs, host files) line by line as bytes.
fn redact_entry(
    redactor: &Redactor,
    path: &str,
    source: &Path,
    out: &mut File,
) -> anyhow::Result<u64> {
    let input = BufReader::new(File::open(source)?);
    let mut out = CountingWriter {
        inner: BufWriter::new(out),
        count: 0,
    };
    if path.ends_with(".ndjson") {
        for (n, line) in input.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let mut value: serde_json::Value =
                serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", n + 1))?;
            redactor.redact_json(&mut value);
            serde_json::to_writer(&mut out, &value)?;
            out.write_all(b"\n")?;
        }
    } else if path.ends_with(".json") {
        let mut value: serde_json::Value = serde_json::from_reader(input).context("not JSON")?;
        redactor.redact_json(&mut value);
        serde_json::to_writer(&mut out, &value)?;
    } else {
        let mut lines = redactor.lines();
        let mut input = input;
        let mut line = Vec::new();
        while input.read_until(b'\n', &mut line)? > 0 {
            out.write_all(&lines.line(&line))?;
            line.clear();
        }
    }
    out.flush()?;
    Ok(out.count)
}

/// The input's manifest, saying that it is redacted: the counts are those it had plus what
/// this pass replaced (values redacted before are not counted twice: they are skipped).
fn redacted_manifest(mut manifest: Manifest, args: &RedactArgs, redactor: &Redactor) -> Manifest {
    let now = redactor.summary();
    let before = std::mem::take(&mut manifest.redaction);
    let mut counts = if before.enabled {
        before.counts
    } else {
        Default::default()
    };
    for (name, n) in now.counts {
        *counts.entry(name).or_default() += n;
    }
    let mut by_kind = if before.enabled {
        before.by_kind
    } else {
        Default::default()
    };
    for (name, kinds) in now.by_kind {
        let into = by_kind.entry(name).or_default();
        for (kind, n) in kinds {
            *into.entry(kind).or_default() += n;
        }
    }
    manifest.redaction = Redaction {
        enabled: true,
        counts,
        by_kind,
    };
    if let Some(options) = manifest.options.as_object_mut() {
        options.insert("redaction".into(), true.into());
        options.insert(
            "redacted_again".into(),
            serde_json::json!({
                "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "rules_file": args.redact.as_ref().map(|p| p.display().to_string()),
                "keep_configmap_binary_data": args.keep_configmap_binary_data,
            }),
        );
    }
    manifest
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
