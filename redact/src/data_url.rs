//! `data:` URLs (RFC 2397) carry whole files inside an object. The Ignition config of an
//! OpenShift MachineConfig writes `/var/lib/kubelet/config.json`, the cluster's pull secret,
//! as `data:,%7B%22auths%22…`, or base64-encoded and often gzip-compressed. Their payload is
//! decoded, redacted like any other string, and encoded back the same way when anything in
//! it changed. A payload that is not text (or would inflate past [`MAX_INFLATED`]) is left to
//! the text rules as it is.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

/// Largest decompressed payload inspected: far above any real file kept in an object.
const MAX_INFLATED: u64 = 16 << 20;

/// What percent-encoding re-encodes: everything but letters, digits and `-_.~`.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A `data:` URL split into its header (up to and with the comma) and its payload.
pub(super) struct DataUrl<'a> {
    header: &'a str,
    base64: bool,
    payload: &'a str,
}

/// A decoded payload and how to encode it back.
pub(super) struct Decoded {
    pub(super) text: String,
    gzip: bool,
}

impl<'a> DataUrl<'a> {
    /// `s` as a data URL, when it is one.
    pub(super) fn parse(s: &'a str) -> Option<Self> {
        let rest = s.strip_prefix("data:")?;
        let comma = rest.find(',')?;
        let media = &rest[..comma];
        if media.contains(char::is_whitespace) {
            return None;
        }
        let base64 = media
            .rsplit(';')
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case("base64"));
        Some(DataUrl {
            header: &s[..5 + comma + 1],
            base64,
            payload: &rest[comma + 1..],
        })
    }

    /// The payload as text: base64 or percent-decoded, then gunzipped when compressed.
    pub(super) fn decode(&self) -> Option<Decoded> {
        let bytes = if self.base64 {
            let compact: String = self.payload.split_whitespace().collect();
            STANDARD.decode(compact).ok()?
        } else {
            percent_decode_str(self.payload).collect()
        };
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        let bytes = if gzip { inflate(&bytes)? } else { bytes };
        Some(Decoded {
            text: String::from_utf8(bytes).ok()?,
            gzip,
        })
    }

    /// This URL with `decoded` (changed) as its payload, encoded as the original was.
    pub(super) fn encode(&self, decoded: &Decoded) -> String {
        let bytes = if decoded.gzip {
            deflate(decoded.text.as_bytes())
        } else {
            decoded.text.as_bytes().to_vec()
        };
        let payload = if self.base64 {
            STANDARD.encode(bytes)
        } else {
            percent_encode(&bytes, ESCAPED).to_string()
        };
        format!("{}{payload}", self.header)
    }
}

fn inflate(gz: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(gz)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= MAX_INFLATED).then_some(out)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded_text(url: &str) -> String {
        DataUrl::parse(url)
            .expect("a data URL")
            .decode()
            .expect("text")
            .text
    }

    fn round_trip(url: &str) -> (String, String) {
        let parsed = DataUrl::parse(url).expect("a data URL");
        let decoded = parsed.decode().expect("text");
        let again = parsed.encode(&decoded);
        (decoded.text, again)
    }

    #[test]
    fn percent_base64_and_gzip_payloads_decode_and_encode_back() {
        let (text, again) = round_trip("data:,%7B%22auths%22%3A%7B%7D%7D");
        assert_eq!(text, r#"{"auths":{}}"#);
        assert_eq!(decoded_text(&again), text);

        let b64 = format!(
            "data:text/plain;charset=utf-8;base64,{}",
            STANDARD.encode("a=b\n")
        );
        let (text, again) = round_trip(&b64);
        assert_eq!(text, "a=b\n");
        assert_eq!(again, b64);

        let gz = format!("data:;base64,{}", STANDARD.encode(deflate(b"hello gzip")));
        let (text, again) = round_trip(&gz);
        assert_eq!(text, "hello gzip");
        assert_eq!(decoded_text(&again), text);
    }

    #[test]
    fn not_data_urls_and_not_text_are_left_alone() {
        assert!(DataUrl::parse("https://example.com/data:,x").is_none());
        assert!(DataUrl::parse("data: no comma").is_none());
        assert!(
            DataUrl::parse("data:;base64,!!!")
                .expect("a data URL")
                .decode()
                .is_none()
        );
        let binary = format!("data:;base64,{}", STANDARD.encode([0xff, 0xfe, 0x00]));
        assert!(
            DataUrl::parse(&binary)
                .expect("a data URL")
                .decode()
                .is_none()
        );
    }

    #[test]
    fn a_gzip_bomb_is_not_inflated() {
        let zeros = vec![0u8; (MAX_INFLATED + 1) as usize];
        let bomb = format!("data:;base64,{}", STANDARD.encode(deflate(&zeros)));
        assert!(
            DataUrl::parse(&bomb)
                .expect("a data URL")
                .decode()
                .is_none()
        );
    }
}
