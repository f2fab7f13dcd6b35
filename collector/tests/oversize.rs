//! An object too large for one bundle line is left out with a gap naming it, so that what the
//! collector writes always loads.

use std::time::Duration;

use ktriage_schema::layout;
use ktriage_schema::manifest::{GapKind, GapReason};
use ktriage_serve::faults::FaultPlan;
use serde_json::json;

use crate::common::{Fixture, setup};

/// Plain prose: nothing in it looks like a credential, so redaction leaves it whole.
fn prose(bytes: usize) -> String {
    let sentence = "the quick brown fox jumps over the lazy dog again and again\n";
    sentence.repeat(bytes / sentence.len() + 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_over_the_line_limit_becomes_a_gap() {
    let mut fixture = Fixture::standard(3);
    let key = ("".to_string(), "v1".to_string(), "configmaps".to_string());
    let mut configmaps = fixture.objects[&key].clone();
    let small = configmaps.len();
    configmaps.push(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "huge", "namespace": "app", "uid": "uid-huge"},
        "data": {"notes.txt": prose(20 << 20)}
    }));
    fixture.add("", "v1", "configmaps", configmaps);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(&[], Duration::from_secs(120)).await;

    let c = s.open_output();
    let gaps = c.gaps(GapKind::Object, "ConfigMap app/huge");
    assert_eq!(gaps.len(), 1, "{:?}", c.manifest().gaps);
    assert_eq!(gaps[0].reason, GapReason::TooLarge);
    let size: u64 = gaps[0]
        .detail
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("size first in {:?}", gaps[0].detail));
    assert!(size > 20 << 20, "{}", gaps[0].detail);
    // The reader, which refused such a line whole, finds none; the other ConfigMaps are there.
    assert!(c.bundle.oversized.is_empty(), "{:?}", c.bundle.oversized);
    let collected = c.objects("", "v1", "configmaps").expect("configmaps");
    assert_eq!(collected.len(), small);
    assert!(!collected.contains_key("app/huge"));
    for entry in &c.manifest().entries {
        if !entry.path.ends_with(layout::NDJSON_EXT) {
            continue;
        }
        let text = c.file(&entry.path).expect("listed entry");
        let longest = text.split_inclusive(|b| *b == b'\n').map(<[u8]>::len).max();
        assert!(
            longest.unwrap_or(0) <= layout::MAX_LINE_BYTES,
            "{}: a line of {longest:?} bytes",
            entry.path
        );
    }
}
