//! Pseudonymizes a spooled entry (a resource list, possibly hundreds of MiB) into a new spool
//! file, line by line, so it is never held in memory whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::Pseudonymizer;

/// Rewrites `size` bytes of `file` (from its current position) through `p` into a temporary
/// file in `dir`; returns it at its start, with its size.
pub fn rewrite(p: &Pseudonymizer, file: File, size: u64, dir: &Path) -> io::Result<(File, u64)> {
    let mut input = BufReader::with_capacity(256 * 1024, file.take(size));
    let mut output = BufWriter::with_capacity(256 * 1024, tempfile::tempfile_in(dir)?);
    let mut line = Vec::new();
    let mut written = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let out = p.apply(&line);
        output.write_all(&out)?;
        written += out.len() as u64;
    }
    let mut file = output.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    Ok((file, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::{Classes, PseudonymOptions};

    #[test]
    fn rewrites_only_the_entry_and_every_line_of_it() {
        let p = Pseudonymizer::new(
            &PseudonymOptions {
                classes: Classes::parse(&["hosts,ips".into()]).expect("classes"),
                names: Vec::new(),
                key: None,
                key_file: None,
                known_hosts: Vec::new(),
            },
            &["node-a".to_string()],
        )
        .expect("new");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = tempfile::tempfile_in(dir.path()).expect("spool");
        spool
            .write_all(b"skipped\n{\"n\":\"node-a\"}\n{\"ip\":\"10.0.0.1\"}\nafter")
            .expect("write");
        spool.seek(SeekFrom::Start(8)).expect("seek");
        let size = 33;
        let (mut out, len) = rewrite(&p, spool, size, dir.path()).expect("rewrite");
        let mut text = String::new();
        out.read_to_string(&mut text).expect("read");
        assert_eq!(text.len() as u64, len);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(!text.contains("node-a") && !text.contains("10.0.0.1") && !text.contains("after"));
        assert_eq!(
            text,
            p.apply_str("{\"n\":\"node-a\"}\n{\"ip\":\"10.0.0.1\"}\n")
        );
    }
}
