//! Reads what `kubectl cluster-info dump` writes to one output: JSON documents (Lists) and
//! container log blocks, in any order and number. Each file of the `--output-directory` form
//! is such a stream too: a `<ns>/pods.json` holds one List, a `<ns>/<pod>/logs.txt` only log
//! blocks; the single-stream form has all of them one after another.

use std::io::{BufRead, BufReader, Read};

use ktriage_schema::manifest::{Gap, GapKind, GapReason};

use super::lists::complete_item;
use super::log_block::{LogBlock, end_line, parse_start_line};
use super::names::{is_object_name, quoted};
use super::resources;
use crate::json_stream::for_each_item_of_document;
use crate::{ImportError, LogRef, Sink};

/// What the file's place in the directory form says about its content.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Expect<'a> {
    /// `(apiVersion, kind, resource)` of the List's items, from the file's name.
    pub items: Option<(&'a str, &'a str, &'a str)>,
    /// `(namespace, pod)` every log block must belong to, from the file's directory.
    pub pod: Option<(&'a str, &'a str)>,
}

/// Log block headers are short; a longer line is not one.
const MAX_HEADER: u64 = 4096;

pub(crate) fn convert(
    path: &str,
    body: &mut dyn Read,
    expect: Expect<'_>,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    let mut input = BufReader::new(body);
    let io = |e| ImportError::io(path, e);
    loop {
        let buf = input.fill_buf().map_err(io)?;
        if buf.is_empty() {
            return Ok(());
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if blank > 0 {
            input.consume(blank);
            continue;
        }
        match buf[0] {
            b'{' | b'[' => json_document(path, &mut input, expect, sink)?,
            _ => log_block(path, &mut input, expect, sink)?,
        }
    }
}

fn json_document(
    path: &str,
    input: &mut BufReader<&mut dyn Read>,
    expect: Expect<'_>,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    // The deserializer reads from the buffered input byte by byte and stops at the document's
    // last byte, so what follows (a log block) is still there afterwards.
    let mut de = serde_json::Deserializer::from_reader(&mut *input);
    let fallback = expect.items.map(|(version, kind, _)| (version, kind));
    let mut index = 0u64;
    for_each_item_of_document(path, &mut de, &mut |header, mut item| {
        index += 1;
        if !complete_item(&mut item, header, fallback) {
            return Err(ImportError::bad_input(
                path,
                format!("item {index} of a list is not an object with a kind"),
            ));
        }
        let kind = item["kind"].as_str().unwrap_or_default();
        let resource = resources::plural_of(kind).or(expect.items.map(|(_, _, r)| r));
        sink.object(item, resource)
    })?;
    Ok(())
}

fn log_block(
    path: &str,
    input: &mut BufReader<&mut dyn Read>,
    expect: Expect<'_>,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    let mut line = Vec::new();
    (&mut *input)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| ImportError::io(path, e))?;
    let Some((container, namespace, pod)) = parse_start_line(&line) else {
        return Err(ImportError::bad_input(
            path,
            format!(
                "expected a JSON list or a `==== START logs for container …` line, found {}",
                quoted(&line)
            ),
        ));
    };
    if ![container, namespace, pod].into_iter().all(is_object_name) {
        return Err(ImportError::bad_input(
            path,
            format!(
                "log header names an invalid container or pod: {}",
                quoted(&line)
            ),
        ));
    }
    if let Some((want_namespace, want_pod)) = expect.pod
        && (namespace, pod) != (want_namespace, want_pod)
    {
        return Err(ImportError::bad_input(
            path,
            format!("holds the log of pod {namespace}/{pod}, not of {want_namespace}/{want_pod}"),
        ));
    }
    let log = LogRef {
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
        container: container.to_owned(),
        previous: false,
    };
    let truncated = || {
        ImportError::bad_input(
            path,
            format!("the log of container {container} of pod {namespace}/{pod} has no END line"),
        )
    };
    let mut block = LogBlock::new(input, end_line(container, namespace, pod));
    let fetch_error = block.fetch_error().map_err(|e| match block.missing_end {
        true => truncated(),
        false => ImportError::io(path, e),
    })?;
    if let Some(detail) = fetch_error {
        sink.gap(
            Gap::new(
                GapKind::Logs,
                format!("{namespace}/{pod}/{container}"),
                GapReason::Unavailable,
            )
            .with_detail(detail),
        );
        return Ok(());
    }
    let sent = sink.log(&log, &mut block);
    if block.missing_end {
        return Err(truncated());
    }
    sent?;
    // Whatever the sink left unread belongs to this block, not to what follows it.
    std::io::copy(&mut block, &mut std::io::sink()).map_err(|e| match block.missing_end {
        true => truncated(),
        false => ImportError::io(path, e),
    })?;
    Ok(())
}
