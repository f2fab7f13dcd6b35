//! The manifest both modes close their bundle with: one producer name, one bundle id scheme.

use chrono::{DateTime, Utc};
use ktriage_schema::Manifest;
use ktriage_schema::manifest::{Gap, Redaction, Source};
use serde_json::Value;

/// Name of the producer in the manifest.
pub const PRODUCER: &str = "ktriage-collect";

/// What a finished collection knows about itself; entries and checksums are added by the
/// bundle writer.
pub struct Closing {
    pub started_at: DateTime<Utc>,
    pub source: Source,
    /// The options that shaped the bundle, as recorded for whoever reads it later.
    pub options: Value,
    pub gaps: Vec<Gap>,
    pub redaction: Redaction,
    /// Stopped early (signal, deadline, writer failure): not everything was collected.
    pub partial: bool,
}

/// The manifest of a bundle finished now.
pub fn build(closing: Closing) -> Manifest {
    Manifest {
        format_version: Manifest::current_format_version(),
        producer: PRODUCER.into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        bundle_id: bundle_id(),
        started_at: closing.started_at,
        finished_at: Utc::now(),
        source: closing.source,
        options: closing.options,
        entries: Vec::new(),
        gaps: closing.gaps,
        redaction: closing.redaction,
        partial: closing.partial,
    }
}

/// A random UUID (version 4).
pub fn bundle_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: fall back to time and process id, still unique in practice.
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128;
        b = (nanos ^ ((std::process::id() as u128) << 64)).to_be_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_ids_look_like_uuids() {
        let id = bundle_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, bundle_id());
    }
}
