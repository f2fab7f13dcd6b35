//! Progress on a terminal: one bar per cluster (resources listed, objects, logs, bytes
//! written). Counters are atomics, so every task updates them directly; without a terminal
//! (or with `-q`) nothing is drawn, but the counters still feed the summary line.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{
    HumanBytes, HumanCount, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle,
};

/// Where bars are drawn.
pub struct Ui {
    multi: Option<MultiProgress>,
}

impl Ui {
    /// Bars on stderr when it is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Self {
        let show = !quiet && std::io::stderr().is_terminal();
        Ui {
            multi: show.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// No bars at all.
    pub fn hidden() -> Self {
        Ui { multi: None }
    }

    /// Counters (and a bar, when shown) for one cluster.
    pub fn cluster(&self, label: &str) -> Arc<Progress> {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new(0));
            let style = ProgressStyle::with_template(
                "{spinner} {prefix:.bold} [{bar:24}] {pos}/{len} resources  {msg}  {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Arc::new(Progress {
            bar,
            ..Progress::default()
        })
    }

    /// Prints a line above the bars (or plainly on stderr without them).
    pub fn message(&self, text: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

/// The counters of one cluster's collection.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    resources_total: AtomicU64,
    resources_done: AtomicU64,
    objects: AtomicI64,
    logs_total: AtomicU64,
    logs_done: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    /// Counters without a bar.
    pub fn hidden() -> Arc<Self> {
        Arc::new(Progress::default())
    }

    /// More resources to list.
    pub fn add_resources(&self, n: u64) {
        self.resources_total.fetch_add(n, Ordering::Relaxed);
        self.refresh();
    }

    /// One resource listed (or given up).
    pub fn resource_done(&self) {
        self.resources_done.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    /// Objects spooled (negative after a list restart).
    pub fn objects(&self, delta: i64) {
        self.objects.fetch_add(delta, Ordering::Relaxed);
        self.refresh();
    }

    /// More logs to fetch.
    pub fn add_logs(&self, n: u64) {
        self.logs_total.fetch_add(n, Ordering::Relaxed);
        self.refresh();
    }

    /// One log fetched (or given up).
    pub fn log_done(&self) {
        self.logs_done.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    /// Bytes handed to the archive.
    pub fn written(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.refresh();
    }

    /// Objects collected so far.
    pub fn object_count(&self) -> u64 {
        self.objects.load(Ordering::Relaxed).max(0) as u64
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn refresh(&self) {
        let Some(bar) = &self.bar else { return };
        bar.set_length(self.resources_total.load(Ordering::Relaxed));
        bar.set_position(self.resources_done.load(Ordering::Relaxed));
        bar.set_message(format!(
            "objects {} · logs {}/{} · {}",
            HumanCount(self.object_count()),
            HumanCount(self.logs_done.load(Ordering::Relaxed)),
            HumanCount(self.logs_total.load(Ordering::Relaxed)),
            HumanBytes(self.bytes.load(Ordering::Relaxed)),
        ));
    }
}
