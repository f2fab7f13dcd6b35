//! `ktriage import`: another tool's support bundle into a ktriage bundle, and the data of
//! its hosts into node bundles beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::ImportArgs;
use crate::progress::Progress;
use crate::stop;

/// Imports `args.source` into `args.output`, atomically: the bundle appears complete or not
/// at all (a signal or an error leaves no file behind). A host's data becomes the node
/// bundle `<output stem>.node-<name>.tar.zst` beside it.
pub fn run(args: &ImportArgs) -> Result<()> {
    stop::install()?;
    let progress = Progress::new(args.quiet);
    let dir = crate::foreign::output_dir(&args.output);
    // The bundle is written inside a work directory beside the output, registered so that a
    // signal that cannot unwind in time still removes it, then renamed into place.
    let (work, _work_on_signal) = stop::WorkDir::create_in(&dir, ".ktriage-import-")
        .with_context(|| format!("creating a work directory in {}", dir.display()))?;
    let staged = work.path().join("bundle.tar.zst");
    let staged_nodes = work.path().join("nodes");
    std::fs::create_dir(&staged_nodes)
        .with_context(|| format!("creating a work directory in {}", dir.display()))?;
    let imported = crate::foreign::import_to(
        &args.source,
        &staged,
        &staged_nodes,
        &args.limits(),
        args.insecure_skip_redaction,
        &progress,
    )?;
    stop::check()?;
    let mut moves: Vec<(PathBuf, PathBuf)> = imported
        .nodes
        .iter()
        .map(|n| (n.path.clone(), node_bundle_path(&args.output, &n.path)))
        .collect();
    moves.push((staged, args.output.clone()));
    let mut moved = Vec::new();
    for (from, to) in &moves {
        if let Err(e) = std::fs::rename(from, to) {
            // All or nothing: the bundles of one import are one case.
            for done in &moved {
                let _ = std::fs::remove_file(done);
            }
            return Err(e).with_context(|| format!("cannot move the bundle to {}", to.display()));
        }
        moved.push(to.clone());
    }
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
    if moves.len() > 1 {
        let nodes: Vec<String> = moves[..moves.len() - 1]
            .iter()
            .map(|(_, to)| crate::one_line(&to.display().to_string()))
            .collect();
        eprintln!(
            "ktriage: host data of {} hosts in node bundles: {}; analyze them with the bundle as one case",
            nodes.len(),
            nodes.join(" ")
        );
    }
    Ok(())
}

/// Where the node bundle staged at `staged` (`node-<name>.tar.zst`) goes: beside `output`,
/// named after it (`case.tar.zst` → `case.node-<name>.tar.zst`).
fn node_bundle_path(output: &Path, staged: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = [".tar.zst", ".tzst", ".zst", ".tar"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let node = staged
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    output.with_file_name(format!("{stem}.{node}"))
}
