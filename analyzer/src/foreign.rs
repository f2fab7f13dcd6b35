//! Bundles of other tools (troubleshoot, ...) given where a ktriage bundle is expected:
//! imported into the work directory first ([`ktriage_import`]), then opened like our own,
//! with the node bundles of the hosts whose data they hold.

use std::path::{Path, PathBuf};

use ktriage_import::ImportOptions;
use ktriage_redact::RedactConfig;
use ktriage_schema::reader::{self, Limits, OpenBundle};
use ktriage_schema::writer::WriterOptions;

use crate::case::BadInput;
use crate::progress::Progress;

/// Opens `path` into `work` (which must not exist yet): our own bundle as it is, another
/// tool's bundle imported (redacted) first, followed by the node bundles of its hosts. The
/// cluster bundle's `source` stays the path given; a node bundle's names its node too.
pub fn open(
    path: &Path,
    work: &Path,
    limits: &Limits,
    progress: &Progress,
) -> anyhow::Result<Vec<OpenBundle>> {
    if !ktriage_import::is_foreign(path) {
        let bundle = reader::open(path, work, limits).map_err(|e| BadInput(e.to_string()))?;
        return Ok(vec![bundle]);
    }
    // Not create_dir_all: once a signal has removed the work directory, nothing may bring it
    // back (see `reader::unpack`).
    std::fs::create_dir(work)?;
    let imported_path = work.join("imported.tar.zst");
    let node_dir = work.join("nodes");
    std::fs::create_dir(&node_dir)?;
    let imported = import_to(path, &imported_path, &node_dir, limits, false, progress)?;
    crate::stop::check()?;
    let mut bundle = reader::open(&imported_path, &work.join("bundle"), limits)
        .map_err(|e| BadInput(e.to_string()))?;
    bundle.source = path.to_path_buf();
    let mut bundles = vec![bundle];
    for (i, node) in imported.nodes.iter().enumerate() {
        let mut bundle = reader::open(&node.path, &work.join(format!("node-{i}")), limits)
            .map_err(|e| BadInput(e.to_string()))?;
        let name = if node.node_name.is_empty() {
            &node.hostname
        } else {
            &node.node_name
        };
        bundle.source = PathBuf::from(format!("{} (host {})", path.display(), name));
        bundles.push(bundle);
    }
    Ok(bundles)
}

/// Imports the foreign source `src` into the bundle `out` and the node bundles of its hosts
/// into `node_dir` (written in place: callers make it atomic), redacting unless
/// `skip_redaction`. Returns what was imported.
pub fn import_to(
    src: &Path,
    out: &Path,
    node_dir: &Path,
    limits: &Limits,
    skip_redaction: bool,
    progress: &Progress,
) -> anyhow::Result<ktriage_import::Imported> {
    let file = std::fs::File::create(out).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    let spinner = progress.spinner(&format!("importing {}", src.display()));
    let options = ImportOptions {
        limits: limits.clone(),
        redaction: (!skip_redaction).then(RedactConfig::default),
        writer: WriterOptions::default(),
        node_dir: Some(node_dir.to_path_buf()),
    };
    let mut seen = 0u64;
    let result = ktriage_import::import(src, std::io::BufWriter::new(file), options, &mut |p| {
        seen += 1;
        if seen % 64 == 1 {
            spinner.set_message(format!("importing {}", crate::one_line(p)));
        }
        crate::stop::requested().is_none()
    });
    spinner.finish_and_clear();
    let (out_writer, imported) = match result {
        Ok(done) => done,
        Err(ktriage_import::ImportError::Stopped) => {
            crate::stop::check()?;
            anyhow::bail!("import stopped");
        }
        // Our own writing failed (disk full, a read-only directory): exit 3, not bad input.
        Err(e @ ktriage_import::ImportError::Write { .. }) => {
            return Err(anyhow::anyhow!(crate::one_line(&e.to_string())));
        }
        Err(e) => return Err(BadInput(crate::one_line(&e.to_string())).into()),
    };
    let file = out_writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("{}: {}", out.display(), e.error()))?;
    file.sync_all()?;
    Ok(imported)
}

/// The directory an output file goes to.
pub fn output_dir(output: &Path) -> PathBuf {
    match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
