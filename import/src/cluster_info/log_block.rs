//! One container's log in a dump: the lines between `==== START logs for container C of pod
//! NS/P ====` and `==== END logs for container C of pod NS/P ====`, read as a stream.
//!
//! kubectl writes the END line right after the log's last byte, so a log that does not end in
//! a newline has the END marker at the end of its last line: the marker is recognised as the
//! end of any line, and held back across reads so that a line longer than one read still
//! ends the block where it should.

use std::io::{self, BufRead, Read};

/// Lines are read at most this many bytes at a time: a log line without a newline must not
/// fill memory.
const CHUNK: u64 = 64 * 1024;

/// What kubectl writes in place of a log it could not fetch.
const FETCH_ERRORS: [&[u8]; 2] = [b"Create log request error: ", b"Request log error: "];

#[cfg(test)]
pub(crate) fn start_line(container: &str, namespace: &str, pod: &str) -> String {
    format!("==== START logs for container {container} of pod {namespace}/{pod} ====")
}

pub(crate) fn end_line(container: &str, namespace: &str, pod: &str) -> String {
    format!("==== END logs for container {container} of pod {namespace}/{pod} ====")
}

/// The `(container, namespace, pod)` a START line names, as written (not yet validated).
pub(crate) fn parse_start_line(line: &[u8]) -> Option<(&str, &str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let rest = line
        .strip_prefix("==== START logs for container ")?
        .strip_suffix(" ====")?;
    let (container, pod) = rest.split_once(" of pod ")?;
    let (namespace, pod) = pod.split_once('/')?;
    Some((container, namespace, pod))
}

/// Reads a log block's body from `input`, positioned just after its START line, and stops
/// after its END line.
pub(crate) struct LogBlock<'r, R: BufRead> {
    input: &'r mut R,
    end_marker: Vec<u8>,
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out.
    start: usize,
    /// Bytes of `buf` that may be handed out (the rest may be the beginning of the marker).
    ready: usize,
    done: bool,
    /// The input ended before the END line.
    pub missing_end: bool,
}

impl<'r, R: BufRead> LogBlock<'r, R> {
    pub(crate) fn new(input: &'r mut R, end_marker: String) -> Self {
        LogBlock {
            input,
            end_marker: end_marker.into_bytes(),
            buf: Vec::new(),
            start: 0,
            ready: 0,
            done: false,
            missing_end: false,
        }
    }

    /// Reads one more line (or chunk of a long line).
    fn fill(&mut self) -> io::Result<()> {
        self.buf.drain(..self.start);
        self.ready -= self.start;
        self.start = 0;
        let read = (&mut *self.input)
            .take(CHUNK)
            .read_until(b'\n', &mut self.buf)?;
        let marker = self.end_marker.len();
        if read == 0 {
            // The end of the input: only a marker without its newline may still close the block.
            if self.buf.ends_with(&self.end_marker) {
                self.ready = self.buf.len() - marker;
                self.done = true;
                return Ok(());
            }
            self.missing_end = true;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "log block without its END line",
            ));
        }
        if self.buf.ends_with(b"\n") {
            let line = &self.buf[..self.buf.len() - 1];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.ends_with(&self.end_marker) {
                self.ready = line.len() - marker;
                self.done = true;
            } else {
                self.ready = self.buf.len();
            }
        } else {
            self.ready = self.ready.max(self.buf.len().saturating_sub(marker));
        }
        Ok(())
    }

    /// When the whole block is one short line saying kubectl could not fetch the log, that
    /// line (the log is then a gap, not an empty log). Reads ahead at most a few lines.
    pub(crate) fn fetch_error(&mut self) -> io::Result<Option<String>> {
        while !self.done && self.buf.len() < 4096 {
            self.fill()?;
            if self.buf[..self.ready]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                > 1
            {
                return Ok(None);
            }
        }
        if !self.done {
            return Ok(None);
        }
        let body = &self.buf[..self.ready];
        if FETCH_ERRORS.iter().any(|p| body.starts_with(p)) {
            let text = String::from_utf8_lossy(body);
            return Ok(Some(text.trim_end().to_owned()));
        }
        Ok(None)
    }
}

impl<R: BufRead> Read for LogBlock<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.start == self.ready {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = out.len().min(self.ready - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &[u8]) -> (io::Result<Vec<u8>>, bool, Vec<u8>) {
        let mut input = io::BufReader::with_capacity(16, text);
        let mut log = LogBlock::new(&mut input, end_line("c", "ns", "p"));
        let mut body = Vec::new();
        let result = log.read_to_end(&mut body).map(|_| body);
        let missing = log.missing_end;
        let mut rest = Vec::new();
        input.read_to_end(&mut rest).expect("rest");
        (result, missing, rest)
    }

    #[test]
    fn start_line_round_trips() {
        let line = start_line("c", "ns", "p") + "\n";
        assert_eq!(parse_start_line(line.as_bytes()), Some(("c", "ns", "p")));
        assert_eq!(parse_start_line(b"==== START logs for pod ns/p ===="), None);
    }

    #[test]
    fn body_stops_at_end_line_and_leaves_the_rest() {
        let text = format!("a\nb\n{}\n{{\"next\"", end_line("c", "ns", "p"));
        let (body, missing, rest) = block(text.as_bytes());
        assert_eq!(body.expect("body"), b"a\nb\n");
        assert!(!missing);
        assert_eq!(rest, b"{\"next\"");
    }

    #[test]
    fn end_marker_after_a_last_line_without_newline() {
        let text = format!("a\nno newline{}\nrest", end_line("c", "ns", "p"));
        let (body, _, rest) = block(text.as_bytes());
        assert_eq!(body.expect("body"), b"a\nno newline");
        assert_eq!(rest, b"rest");
    }

    #[test]
    fn end_marker_split_across_reads_of_a_long_line() {
        let long = "x".repeat(CHUNK as usize - 10);
        let text = format!("{long}{}\n", end_line("c", "ns", "p"));
        let (body, _, _) = block(text.as_bytes());
        assert_eq!(body.expect("body"), long.as_bytes());
    }

    #[test]
    fn missing_end_is_an_error_not_a_short_log() {
        let (body, missing, _) = block(b"a\nb\n");
        assert!(body.is_err());
        assert!(missing);
        let other = format!("a\n{}\n", end_line("other", "ns", "p"));
        assert!(block(other.as_bytes()).1);
    }

    #[test]
    fn fetch_error_is_recognised_only_alone() {
        let end = end_line("c", "ns", "p");
        let text = format!("Request log error: the server could not find it\n{end}\n");
        let mut input = text.as_bytes();
        let mut log = LogBlock::new(&mut input, end.clone());
        assert_eq!(
            log.fetch_error().expect("read").as_deref(),
            Some("Request log error: the server could not find it")
        );
        let text = format!("Request log error: x\nmore\n{end}\n");
        let mut input = text.as_bytes();
        let mut log = LogBlock::new(&mut input, end.clone());
        assert_eq!(log.fetch_error().expect("read"), None);
        let mut body = Vec::new();
        log.read_to_end(&mut body).expect("body");
        assert_eq!(body, b"Request log error: x\nmore\n");
    }
}
