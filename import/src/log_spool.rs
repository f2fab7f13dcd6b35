//! Logs pass through the redactor line by line into a spool file before a bundle takes
//! them: the bundle writer needs each entry's size before its content.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use ktriage_redact::Redactor;

use crate::ImportError;

/// Longest piece of a log line redacted at once: a log without newlines stays bounded.
const MAX_LOG_CHUNK: u64 = 1 << 20;

/// Redacts `body` (named `source` in errors) line by line into a new file at `path`, and
/// returns that file with its size. The file's position is at its end.
pub(crate) fn spool_redacted(
    body: &mut dyn Read,
    redactor: &Redactor,
    path: &Path,
    source: &str,
) -> Result<(File, u64), ImportError> {
    let spool_error = |e| ImportError::write("spool", e);
    let mut spool = File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)
        .map_err(spool_error)?;
    {
        let mut out = BufWriter::new(&mut spool);
        let mut lines = redactor.lines();
        let mut reader = BufReader::new(body);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_LOG_CHUNK)
                .read_until(b'\n', &mut line)
                .map_err(|e| ImportError::io(source, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&lines.line(&line)).map_err(spool_error)?;
        }
        out.flush().map_err(spool_error)?;
    }
    let size = spool.stream_position().map_err(spool_error)?;
    Ok((spool, size))
}
