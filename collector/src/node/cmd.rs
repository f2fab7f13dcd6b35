//! Running a host command with a time limit, keeping a bounded tail of its output.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cleanup;
use crate::stop::Stop;

/// What a command printed.
#[derive(Debug)]
pub struct Output {
    /// The last `max` bytes of standard output, starting at a line boundary when cut.
    pub stdout: Vec<u8>,
    /// Total bytes the command printed on standard output.
    pub total: u64,
    /// Whether it exited successfully (false also when it was killed at the time limit).
    pub success: bool,
    /// Whether it was killed at the time limit.
    pub timed_out: bool,
    /// Whether it was killed because the collection was stopped.
    pub interrupted: bool,
    /// The start of its standard error, for gap details.
    pub stderr: String,
}

/// Runs `program args` with no standard input, killing it after `limit`, keeping the last
/// `max` bytes of its standard output.
pub fn run_tail(
    program: &Path,
    args: &[String],
    limit: Duration,
    max: usize,
) -> std::io::Result<Output> {
    run_tail_until(program, args, limit, max, &Stop::new())
}

/// [`run_tail`] that also kills the command as soon as `stop` is thrown.
pub fn run_tail_until(
    program: &Path,
    args: &[String],
    limit: Duration,
    max: usize,
    stop: &Stop,
) -> std::io::Result<Output> {
    // Its own process group: killing the group also ends whatever it started, which would
    // otherwise hold its output open (and this function) after it is gone.
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .env("SYSTEMD_PAGER", "")
        .process_group(0)
        .spawn()?;
    let group = cleanup::child_group(&child);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = thread::spawn(move || match stdout {
        Some(s) => read_tail(s, max),
        None => (Vec::new(), 0),
    });
    let err_reader = thread::spawn(move || match stderr {
        Some(s) => {
            let mut buf = Vec::new();
            let _ = s.take(4096).read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).trim().to_string()
        }
        None => String::new(),
    });
    let deadline = Instant::now() + limit;
    let (mut timed_out, mut interrupted) = (false, false);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            // Just reaped: what it left running in its group still holds the pipes.
            group.kill();
            break Some(status);
        }
        timed_out = Instant::now() >= deadline;
        interrupted = stop.is_stopped();
        if timed_out || interrupted {
            group.kill();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let (stdout, total) = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Output {
        stdout,
        total,
        success: status.is_some_and(|s| s.success()),
        timed_out,
        interrupted,
        stderr,
    })
}

/// Reads `r` to its end keeping only the last `max` bytes; when bytes were dropped, the kept
/// part starts after the first newline so it begins with a whole line.
pub fn read_tail(mut r: impl Read, max: usize) -> (Vec<u8>, u64) {
    let mut keep: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n as u64;
        keep.extend_from_slice(&chunk[..n]);
        if keep.len() > max.saturating_mul(2).max(64 * 1024) {
            let cut = keep.len() - max;
            keep.drain(..cut);
        }
    }
    if keep.len() > max {
        let cut = keep.len() - max;
        keep.drain(..cut);
    }
    if total > keep.len() as u64 {
        align_to_line(&mut keep);
    }
    (keep, total)
}

/// Drops a partial first line.
pub fn align_to_line(data: &mut Vec<u8>) {
    if let Some(i) = data.iter().position(|&b| b == b'\n') {
        data.drain(..=i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_whole_lines() {
        let text = "line one\nline two\nline three\n";
        let (kept, total) = read_tail(text.as_bytes(), 15);
        assert_eq!(total, text.len() as u64);
        assert_eq!(kept, b"line three\n");
        let (kept, _) = read_tail(text.as_bytes(), 100);
        assert_eq!(kept, text.as_bytes());
    }

    #[test]
    fn commands_time_out() {
        let out = run_tail(
            Path::new("sleep"),
            &["5".into()],
            Duration::from_millis(100),
            10,
        )
        .expect("runs");
        assert!(out.timed_out && !out.success);
        let out = run_tail(
            Path::new("echo"),
            &["hi".into()],
            Duration::from_secs(5),
            10,
        )
        .expect("runs");
        assert!(out.success);
        assert_eq!(out.stdout, b"hi\n");
    }

    #[test]
    fn commands_end_when_stopped() {
        let stop = Stop::new();
        let thrower = stop.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            thrower.stop(crate::stop::StopReason::Signal(
                crate::stop::Signal::Interrupt,
            ));
        });
        let out = run_tail_until(
            Path::new("sleep"),
            &["30".into()],
            Duration::from_secs(60),
            10,
            &stop,
        )
        .expect("runs");
        assert!(out.interrupted && !out.timed_out && !out.success);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn what_a_stopped_command_started_is_killed_too() {
        let stop = Stop::new();
        let thrower = stop.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            thrower.stop(crate::stop::StopReason::Signal(
                crate::stop::Signal::Terminate,
            ));
        });
        // The background sleep inherits the output pipe: unless it dies too, reading the
        // output waits for it.
        let out = run_tail_until(
            Path::new("sh"),
            &["-c".into(), "sleep 30 & sleep 30".into()],
            Duration::from_secs(60),
            10,
            &stop,
        )
        .expect("runs");
        assert!(out.interrupted);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        let out = run_tail(
            Path::new("sh"),
            &["-c".into(), "sleep 30 & echo hi".into()],
            Duration::from_secs(60),
            10,
        )
        .expect("runs");
        assert!(out.success && out.stdout == b"hi\n");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
    }
}
