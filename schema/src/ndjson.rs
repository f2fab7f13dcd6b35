//! Hashes an NDJSON file and checks that each non-empty line is one JSON object.
//!
//! A line longer than the line limit is not refused: it is hashed and scanned for the
//! object's name without being held in memory, and reported, so that one oversized object
//! costs that object (a gap), not the whole bundle. Loaders skip such lines with
//! [`for_each_line`].
//!
//! Validating the JSON is most of the cost of opening a large bundle, and lines are
//! independent: the reading thread hashes and cuts the file into batches of whole lines, and
//! worker threads validate the batches. The error reported is always the first bad line of
//! the file, whatever the order the workers finish in.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;

use sha2::{Digest, Sha256};

/// Why a file failed.
pub(crate) enum ValidateError {
    Io(io::Error),
    Json { line: u64, message: String },
}

/// Lines handed to a worker at once.
const BATCH_BYTES: usize = 4 << 20;

/// Whole lines, the first of them numbered `first_line` (1-based).
struct Batch {
    first_line: u64,
    data: Vec<u8>,
}

impl Batch {
    fn starting_at(first_line: u64) -> Batch {
        Batch {
            first_line,
            // Room for the line that crosses the threshold, so it rarely reallocates.
            data: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
        }
    }
}

/// The first bad line seen so far.
#[derive(Default)]
struct FirstError(Mutex<Option<(u64, String)>>);

impl FirstError {
    fn record(&self, line: u64, message: String) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(first, _)| line < *first) {
            *slot = Some((line, message));
        }
    }

    fn take(self) -> Option<(u64, String)> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// A line over the line limit, left out of loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LongLine {
    /// 1-based line number.
    pub line: u64,
    /// Length of the line without its newline.
    pub bytes: u64,
    /// Who the object is, as far as the line tells.
    pub object: ObjectName,
}

/// An API object's identity; each part `None` when the line did not tell it in time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectName {
    /// `kind`.
    pub kind: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

/// SHA-256 (hex) of everything `reader` yields, after checking every line, and the lines
/// longer than `max_line_bytes` (newline included), which are not checked.
pub(crate) fn hash_and_validate(
    mut reader: impl BufRead,
    max_line_bytes: usize,
) -> Result<(String, Vec<LongLine>), ValidateError> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    let first_error = FirstError::default();
    let failed = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<Batch>(workers * 2);
    let rx = Mutex::new(rx);
    let digest = thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                // Every batch sent is validated, even after a failure elsewhere: batches go
                // out in file order, so the smallest bad line among them is the file's first.
                loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(batch) = next else { break };
                    if let Err((line, message)) = validate_batch(&batch) {
                        first_error.record(line, message);
                        failed.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        let mut hasher = Sha256::new();
        let mut batch = Batch::starting_at(1);
        let mut number = 0u64;
        let mut long_lines = Vec::new();
        loop {
            let start = batch.data.len();
            let n = (&mut reader)
                .take(max_line_bytes as u64 + 1)
                .read_until(b'\n', &mut batch.data)
                .map_err(ValidateError::Io)?;
            if n == 0 {
                break;
            }
            number += 1;
            hasher.update(&batch.data[start..]);
            if n > max_line_bytes {
                // Only the part within the limit is held in memory; the rest is hashed and
                // scanned for the object's name as it passes.
                let mut names = NameScanner::default();
                names.feed(&batch.data[start..]);
                let mut bytes = n as u64;
                let mut newline = batch.data.last() == Some(&b'\n');
                if !newline {
                    let (more, ended) = skip_line(&mut reader, |chunk| {
                        hasher.update(chunk);
                        names.feed(chunk);
                    })
                    .map_err(ValidateError::Io)?;
                    bytes += more;
                    newline = ended;
                }
                let object = names.finish();
                // A blank line in its place keeps the batch's line numbers right.
                batch.data.truncate(start);
                batch.data.push(b'\n');
                long_lines.push(LongLine {
                    line: number,
                    bytes: bytes - u64::from(newline),
                    object,
                });
                continue;
            }
            if batch.data.len() >= BATCH_BYTES {
                let full = std::mem::replace(&mut batch, Batch::starting_at(number + 1));
                if tx.send(full).is_err() || failed.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        if !batch.data.is_empty() {
            // Workers only stop once the channel closes, so this cannot fail.
            let _ = tx.send(batch);
        }
        drop(tx);
        Ok((hex::encode(hasher.finalize()), long_lines))
    })?;
    match first_error.take() {
        Some((line, message)) => Err(ValidateError::Json { line, message }),
        None => Ok(digest),
    }
}

/// Reads the rest of a line, handing each chunk to `seen`: how many bytes it had (newline
/// included) and whether it ended with a newline rather than the end of the file.
fn skip_line(reader: &mut impl BufRead, mut seen: impl FnMut(&[u8])) -> io::Result<(u64, bool)> {
    let mut skipped = 0u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((skipped, false));
        }
        let (take, ended) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        seen(&buf[..take]);
        reader.consume(take);
        skipped += take as u64;
        if ended {
            return Ok((skipped, true));
        }
    }
}

/// Calls `each` with every non-blank line of `reader` (without its newline) that is within
/// `max_line_bytes` (newline included); longer lines are skipped without being held in
/// memory: the lines the reader reported as too long.
pub fn for_each_line<E: From<io::Error>>(
    mut reader: impl BufRead,
    max_line_bytes: usize,
    mut each: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(max_line_bytes as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if n > max_line_bytes {
            if line.last() != Some(&b'\n') {
                skip_line(&mut reader, |_| {})?;
            }
            continue;
        }
        let text = line.trim_ascii();
        if !text.is_empty() {
            each(text)?;
        }
    }
}

impl ObjectName {
    /// `Kind namespace/name`, with `?` for what is unknown.
    pub fn describe(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("object");
        let name = self.name.as_deref().unwrap_or("?");
        match self.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
            _ => format!("{kind} {name}"),
        }
    }
}

/// Longest `kind`, name or namespace kept (Kubernetes names are at most 253 bytes).
const NAME_BYTES: usize = 256;

/// Finds `kind`, `metadata.name` and `metadata.namespace` in an object's JSON text fed in
/// pieces, holding no more than a few short strings: an oversized line is never held whole,
/// and its keys may come in any order (sorted keys put `data` before `kind`). Malformed
/// text gives whatever was found by then.
#[derive(Default)]
pub struct NameScanner {
    found: ObjectName,
    /// Containers open around the current position.
    depth: u64,
    /// For depths 1 and 2: whether the container is an object and a key comes next.
    object: [bool; 2],
    expect_key: [bool; 2],
    /// The last key at depths 1 and 2 (cut at `NAME_BYTES`).
    key: [Vec<u8>; 2],
    in_string: bool,
    escaped: bool,
    /// Where the string being read goes, if anywhere.
    capture: Option<Capture>,
    text: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Key(usize),
    Kind,
    Name,
    Namespace,
}

impl NameScanner {
    /// Reads the next piece of the text.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                self.string_byte(b);
            } else {
                self.structural_byte(b);
            }
        }
    }

    /// What was found.
    pub fn finish(self) -> ObjectName {
        self.found
    }

    fn string_byte(&mut self, b: u8) {
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_string = false;
            self.end_string();
            return;
        }
        if self.capture.is_some() && self.text.len() <= NAME_BYTES {
            self.text.push(b);
        }
    }

    fn structural_byte(&mut self, b: u8) {
        let level = self.level();
        match b {
            b'"' => {
                self.in_string = true;
                self.capture = self.capture_for_string();
                self.text.clear();
            }
            b'{' | b'[' => {
                self.depth += 1;
                if let Some(i) = self.level() {
                    self.object[i] = b == b'{';
                    self.expect_key[i] = b == b'{';
                    self.key[i].clear();
                }
            }
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b',' => {
                if let Some(i) = level {
                    self.expect_key[i] = self.object[i];
                }
            }
            b':' => {
                if let Some(i) = level {
                    self.expect_key[i] = false;
                }
            }
            _ => {}
        }
    }

    /// Index of the current depth when it is 1 or 2.
    fn level(&self) -> Option<usize> {
        match self.depth {
            1 => Some(0),
            2 => Some(1),
            _ => None,
        }
    }

    fn capture_for_string(&self) -> Option<Capture> {
        let i = self.level()?;
        if self.object[i] && self.expect_key[i] {
            return (i == 0 || self.key[0] == b"metadata").then_some(Capture::Key(i));
        }
        match (i, self.key[i].as_slice()) {
            (0, b"kind") => Some(Capture::Kind),
            (1, b"name") if self.key[0] == b"metadata" && self.object[1] => Some(Capture::Name),
            (1, b"namespace") if self.key[0] == b"metadata" && self.object[1] => {
                Some(Capture::Namespace)
            }
            _ => None,
        }
    }

    fn end_string(&mut self) {
        let Some(capture) = self.capture.take() else {
            return;
        };
        let text = std::mem::take(&mut self.text);
        if let Capture::Key(i) = capture {
            self.key[i] = text;
            return;
        }
        // Cut short, or escapes that do not decode: unknown rather than wrong.
        let value = (text.len() <= NAME_BYTES)
            .then(|| {
                let mut quoted = Vec::with_capacity(text.len() + 2);
                quoted.push(b'"');
                quoted.extend_from_slice(&text);
                quoted.push(b'"');
                serde_json::from_slice::<String>(&quoted).ok()
            })
            .flatten();
        let slot = match capture {
            Capture::Kind => &mut self.found.kind,
            Capture::Name => &mut self.found.name,
            _ => &mut self.found.namespace,
        };
        if slot.is_none() {
            *slot = value;
        }
    }
}

/// Checks each line of `batch`; the first bad one, with its line number.
fn validate_batch(batch: &Batch) -> Result<(), (u64, String)> {
    let mut lines = batch.data.split(|b| *b == b'\n');
    // A batch ends with a newline (or the file does not): the piece after it is not a line.
    if batch.data.last() == Some(&b'\n') {
        lines.next_back();
    }
    for (i, line) in lines.enumerate() {
        let number = batch.first_line + i as u64;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if text.first() != Some(&b'{') {
            return Err((number, "expected a JSON object".into()));
        }
        serde_json::from_slice::<serde::de::IgnoredAny>(text)
            .map_err(|e| (number, e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 10;

    fn check_all(text: &str) -> Result<(String, Vec<LongLine>), (u64, String)> {
        hash_and_validate(text.as_bytes(), LIMIT).map_err(|e| match e {
            ValidateError::Json { line, message } => (line, message),
            ValidateError::Io(e) => (0, e.to_string()),
        })
    }

    fn check(text: &str) -> Result<String, (u64, String)> {
        check_all(text).map(|(digest, _)| digest)
    }

    fn lines_within_limit(text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        for_each_line::<io::Error>(text.as_bytes(), LIMIT, |line| {
            seen.push(String::from_utf8_lossy(line).into_owned());
            Ok(())
        })
        .expect("reads");
        seen
    }

    #[test]
    fn hash_covers_every_byte_and_blank_lines_pass() {
        let text = "{\"a\":1}\n\n  \n{\"b\":[2]}";
        let want = crate::writer::sha256_hex(text.as_bytes());
        assert_eq!(check(text), Ok(want));
    }

    #[test]
    fn first_bad_line_is_reported_across_batches() {
        // Enough lines for several batches, bad from line 150,001 on and again later.
        let good = format!("{{\"k\":\"{}\"}}\n", "x".repeat(60));
        let mut text = good.repeat(150_000);
        text.push_str("{\"k\": ?}\n");
        text.push_str(&good.repeat(100_000));
        text.push_str("[1]\n");
        assert!(text.len() > 3 * BATCH_BYTES);
        let (line, message) = check(&text).expect_err("malformed");
        assert_eq!(line, 150_001, "{message}");
        assert!(message.contains("expected value"), "{message}");
    }

    #[test]
    fn arrays_are_rejected_with_their_line() {
        assert_eq!(
            check("{}\n[1,2]\n"),
            Err((2, "expected a JSON object".to_string()))
        );
    }

    #[test]
    fn long_lines_are_hashed_named_and_listed_not_refused() {
        // The name comes after the part within the limit.
        let big = format!(
            "{{\"kind\":\"ConfigMap\",\"data\":{{\"k\":\"{}\"}},\"metadata\":{{\"name\":\"late\"}}}}",
            "y".repeat(3 * LIMIT)
        );
        let named = format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"namespace\":\"ns\",\"name\":\"big\"}},\"data\":\"{}\"}}",
            "z".repeat(2 * LIMIT)
        );
        let text = format!("{{}}\n{big}\n{{\"a\":1}}\n{named}");
        let (digest, long) = check_all(&text).expect("long lines do not fail the file");
        assert_eq!(digest, crate::writer::sha256_hex(text.as_bytes()));
        assert_eq!(long.len(), 2, "{long:?}");
        assert_eq!((long[0].line, long[0].bytes), (2, big.len() as u64));
        assert_eq!(long[0].object.describe(), "ConfigMap late");
        assert_eq!((long[1].line, long[1].bytes), (4, named.len() as u64));
        assert_eq!(long[1].object.describe(), "Secret ns/big");
        assert_eq!(lines_within_limit(&text), vec!["{}", "{\"a\":1}"]);
    }

    #[test]
    fn a_line_at_the_limit_passes_and_one_byte_more_does_not() {
        // LIMIT bytes with the newline.
        let fits = format!("{{\"k\":\"{}\"}}", "a".repeat(LIMIT - 9));
        assert_eq!(fits.len() + 1, LIMIT);
        let over = format!("{{\"k\":\"{}\"}}", "a".repeat(LIMIT - 8));
        let text = format!("{fits}\n{over}\n");
        let (_, long) = check_all(&text).expect("valid");
        assert_eq!(long.iter().map(|l| l.line).collect::<Vec<_>>(), vec![2]);
        assert_eq!(lines_within_limit(&text), vec![fits]);
    }

    #[test]
    fn malformed_lines_around_a_long_one_are_still_reported() {
        let long = "y".repeat(2 * LIMIT);
        assert_eq!(check(&format!("{{\n{long}\n{{}}\n")).expect_err("bad").0, 1);
        assert_eq!(check(&format!("{{}}\n{long}\n[]\n")).expect_err("bad").0, 3);
    }

    fn scan(text: &str) -> String {
        let mut scanner = NameScanner::default();
        // Fed in pieces of every size, as a reader hands them over.
        for piece in text.as_bytes().chunks(3) {
            scanner.feed(piece);
        }
        scanner.finish().describe()
    }

    #[test]
    fn names_are_found_in_any_key_order_and_decoys_are_ignored() {
        assert_eq!(
            scan(
                r#"{"apiVersion":"v1","data":{"kind":"x","metadata":{"name":"decoy"}},"kind":"ConfigMap","metadata":{"labels":{"name":"l"},"name":"cm","namespace":"ns"}}"#
            ),
            "ConfigMap ns/cm"
        );
        assert_eq!(
            scan(
                r#"{"metadata":{"namespace":"a\"b","name":"caf\u00e9"},"kind":"Pod","items":[{"kind":"Secret"}]}"#
            ),
            "Pod a\"b/café"
        );
        assert_eq!(
            scan(r#"{"spec":{"template":{"metadata":{"name":"t"}}}}"#),
            "object ?"
        );
        assert_eq!(scan(r#"[{"kind":"Pod"}]"#), "object ?");
        assert_eq!(scan(r#"{"kind":"Node","metadata":{"name":"#), "Node ?");
        let long = "n".repeat(NAME_BYTES + 1);
        assert_eq!(
            scan(&format!(r#"{{"kind":"{long}","metadata":{{"name":"x"}}}}"#)),
            "object x"
        );
    }
}
