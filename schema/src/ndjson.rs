//! Hashes an NDJSON file and checks that each non-empty line is one JSON object.
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

/// SHA-256 (hex) of everything `reader` yields, after checking every line.
pub(crate) fn hash_and_validate(
    mut reader: impl BufRead,
    max_line_bytes: usize,
) -> Result<String, ValidateError> {
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
                // The lines before it in this batch still count: they may hold an earlier error.
                batch.data.truncate(start);
                first_error.record(number, format!("line longer than {max_line_bytes} bytes"));
                break;
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
        Ok(hex::encode(hasher.finalize()))
    })?;
    match first_error.take() {
        Some((line, message)) => Err(ValidateError::Json { line, message }),
        None => Ok(digest),
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

    fn check(text: &str) -> Result<String, (u64, String)> {
        hash_and_validate(text.as_bytes(), 1 << 10).map_err(|e| match e {
            ValidateError::Json { line, message } => (line, message),
            ValidateError::Io(e) => (0, e.to_string()),
        })
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
    fn arrays_and_long_lines_are_rejected_with_their_line() {
        assert_eq!(
            check("{}\n[1,2]\n"),
            Err((2, "expected a JSON object".to_string()))
        );
        let long = format!("{{}}\n{{\"k\":\"{}\"}}\n", "y".repeat(2000));
        assert_eq!(
            check(&long),
            Err((2, "line longer than 1024 bytes".to_string()))
        );
        // An earlier malformed line in the same batch wins over a later long one.
        let both = format!("{{\n{{\"k\":\"{}\"}}\n", "y".repeat(2000));
        assert_eq!(check(&both).expect_err("malformed").0, 1);
    }
}
