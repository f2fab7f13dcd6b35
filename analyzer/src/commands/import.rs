//! `ktriage import`: another tool's support bundle into a ktriage bundle.

use anyhow::{Context, Result};

use crate::cli::ImportArgs;
use crate::progress::Progress;
use crate::stop;

/// Imports `args.source` into `args.output`, atomically: the bundle appears complete or not
/// at all (a signal or an error leaves no file behind).
pub fn run(args: &ImportArgs) -> Result<()> {
    stop::install()?;
    let progress = Progress::new(args.quiet);
    let dir = crate::foreign::output_dir(&args.output);
    // The bundle is written inside a work directory beside the output, registered so that a
    // signal that cannot unwind in time still removes it, then renamed into place.
    let (work, _work_on_signal) = stop::WorkDir::create_in(&dir, ".ktriage-import-")
        .with_context(|| format!("creating a work directory in {}", dir.display()))?;
    let staged = work.path().join("bundle.tar.zst");
    let imported = crate::foreign::import_to(
        &args.source,
        &staged,
        &args.limits(),
        args.insecure_skip_redaction,
        &progress,
    )?;
    stop::check()?;
    std::fs::rename(&staged, &args.output)
        .with_context(|| format!("cannot move the bundle to {}", args.output.display()))?;
    drop(work);
    eprintln!(
        "ktriage: imported {} bundle {} into {}: {} objects in {} resources, {} container logs, {} findings of its own, {} gaps{}",
        imported.format,
        crate::one_line(&args.source.display().to_string()),
        crate::one_line(&args.output.display().to_string()),
        imported.counts.objects,
        imported.counts.resources,
        imported.counts.logs,
        imported.counts.source_findings,
        imported.manifest.gaps.len(),
        if imported.manifest.redaction.enabled {
            ""
        } else {
            " (NOT redacted)"
        },
    );
    Ok(())
}
