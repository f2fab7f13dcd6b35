//! Replaces known words (host names, domains, chosen names) wherever they stand as whole
//! words, ignoring ASCII case.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

/// Bytes that continue a word: a host name or chosen name next to one of these is part of a
/// longer word and is left alone (`node-1` inside `node-10`). Dots, hyphens and underscores
/// do not: Kubernetes builds names by joining them (a static pod `kube-apiserver-<node>`, a
/// namespace `<company>-prod`), and a name left inside one would leak.
fn continues_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Whether a match may start at `start`: at the start, after a non-word byte, or right after
/// a JSON or C escape such as `\n` (an object's string holding several lines).
pub(crate) fn starts_word(hay: &[u8], start: usize) -> bool {
    match start {
        0 => true,
        1 => !continues_word(hay[0]),
        _ => {
            let before = hay[start - 1];
            !continues_word(before)
                || (matches!(before, b'n' | b'r' | b't') && hay[start - 2] == b'\\')
        }
    }
}

/// Whether a match may end at `end`.
pub(crate) fn ends_word(hay: &[u8], end: usize) -> bool {
    end == hay.len() || !continues_word(hay[end])
}

/// A set of words, each with its replacement.
pub struct Words {
    matcher: Option<AhoCorasick>,
    replacements: Vec<String>,
    /// Whether each pattern's first and last bytes are word bytes (only then do boundaries
    /// matter).
    edges: Vec<(bool, bool)>,
}

impl Words {
    /// The words of `pairs` (word, replacement); empty words are ignored.
    pub fn new(pairs: Vec<(String, String)>) -> anyhow::Result<Self> {
        let pairs: Vec<(String, String)> =
            pairs.into_iter().filter(|(w, _)| !w.is_empty()).collect();
        let edges = pairs
            .iter()
            .map(|(w, _)| {
                let b = w.as_bytes();
                (continues_word(b[0]), continues_word(b[b.len() - 1]))
            })
            .collect();
        let matcher = if pairs.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .ascii_case_insensitive(true)
                    .build(pairs.iter().map(|(w, _)| w.as_bytes()))?,
            )
        };
        Ok(Words {
            matcher,
            replacements: pairs.into_iter().map(|(_, r)| r).collect(),
            edges,
        })
    }

    /// `hay` with every whole-word occurrence replaced, or `None` when nothing matched.
    pub fn replace(&self, hay: &[u8]) -> Option<Vec<u8>> {
        let matcher = self.matcher.as_ref()?;
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut at = 0;
        while at < hay.len() {
            let Some(m) = matcher.find(Input::new(hay).span(at..hay.len())) else {
                break;
            };
            let (check_start, check_end) = self.edges[m.pattern().as_usize()];
            let whole = (!check_start || starts_word(hay, m.start()))
                && (!check_end || ends_word(hay, m.end()));
            if !whole {
                at = m.start() + 1;
                continue;
            }
            let buf = out.get_or_insert_with(|| Vec::with_capacity(hay.len()));
            buf.extend_from_slice(&hay[copied..m.start()]);
            buf.extend_from_slice(self.replacements[m.pattern().as_usize()].as_bytes());
            copied = m.end();
            at = m.end();
        }
        let mut buf = out?;
        buf.extend_from_slice(&hay[copied..]);
        Some(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pairs: &[(&str, &str)]) -> Words {
        Words::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
        .expect("words")
    }

    fn apply(w: &Words, s: &str) -> String {
        w.replace(s.as_bytes())
            .map(|b| String::from_utf8(b).expect("utf-8"))
            .unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn whole_words_only_in_any_case() {
        let w = words(&[
            ("node-1", "host-a"),
            ("node-1.corp.example", "host-a.dom-b"),
            ("corp.example", "dom-b"),
        ]);
        assert_eq!(apply(&w, "node-1"), "host-a");
        assert_eq!(
            apply(&w, "\"nodeName\":\"node-1\""),
            "\"nodeName\":\"host-a\""
        );
        assert_eq!(apply(&w, "NODE-1.Corp.Example:6443"), "host-a.dom-b:6443");
        assert_eq!(
            apply(&w, "node-10 xnode-1 node-1x"),
            "node-10 xnode-1 node-1x"
        );
        assert_eq!(apply(&w, "etcd-node-1 node-1_x"), "etcd-host-a host-a_x");
        assert_eq!(apply(&w, "search corp.example"), "search dom-b");
        assert_eq!(apply(&w, "a.node-1.b"), "a.host-a.b");
        assert_eq!(
            apply(&w, "line\\nnode-1\\tnode-1"),
            "line\\nhost-a\\thost-a"
        );
        assert!(w.replace(b"nothing here").is_none());
    }

    #[test]
    fn a_rejected_match_does_not_hide_a_later_one() {
        let w = words(&[("acme", "name-1"), ("acme corp", "name-2")]);
        assert_eq!(apply(&w, "acmex acme corp acme."), "acmex name-2 name-1.");
        assert_eq!(apply(&w, "xacme-acme"), "xacme-name-1");
        assert_eq!(apply(&w, "xacme acme"), "xacme name-1");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept() {
        let w = words(&[("node-1", "host-a")]);
        assert_eq!(
            w.replace(b"\xff node-1 \xfe").expect("replaced"),
            b"\xff host-a \xfe"
        );
    }
}
