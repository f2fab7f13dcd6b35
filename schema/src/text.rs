//! Text from a bundle, a rule file or a cluster, made safe to print on a terminal.
//!
//! Names inside an archive and values inside objects are chosen by whoever made them: an
//! entry name holding `ESC ]` or `BEL` would reach the terminal as a control sequence (retitle
//! the window, hide text, move the cursor) if printed raw. Messages show such characters as
//! visible escapes instead.

use std::fmt;

/// Whether `c` changes what a terminal shows rather than being shown: C0 and C1 controls,
/// DEL, and the bidirectional overrides that can reorder what is displayed.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as a visible `\u{..}` escape (`\n`, `\r` and
/// `\t` as themselves escaped); everything else unchanged.
pub fn terminal_safe(text: &str) -> String {
    Safe(text).to_string()
}

/// Displays a string the way [`terminal_safe`] returns it, without allocating first.
#[derive(Debug, Clone, Copy)]
pub struct Safe<'a>(pub &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if is_unsafe(c) {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(
            terminal_safe("pods\u{1b}]0;owned\u{7}.ndjson"),
            "pods\\u{1b}]0;owned\\u{7}.ndjson"
        );
        assert_eq!(terminal_safe("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(terminal_safe("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(terminal_safe("evil\u{202e}txt.sql"), "evil\\u{202e}txt.sql");
    }

    #[test]
    fn printable_text_is_unchanged() {
        let text = "kube-system/coredns-76f75df574 节点 \"quoted\" \\ é";
        assert_eq!(terminal_safe(text), text);
    }
}
