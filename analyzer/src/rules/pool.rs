//! Rules side by side on several connections, each rule bounded in time.
//!
//! Most of a rule's time is planning, which DuckDB does on the calling thread, so rules run on
//! one worker thread per core. The calling thread watches them: a rule running past the time
//! limit is interrupted and reported as failed with its time, and a worker whose query ignores
//! the interrupt is left behind (its rule failed) while the others go on. A signal interrupts
//! every worker ([`crate::stop`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use duckdb::{Connection, InterruptHandle};

use super::engine::{CollectionTimes, RuleRun, run_rule_at};
use super::rule::Rule;
use crate::stop;

/// Bounds on one run of the rules.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A rule still running after this is interrupted and reported as failed.
    pub rule_timeout: Duration,
}

/// Well above the slowest built-in rule on a 150,000-pod cluster (about half a second).
pub const DEFAULT_RULE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rule_timeout: DEFAULT_RULE_TIMEOUT,
        }
    }
}

/// How often the calling thread looks at the running rules.
const TICK: Duration = Duration::from_millis(50);
/// How long an interrupted query may take to stop before its worker is left behind.
const ABANDON_AFTER: Duration = Duration::from_secs(10);

/// What one worker is running: the rule's index and when it started.
type Slot = Arc<Mutex<Option<(usize, Instant)>>>;

struct Worker {
    slot: Slot,
    interrupt: Arc<InterruptHandle>,
    thread: std::thread::JoinHandle<()>,
    /// Left behind: its query ignored the interrupt.
    abandoned: bool,
}

/// Runs `rules` on `workers` connections cloned from `conn` and returns their runs in the
/// order of `rules`; `on_done` hears each rule as it finishes, on the calling thread.
pub fn run_all(
    conn: &Connection,
    rules: &[Rule],
    workers: usize,
    limits: Limits,
    on_done: &(dyn Fn(&Rule) + Sync),
) -> Result<Vec<RuleRun>> {
    // Read once for every rule that judges log evidence by its age.
    let times = if rules.iter().any(|r| r.meta.recent_window().is_some()) {
        CollectionTimes::read(conn).context("reading collection times")?
    } else {
        CollectionTimes::default()
    };
    let shared = Arc::new(Shared {
        rules: rules.to_vec(),
        order: longest_first(rules),
        times,
        next: AtomicUsize::new(0),
    });
    let (tx, rx) = mpsc::channel();
    let mut pool = Vec::new();
    for _ in 0..workers.clamp(1, rules.len().max(1)) {
        pool.push(spawn(conn, &shared, tx.clone())?);
    }

    let mut runs: Vec<Option<RuleRun>> = vec![None; rules.len()];
    let mut done = 0;
    let mut timed_out = HashSet::new();
    while done < rules.len() {
        match rx.recv_timeout(TICK) {
            Ok((i, mut run)) => {
                if runs[i].is_some() {
                    continue; // already reported as failed when its worker was left behind
                }
                if timed_out.contains(&i) && run.error.is_some() {
                    run.error = Some(timeout_message(limits.rule_timeout, run.elapsed));
                }
                on_done(&rules[i]);
                runs[i] = Some(run);
                done += 1;
                continue;
            }
            // This thread keeps a sender for replacement workers: the channel never closes.
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
        if stop::requested().is_some() {
            // Every worker was interrupted; wait for those that stop (the signal handler
            // quits the process if they do not), so the case is dropped after them.
            if pool.iter().all(|w| w.abandoned || w.thread.is_finished()) {
                break;
            }
            continue;
        }
        let mut replacements = 0;
        for worker in pool.iter_mut().filter(|w| !w.abandoned) {
            match worker.check(limits.rule_timeout) {
                Overdue::No => {}
                Overdue::Interrupted(i) => {
                    timed_out.insert(i);
                }
                Overdue::Stuck(i, elapsed) => {
                    worker.abandoned = true;
                    replacements += 1;
                    let why = format!(
                        "{}; the query did not stop when interrupted",
                        timeout_message(limits.rule_timeout, elapsed)
                    );
                    runs[i] = Some(RuleRun::failed(&rules[i], elapsed, why));
                    on_done(&rules[i]);
                    done += 1;
                }
                Overdue::Died(i) => {
                    worker.abandoned = true;
                    replacements += 1;
                    let why = "the rule's worker stopped in the middle of it".to_string();
                    runs[i] = Some(RuleRun::failed(&rules[i], Duration::ZERO, why));
                    on_done(&rules[i]);
                    done += 1;
                }
            }
        }
        for _ in 0..replacements {
            pool.push(spawn(conn, &shared, tx.clone())?);
        }
    }
    stop::check()?;
    Ok(runs
        .into_iter()
        .zip(rules)
        .map(|(run, rule)| {
            run.unwrap_or_else(|| RuleRun::failed(rule, Duration::ZERO, "not run".into()))
        })
        .collect())
}

enum Overdue {
    No,
    /// Past the limit: its query was interrupted.
    Interrupted(usize),
    /// Interrupted long ago and still running.
    Stuck(usize, Duration),
    /// Its thread ended in the middle of a rule (a panic).
    Died(usize),
}

impl Worker {
    fn check(&self, limit: Duration) -> Overdue {
        // Under the slot's lock: an interrupt cannot land on the worker's next rule.
        let slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        let Some((i, started)) = *slot else {
            return Overdue::No;
        };
        if self.thread.is_finished() {
            return Overdue::Died(i);
        }
        let elapsed = started.elapsed();
        if elapsed < limit {
            Overdue::No
        } else if elapsed < limit + ABANDON_AFTER {
            self.interrupt.interrupt();
            Overdue::Interrupted(i)
        } else {
            Overdue::Stuck(i, elapsed)
        }
    }
}

fn timeout_message(limit: Duration, elapsed: Duration) -> String {
    format!(
        "stopped after {:.1} s: over the {} s limit (--rule-timeout)",
        elapsed.as_secs_f64(),
        limit.as_secs()
    )
}

/// What every worker reads.
struct Shared {
    rules: Vec<Rule>,
    /// Indexes into `rules`, in the order workers take them.
    order: Vec<usize>,
    times: CollectionTimes,
    next: AtomicUsize,
}

/// The rules' indexes, the longest SQL first. Rules run on a few workers; one long rule taken
/// last keeps one worker busy while the others idle (in id order, the slowest built-in rule
/// sorts last). Length is a rough guess of cost, but on a 150,000-pod cluster it puts the
/// slow rules first: the phase ends within 20 ms of half the rules' summed time, where id
/// order left about 170 ms of one core idle (docs/benchmarks.md).
fn longest_first(rules: &[Rule]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(rules[i].sql.len()));
    order
}

fn spawn(
    conn: &Connection,
    shared: &Arc<Shared>,
    tx: mpsc::Sender<(usize, RuleRun)>,
) -> Result<Worker> {
    let conn = conn.try_clone().context("opening a connection for rules")?;
    let interrupt = conn.interrupt_handle();
    stop::watch(&interrupt);
    let slot: Slot = Arc::default();
    let (shared, worker_slot) = (Arc::clone(shared), Arc::clone(&slot));
    let thread = std::thread::Builder::new()
        .name("rules".into())
        .spawn(move || {
            loop {
                if stop::requested().is_some() {
                    break;
                }
                let taken = shared.next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = shared.order.get(taken) else {
                    break;
                };
                let rule = &shared.rules[i];
                *worker_slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((i, Instant::now()));
                let run = run_rule_at(&conn, rule, Some(&shared.times));
                *worker_slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
                if tx.send((i, run)).is_err() {
                    break;
                }
            }
        })
        .context("starting a rule worker")?;
    Ok(Worker {
        slot,
        interrupt,
        thread,
        abandoned: false,
    })
}
