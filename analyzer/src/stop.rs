//! SIGINT and SIGTERM for the commands that run DuckDB queries (`analyze`, `sql`).
//!
//! The first signal interrupts every running query, so the command unwinds the normal way:
//! its work directory (unpacked bundles, spill) is removed as the case drops, and `main` exits
//! 130 (SIGINT) or 143 (SIGTERM). Work that cannot be interrupted (unpacking, a query that does
//! not check for interrupts) is not waited for: a second signal, or [`GRACE`] after the first,
//! removes the registered work directories and exits at once with the same code.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use duckdb::InterruptHandle;

/// How long the first signal waits for the command to unwind before quitting anyway.
pub const GRACE: Duration = Duration::from_secs(5);

/// The command was stopped by a signal; `main` maps it to the exit code.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {}", signal_name(*.0))]
pub struct Interrupted(pub i32);

impl Interrupted {
    /// 128 plus the signal number, as shells report a process a signal ended.
    pub fn exit_code(&self) -> u8 {
        exit_code(self.0)
    }
}

fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// What a signal must reach: running queries and work directories.
#[derive(Default)]
struct Registry {
    queries: Vec<Weak<InterruptHandle>>,
    dirs: Vec<PathBuf>,
}

static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set while the command waits for the user's input: nothing to unwind, quit at once.
static WAITING_FOR_INPUT: AtomicBool = AtomicBool::new(false);
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    queries: Vec::new(),
    dirs: Vec::new(),
});
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Starts listening for SIGINT and SIGTERM (once per process). Until then the default
/// actions apply.
pub fn install() -> anyhow::Result<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, on the calling thread, so no signal is missed once this returns.
    let (mut int, mut term) = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async {
                loop {
                    let signal = tokio::select! {
                        _ = int.recv() => SIGINT,
                        _ = term.recv() => SIGTERM,
                    };
                    on_signal(signal);
                }
            })
        })?;
    let _ = INSTALLED.set(());
    Ok(())
}

fn on_signal(signal: i32) {
    if SIGNAL
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
        || WAITING_FOR_INPUT.load(Ordering::SeqCst)
    {
        quit_now(SIGNAL.load(Ordering::SeqCst));
    }
    interrupt_queries();
    std::thread::spawn(move || {
        std::thread::sleep(GRACE);
        quit_now(signal);
    });
}

fn interrupt_queries() {
    let registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    for handle in registry.queries.iter().filter_map(Weak::upgrade) {
        handle.interrupt();
    }
}

/// Removes the work directories and exits without unwinding.
fn quit_now(signal: i32) -> ! {
    // Held until the process exits: no work directory can be created and missed meanwhile.
    let registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    for dir in &registry.dirs {
        remove_while_written(dir);
    }
    eprintln!("ktriage: {}", Interrupted(signal));
    std::process::exit(i32::from(exit_code(signal)));
}

/// Marks the time the command spends waiting for the user's input, when a signal may quit at
/// once. Returns what `wait` returned.
pub fn waiting_for_input<T>(wait: impl FnOnce() -> T) -> T {
    WAITING_FOR_INPUT.store(true, Ordering::SeqCst);
    let result = wait();
    WAITING_FOR_INPUT.store(false, Ordering::SeqCst);
    result
}

/// Removes `dir` although another thread may still be unpacking into it: a file created
/// during the removal makes it fail, so it is tried again until the directory is gone.
fn remove_while_written(dir: &Path) {
    for _ in 0..20 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The signal received, if any.
pub fn requested() -> Option<Interrupted> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(Interrupted(s)),
    }
}

/// Fails with [`Interrupted`] once a signal has arrived.
pub fn check() -> Result<(), Interrupted> {
    requested().map_or(Ok(()), Err)
}

/// Lets a signal interrupt the queries of the connection `handle` belongs to, for as long
/// as the handle lives. A signal that already arrived interrupts it at once.
pub fn watch(handle: &Arc<InterruptHandle>) {
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    registry.queries.retain(|w| w.strong_count() > 0);
    registry.queries.push(Arc::downgrade(handle));
    drop(registry);
    if requested().is_some() {
        handle.interrupt();
    }
}

/// A work directory a signal removes if the command cannot unwind in time; unregistered when
/// this guard drops.
pub struct WorkDir(PathBuf);

impl WorkDir {
    /// Creates a temporary directory named `prefix…` under `TMPDIR` and registers it in one
    /// step, so a signal arriving in between cannot miss it. The [`tempfile::TempDir`] removes
    /// it when dropped; the guard unregisters it.
    pub fn create(prefix: &str) -> std::io::Result<(tempfile::TempDir, WorkDir)> {
        Self::create_in(&std::env::temp_dir(), prefix)
    }

    /// [`WorkDir::create`] under `parent` (next to an output file, so that the finished
    /// file is renamed into place rather than copied across file systems).
    pub fn create_in(parent: &Path, prefix: &str) -> std::io::Result<(tempfile::TempDir, WorkDir)> {
        let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        registry.dirs.push(dir.path().to_path_buf());
        let guard = WorkDir(dir.path().to_path_buf());
        Ok((dir, guard))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        registry.dirs.retain(|d| d != &self.0);
    }
}

/// Interrupts the query of `handle`'s connection if it is still running after a time limit;
/// disarmed when dropped.
pub struct Deadline {
    disarm: Option<std::sync::mpsc::Sender<()>>,
    fired: Arc<std::sync::atomic::AtomicBool>,
}

impl Deadline {
    pub fn arm(handle: &Arc<InterruptHandle>, after: Duration) -> Deadline {
        let (disarm, wait) = std::sync::mpsc::channel::<()>();
        let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (handle, flag) = (Arc::clone(handle), Arc::clone(&fired));
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(after) {
                flag.store(true, Ordering::SeqCst);
                handle.interrupt();
            }
        });
        Deadline {
            disarm: Some(disarm),
            fired,
        }
    }

    /// Whether the limit was reached and the query interrupted.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // Dropping the sender wakes the timer thread, which then ends without interrupting.
        self.disarm.take();
    }
}
