//! Line-by-line redaction of a stream (a service log read as it comes): a PEM private key
//! spans several lines, so the redactor remembers that a key block is open and redacts every
//! line until its end marker.

use std::borrow::Cow;

use regex::bytes::Regex;

use super::Redactor;
use super::rules::push_replacement;

/// Redacts successive lines of one stream. Create one per stream with [`Redactor::lines`].
/// A key block is counted once, by the text rule that redacts its first line.
pub struct LineRedactor<'r> {
    redactor: &'r Redactor,
    in_private_key: bool,
}

impl<'r> LineRedactor<'r> {
    pub(super) fn new(redactor: &'r Redactor) -> Self {
        LineRedactor {
            redactor,
            in_private_key: false,
        }
    }

    /// Redacts one line (with or without its trailing newline).
    pub fn line<'a>(&mut self, line: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(rules) = &self.redactor.rules else {
            return Cow::Borrowed(line);
        };
        let markers = &rules.pem_markers;
        if self.in_private_key {
            let body_end = line.len() - trailing_newline_len(line);
            return match markers.end.find(line) {
                Some(end) => {
                    self.in_private_key = false;
                    let mut out = Vec::with_capacity(line.len());
                    push_replacement(&mut out, end.end());
                    out.extend_from_slice(&self.redactor.redact_bytes(&line[end.end()..]));
                    Cow::Owned(out)
                }
                None => {
                    let mut out = Vec::with_capacity(24);
                    push_replacement(&mut out, body_end);
                    out.extend_from_slice(&line[body_end..]);
                    Cow::Owned(out)
                }
            };
        }
        if let Some(begin) = markers.begin.find_iter(line).last()
            && !markers.end.is_match(&line[begin.end()..])
        {
            self.in_private_key = true;
        }
        // The newline stays out of the text rules: a key cut off at the end of the line is
        // redacted up to the end of the text, and the line must keep its end.
        let body_end = line.len() - trailing_newline_len(line);
        match self.redactor.redact_bytes(&line[..body_end]) {
            Cow::Borrowed(_) => Cow::Borrowed(line),
            Cow::Owned(mut out) => {
                out.extend_from_slice(&line[body_end..]);
                Cow::Owned(out)
            }
        }
    }
}

fn trailing_newline_len(line: &[u8]) -> usize {
    match line {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] => 1,
        _ => 0,
    }
}

/// Compiled begin/end markers of a PEM private key.
pub(super) struct PemMarkers {
    begin: Regex,
    end: Regex,
}

impl PemMarkers {
    pub(super) fn new() -> Result<Self, regex::Error> {
        Ok(PemMarkers {
            begin: Regex::new(super::rules::PEM_BEGIN)?,
            end: Regex::new(super::rules::PEM_END)?,
        })
    }
}
