//! What quitting at once must still undo. A second SIGINT/SIGTERM ends the process without
//! unwinding, so no destructor removes a half-written bundle or kills a host command: the
//! temporary files and child process groups of a run are registered here while they exist,
//! and [`quit`] removes and kills whatever is registered before it exits.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rustix::process::{Pid, Signal, kill_process_group};

static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CHILD_GROUPS: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

/// The registry even after a panic while it was held: a list of paths cannot be left
/// half-updated, and cleaning up matters more than the panic.
fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A registered temporary file; unregisters it when dropped (drop it once the file is
/// renamed to its final name or removed).
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

/// Registers `path` to be removed if the process quits at once.
pub fn temp_file(path: &Path) -> TempFile {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    lock(&TEMP_FILES).push(path.clone());
    TempFile { path }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let mut files = lock(&TEMP_FILES);
        if let Some(i) = files.iter().position(|p| *p == self.path) {
            files.swap_remove(i);
        }
    }
}

/// A registered child process group; unregisters it when dropped (once the child is reaped).
#[derive(Debug)]
pub struct ChildGroup {
    pid: Pid,
}

/// Registers the process group led by `child` (spawned with `process_group(0)`) to be killed
/// if the process quits at once.
pub fn child_group(child: &std::process::Child) -> ChildGroup {
    let pid = Pid::from_child(child);
    lock(&CHILD_GROUPS).push(pid);
    ChildGroup { pid }
}

impl ChildGroup {
    /// Kills every process of the group: the command and whatever it started.
    pub fn kill(&self) {
        let _ = kill_process_group(self.pid, Signal::KILL);
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        let mut groups = lock(&CHILD_GROUPS);
        if let Some(i) = groups.iter().position(|p| *p == self.pid) {
            groups.swap_remove(i);
        }
    }
}

/// Kills the registered child process groups, removes the registered temporary files and
/// exits with `code`, at once.
pub fn quit(code: u8) -> ! {
    for pid in lock(&CHILD_GROUPS).iter() {
        let _ = kill_process_group(*pid, Signal::KILL);
    }
    for path in lock(&TEMP_FILES).iter() {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(i32::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_files_are_listed_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.part");
        let guard = temp_file(&path);
        assert!(lock(&TEMP_FILES).contains(&path));
        drop(guard);
        assert!(!lock(&TEMP_FILES).contains(&path));
    }
}
