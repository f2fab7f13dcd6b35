//! Progress bars on a terminal, nothing otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes bars and spinners that draw only when stderr is a terminal and not quieted.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Draws when stderr is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Never draws.
    pub fn hidden() -> Progress {
        Progress { enabled: false }
    }

    /// A bar of `len` steps.
    pub fn bar(&self, len: u64, prefix: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(prefix.to_string());
        bar
    }

    /// A spinner with a message.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let s = ProgressBar::new_spinner();
        s.set_message(msg.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    }
}
