//! Listing one resource, page by page (`limit` + `continue`), each page written to a spool
//! file as it arrives so no whole list is ever held in memory. The spool is handed to the
//! archive writer once the list is complete (a tar header needs the size first).
//!
//! A page is kept as its objects' raw JSON text, and each object becomes a JSON tree only
//! while it is cleaned and redacted: a parsed page of 500 pods takes several times the
//! memory of its text, and several lists run at once.
//!
//! An expired `continue` token (410 Gone) restarts the list from the start, discarding what
//! the expired pass had spooled; after [`MAX_RESTARTS`] restarts the list is read in one
//! request without `limit` as a last resort. Both are reported so the manifest can say so.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::cluster::api::{Api, ApiError, encode_query};
use crate::redact::Redactor;

/// Restarts after an expired `continue` token before falling back to one unpaginated list.
pub const MAX_RESTARTS: u32 = 2;

/// The annotation `kubectl apply` keeps: a full copy of the object (Secrets included).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// One page of a list.
#[derive(Debug, Default)]
pub struct Page {
    /// The objects, as JSON text.
    pub items: Vec<Box<RawValue>>,
    /// The `continue` token of the next page, if any.
    pub next: Option<String>,
}

/// Where pages come from.
pub trait PageSource {
    /// Fetches a page: from the start without a token, without `limit` when `limit` is None.
    fn page(
        &mut self,
        token: Option<&str>,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<Page, ApiError>> + Send;
}

/// Where pages go; it can roll back to a mark when a list restarts.
pub trait PageSink {
    /// A position to roll back to.
    type Mark: Copy;
    /// The current position.
    fn mark(&mut self) -> Self::Mark;
    /// Forgets everything accepted since `mark`.
    fn rollback(&mut self, mark: Self::Mark) -> io::Result<()>;
    /// Takes the objects of one page.
    fn accept(&mut self, items: Vec<Box<RawValue>>) -> io::Result<()>;
}

/// How a list went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListReport {
    /// Pages accepted (over all passes).
    pub pages: u64,
    /// Restarts after an expired `continue` token.
    pub restarts: u32,
    /// Whether the list was finally read in one unpaginated request.
    pub full_relist: bool,
}

/// Why a list stopped.
#[derive(Debug)]
pub enum ListError {
    /// The server (or the deadline) stopped it.
    Api(ApiError),
    /// The spool could not be written.
    Io(io::Error),
}

impl From<io::Error> for ListError {
    fn from(e: io::Error) -> Self {
        ListError::Io(e)
    }
}

/// Lists everything `source` has into `sink`, `limit` objects per page.
pub async fn paginate<S: PageSource, K: PageSink>(
    source: &mut S,
    sink: &mut K,
    limit: u32,
    report: &mut ListReport,
) -> Result<(), ListError> {
    let start = sink.mark();
    'pass: loop {
        let mut token: Option<String> = None;
        loop {
            match source.page(token.as_deref(), Some(limit)).await {
                Ok(page) => {
                    sink.accept(page.items)?;
                    report.pages += 1;
                    match page.next.filter(|t| !t.is_empty()) {
                        Some(next) if Some(&next) == token.as_ref() => {
                            return Err(ListError::Api(ApiError::Decode(
                                "the server returned the same continue token twice".into(),
                            )));
                        }
                        Some(next) => token = Some(next),
                        None => return Ok(()),
                    }
                }
                Err(e) if e.is_expired() && token.is_some() => {
                    sink.rollback(start)?;
                    report.restarts += 1;
                    if report.restarts > MAX_RESTARTS {
                        break 'pass;
                    }
                    continue 'pass;
                }
                Err(e) => return Err(ListError::Api(e)),
            }
        }
    }
    report.full_relist = true;
    let page = source.page(None, None).await.map_err(ListError::Api)?;
    sink.accept(page.items)?;
    report.pages += 1;
    Ok(())
}

/// Pages of one list URL.
pub struct ApiPages<'a> {
    /// The client.
    pub api: &'a Api,
    /// The list URL without query.
    pub path: String,
}

impl PageSource for ApiPages<'_> {
    fn page(
        &mut self,
        token: Option<&str>,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<Page, ApiError>> + Send {
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(format!("limit={limit}"));
        }
        if let Some(token) = token {
            query.push(format!("continue={}", encode_query(token)));
        }
        let url = if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, query.join("&"))
        };
        let api = self.api;
        async move {
            let list: RawList = api.get_as(&url).await?;
            Ok(Page {
                items: list.items.unwrap_or_default(),
                next: list.metadata.and_then(|m| m.continue_token),
            })
        }
    }
}

/// A list answer with its objects left as text.
#[derive(Deserialize)]
struct RawList {
    items: Option<Vec<Box<RawValue>>>,
    metadata: Option<RawListMeta>,
}

#[derive(Deserialize)]
struct RawListMeta {
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

/// Receives each object of a list before it is cleaned and redacted (to note pods and nodes).
pub trait Observer: Send {
    /// Sees one object.
    fn observe(&mut self, object: &Value);
    /// How many observations are kept (a mark to roll back to).
    fn len(&self) -> usize;
    /// Whether nothing is kept.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Forgets observations past `len`.
    fn truncate(&mut self, len: usize);
}

/// An observer that keeps nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn observe(&mut self, _: &Value) {}
    fn len(&self) -> usize {
        0
    }
    fn truncate(&mut self, _: usize) {}
}

/// A resource's objects as NDJSON in a temporary file: cleaned, `apiVersion`/`kind` set,
/// redacted, one per line.
pub struct Spool<'a, O: Observer> {
    file: BufWriter<File>,
    bytes: u64,
    objects: u64,
    api_version: String,
    kind: String,
    redactor: &'a Redactor,
    excluded_namespaces: &'a BTreeSet<String>,
    observer: O,
    on_objects: &'a (dyn Fn(i64) + Sync),
    oversized: Vec<Gap>,
}

/// A position in a [`Spool`].
#[derive(Debug, Clone, Copy)]
pub struct SpoolMark {
    bytes: u64,
    objects: u64,
    observed: usize,
    oversized: usize,
}

/// The gap of an object left out because its line would be longer than the analyzer reads
/// (`layout::MAX_LINE_BYTES`): what the bundle holds must load.
fn oversized_gap(item: &Value, kind: &str, line_bytes: usize) -> Gap {
    let field = |pointer: &str| item.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let (namespace, name) = (field("/metadata/namespace"), field("/metadata/name"));
    let location = if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    };
    Gap::new(GapKind::Object, location, GapReason::TooLarge).with_detail(format!(
        "{line_bytes} bytes serialised, over the {}-byte limit of one bundle line; not written",
        layout::MAX_LINE_BYTES
    ))
}

impl<'a, O: Observer> Spool<'a, O> {
    /// A spool on `file` for objects of `api_version`/`kind`; `on_objects` hears how many
    /// objects were added (or, negative, rolled back).
    pub fn new(
        file: File,
        api_version: String,
        kind: String,
        redactor: &'a Redactor,
        excluded_namespaces: &'a BTreeSet<String>,
        observer: O,
        on_objects: &'a (dyn Fn(i64) + Sync),
    ) -> Self {
        Spool {
            file: BufWriter::with_capacity(256 * 1024, file),
            bytes: 0,
            objects: 0,
            api_version,
            kind,
            redactor,
            excluded_namespaces,
            observer,
            on_objects,
            oversized: Vec::new(),
        }
    }

    /// Gaps of the objects left out for their size.
    pub fn oversized(&self) -> &[Gap] {
        &self.oversized
    }

    /// Objects spooled.
    pub fn objects(&self) -> u64 {
        self.objects
    }

    /// Closes the spool: the file rewound to its start, its size, and the observer.
    pub fn finish(self) -> io::Result<(File, u64, O)> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, self.bytes, self.observer))
    }
}

impl<O: Observer> PageSink for Spool<'_, O> {
    type Mark = SpoolMark;

    fn mark(&mut self) -> SpoolMark {
        SpoolMark {
            bytes: self.bytes,
            objects: self.objects,
            observed: self.observer.len(),
            oversized: self.oversized.len(),
        }
    }

    fn rollback(&mut self, mark: SpoolMark) -> io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.set_len(mark.bytes)?;
        file.seek(SeekFrom::Start(mark.bytes))?;
        (self.on_objects)(-((self.objects - mark.objects) as i64));
        self.bytes = mark.bytes;
        self.objects = mark.objects;
        self.observer.truncate(mark.observed);
        self.oversized.truncate(mark.oversized);
        Ok(())
    }

    fn accept(&mut self, items: Vec<Box<RawValue>>) -> io::Result<()> {
        let mut added = 0;
        for raw in items {
            let mut item: Value = serde_json::from_str(raw.get()).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("list item: {e}"))
            })?;
            drop(raw);
            let namespace = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !namespace.is_empty() && self.excluded_namespaces.contains(namespace) {
                continue;
            }
            self.observer.observe(&item);
            clean(&mut item, &self.api_version, &self.kind);
            self.redactor.redact_json(&mut item);
            let line = serde_json::to_vec(&item).map_err(io::Error::other)?;
            if line.len() + 1 > layout::MAX_LINE_BYTES {
                self.oversized
                    .push(oversized_gap(&item, &self.kind, line.len()));
                continue;
            }
            self.file.write_all(&line)?;
            self.file.write_all(b"\n")?;
            self.bytes += line.len() as u64 + 1;
            self.objects += 1;
            added += 1;
        }
        (self.on_objects)(added);
        Ok(())
    }
}

/// Drops what only bloats a bundle (`managedFields`, the last-applied copy) and sets
/// `apiVersion`/`kind`, which items of a list omit.
pub fn clean(item: &mut Value, api_version: &str, kind: &str) {
    let Some(object) = item.as_object_mut() else {
        return;
    };
    for (field, value) in [("apiVersion", api_version), ("kind", kind)] {
        let missing = object
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            object.insert(field.to_string(), Value::String(value.to_string()));
        }
    }
    if let Some(Value::Object(meta)) = object.get_mut("metadata") {
        meta.remove("managedFields");
        let empty = match meta.get_mut("annotations") {
            Some(Value::Object(annotations)) => {
                annotations.remove(LAST_APPLIED);
                annotations.is_empty()
            }
            _ => false,
        };
        if empty {
            meta.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use serde_json::json;

    use super::*;

    /// Pages served from a script: each call pops the next answer.
    struct Script {
        answers: VecDeque<Result<Page, ApiError>>,
        calls: Vec<(Option<String>, Option<u32>)>,
    }

    impl PageSource for Script {
        fn page(
            &mut self,
            token: Option<&str>,
            limit: Option<u32>,
        ) -> impl Future<Output = Result<Page, ApiError>> + Send {
            self.calls.push((token.map(str::to_string), limit));
            let answer = self
                .answers
                .pop_front()
                .unwrap_or(Err(ApiError::Decode("script exhausted".into())));
            async move { answer }
        }
    }

    #[derive(Default)]
    struct VecSink(Vec<Value>);

    impl PageSink for VecSink {
        type Mark = usize;
        fn mark(&mut self) -> usize {
            self.0.len()
        }
        fn rollback(&mut self, mark: usize) -> io::Result<()> {
            self.0.truncate(mark);
            Ok(())
        }
        fn accept(&mut self, items: Vec<Box<RawValue>>) -> io::Result<()> {
            for item in items {
                self.0.push(serde_json::from_str(item.get())?);
            }
            Ok(())
        }
    }

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("a JSON value is valid JSON")
    }

    fn page(ids: &[u64], next: Option<&str>) -> Result<Page, ApiError> {
        Ok(Page {
            items: ids.iter().map(|i| raw(json!({"id": i}))).collect(),
            next: next.map(str::to_string),
        })
    }

    fn gone() -> Result<Page, ApiError> {
        Err(ApiError::Status {
            code: 410,
            message: "continue token expired".into(),
        })
    }

    async fn run(
        answers: Vec<Result<Page, ApiError>>,
    ) -> (Script, VecSink, ListReport, Result<(), ListError>) {
        let mut script = Script {
            answers: answers.into(),
            calls: Vec::new(),
        };
        let mut sink = VecSink::default();
        let mut report = ListReport::default();
        let result = paginate(&mut script, &mut sink, 2, &mut report).await;
        (script, sink, report, result)
    }

    #[tokio::test]
    async fn follows_continue_tokens() {
        let (script, sink, report, result) = run(vec![
            page(&[1, 2], Some("t1")),
            page(&[3, 4], Some("t2")),
            page(&[5], None),
        ])
        .await;
        assert!(result.is_ok());
        assert_eq!(sink.0.len(), 5);
        assert_eq!(
            report,
            ListReport {
                pages: 3,
                restarts: 0,
                full_relist: false
            }
        );
        assert_eq!(script.calls[1], (Some("t1".into()), Some(2)));
    }

    #[tokio::test]
    async fn expired_token_restarts_from_scratch() {
        let (script, sink, report, result) = run(vec![
            page(&[1, 2], Some("t1")),
            gone(),
            page(&[1, 2], Some("t3")),
            page(&[3], None),
        ])
        .await;
        assert!(result.is_ok());
        let ids: Vec<u64> = sink.0.iter().filter_map(|v| v["id"].as_u64()).collect();
        assert_eq!(ids, vec![1, 2, 3], "nothing duplicated");
        assert_eq!(report.restarts, 1);
        assert_eq!(script.calls[2], (None, Some(2)));
    }

    #[tokio::test]
    async fn repeated_expiry_falls_back_to_one_full_list() {
        let (script, sink, report, result) = run(vec![
            page(&[1, 2], Some("a")),
            gone(),
            page(&[1, 2], Some("b")),
            gone(),
            page(&[1, 2], Some("c")),
            gone(),
            page(&[1, 2, 3], None),
        ])
        .await;
        assert!(result.is_ok());
        assert_eq!(sink.0.len(), 3);
        assert!(report.full_relist);
        assert_eq!(report.restarts, 3);
        assert_eq!(script.calls.last(), Some(&(None, None)));
    }

    #[tokio::test]
    async fn errors_keep_pages_already_read() {
        let (_, sink, report, result) = run(vec![
            page(&[1, 2], Some("t1")),
            Err(ApiError::Status {
                code: 500,
                message: "boom".into(),
            }),
        ])
        .await;
        assert!(matches!(
            result,
            Err(ListError::Api(ApiError::Status { code: 500, .. }))
        ));
        assert_eq!(sink.0.len(), 2);
        assert_eq!(report.pages, 1);
        // A 410 on the first page is not an expired token: it is an error.
        let (_, _, _, result) = run(vec![gone()]).await;
        assert!(matches!(
            result,
            Err(ListError::Api(ApiError::Status { code: 410, .. }))
        ));
    }

    #[tokio::test]
    async fn a_repeated_token_does_not_loop() {
        let (_, _, _, result) = run(vec![page(&[1], Some("same")), page(&[2], Some("same"))]).await;
        assert!(matches!(result, Err(ListError::Api(ApiError::Decode(_)))));
    }

    #[test]
    fn clean_strips_noise_and_sets_type() {
        let mut item = json!({
            "metadata": {
                "name": "x",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {LAST_APPLIED: "{}"}
            },
            "spec": {}
        });
        clean(&mut item, "apps/v1", "Deployment");
        assert_eq!(item["apiVersion"], "apps/v1");
        assert_eq!(item["kind"], "Deployment");
        assert!(item["metadata"].get("managedFields").is_none());
        assert!(item["metadata"].get("annotations").is_none());
        let mut keep = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"annotations": {"a": "b", LAST_APPLIED: "{}"}}});
        clean(&mut keep, "v2", "Other");
        assert_eq!(keep["kind"], "Pod");
        assert_eq!(keep["metadata"]["annotations"], json!({"a": "b"}));
    }

    #[test]
    fn spool_rolls_back_and_redacts() {
        let redactor = Redactor::new(&Default::default()).expect("redactor");
        let excluded: BTreeSet<String> = ["skip".to_string()].into();
        let counted = std::sync::atomic::AtomicI64::new(0);
        let on_objects = |n: i64| {
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let file = tempfile::tempfile().expect("tempfile");
        let mut spool = Spool::new(
            file,
            "v1".into(),
            "Secret".into(),
            &redactor,
            &excluded,
            NoObserver,
            &on_objects,
        );
        let secret = |ns: &str| {
            raw(
                json!({"metadata": {"name": "s", "namespace": ns}, "data": {"k": "c3Bvb2wtY2FuYXJ5"}}),
            )
        };
        let mark = spool.mark();
        spool.accept(vec![secret("a")]).expect("accept");
        spool.rollback(mark).expect("rollback");
        spool
            .accept(vec![secret("a"), secret("skip"), secret("b")])
            .expect("accept");
        assert_eq!(spool.objects(), 2);
        let (mut file, size, _) = spool.finish().expect("finish");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).expect("read");
        assert_eq!(text.len() as u64, size);
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("c3Bvb2wtY2FuYXJ5"));
        assert!(text.contains("\"kind\":\"Secret\""));
        assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn list_answers_keep_items_as_text() {
        let list: RawList = serde_json::from_str(
            r#"{"kind":"PodList","metadata":{"continue":"abc","resourceVersion":"7"},
                "items":[{"metadata":{"name":"a"}}, {"metadata":{"name":"b"},"spec":{"x":[1,2]}}]}"#,
        )
        .expect("a list decodes");
        let items = list.items.expect("items");
        assert_eq!(
            items[1].get(),
            r#"{"metadata":{"name":"b"},"spec":{"x":[1,2]}}"#
        );
        assert_eq!(
            list.metadata.and_then(|m| m.continue_token).as_deref(),
            Some("abc")
        );
        let empty: RawList =
            serde_json::from_str(r#"{"items":null,"metadata":{}}"#).expect("decodes");
        assert!(empty.items.is_none() && empty.metadata.and_then(|m| m.continue_token).is_none());
        assert!(serde_json::from_str::<RawList>(r#"{"items":"nope"}"#).is_err());
        assert!(serde_json::from_str::<RawList>(r#"{"items":[{"a":1}"#).is_err());
    }
}
