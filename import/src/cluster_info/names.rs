//! Names read from a source (a log header, a path) become parts of paths in the bundle: only
//! what Kubernetes itself allows in namespace, pod and container names gets through.

/// Whether `name` is usable as a namespace, pod or container name: 1 to 253 ASCII letters,
/// digits, `-`, `.` or `_`, and not `.` or `..`. Kubernetes is stricter still; this is the part
/// that keeps a name from being a path, a traversal or terminal control.
pub(crate) fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// A piece of untrusted text for an error message: quoted, control characters escaped, cut
/// to a readable length.
pub(crate) fn quoted(text: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(&text[..text.len().min(MAX)]);
    let cut = if text.len() >= MAX { "…" } else { "" };
    format!("{:?}{cut}", text.trim_end_matches(['\n', '\r']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["kube-system", "coredns-5d78c9869d-abcde", "my.pod", "a"] {
            assert!(is_object_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "../etc", "a/b", "a b", "x\u{1b}[2J", "é"] {
            assert!(!is_object_name(bad), "{bad}");
        }
        assert!(!is_object_name(&"a".repeat(254)));
    }

    #[test]
    fn quoting_escapes_control_characters() {
        assert_eq!(quoted(b"a\x1b[2Jb\n"), r#""a\u{1b}[2Jb""#);
        assert!(quoted(&[b'x'; 200]).ends_with('…'));
    }
}
