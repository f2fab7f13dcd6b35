//! Response bodies produced on a blocking thread and streamed in chunks, so a list of a
//! hundred thousand objects never sits in memory whole.

use std::io;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::mpsc;

const CHUNK: usize = 256 * 1024;

/// Where a producer writes; chunks go to the client as they fill.
pub struct Sink {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Sink {
    /// Appends `data`, sending a chunk when enough has gathered.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

/// A response whose body `producer` writes on a blocking thread. An error after the first
/// chunk aborts the body, so the client sees a truncated response rather than bad JSON.
pub fn stream<F>(content_type: &'static str, producer: F) -> Response
where
    F: FnOnce(&mut Sink) -> io::Result<()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut sink = Sink {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = producer(&mut sink).and_then(|()| sink.flush()) {
            let _ = sink.tx.blocking_send(Err(e));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(chunks));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A complete JSON response.
pub fn json(content_type: &'static str, data: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(data));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
