//! Plugin text made safe for a terminal or a log line.
//!
//! Every string a plugin produces (its `host.log` messages, its stdout and stderr, its panic and
//! error messages, the text fields of `describe`) passes through [`sanitize`] where it leaves the
//! plugin module, so nothing downstream can print an escape sequence that clears the screen, a
//! carriage return that overwrites a line, or a newline that forges a log line, and no message
//! is longer than its cap.

/// At most this many bytes of one error or panic message (before the "... (N more bytes)" tail).
pub const MESSAGE_CAP: usize = 2048;
/// At most this many bytes of one log line (`host.log`, a line of stdout or stderr).
pub const LINE_CAP: usize = 4096;
/// At most this many bytes of a short field: a version, a data-source type, an error code.
pub const FIELD_CAP: usize = 256;

/// `text` with every character that could act on a terminal or split a log line shown as a
/// visible escape (`\n`, `\r`, `\t`, others as `\u{1b}`), printable Unicode kept as it is, cut to
/// at most `max` bytes (on a character boundary) plus a `... (N more bytes)` tail that counts
/// the bytes of `text` left out.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut escaped = String::new();
    for (at, c) in text.char_indices() {
        let piece: &str = if needs_escape(c) {
            escaped.clear();
            match c {
                '\n' => escaped.push_str("\\n"),
                '\r' => escaped.push_str("\\r"),
                '\t' => escaped.push_str("\\t"),
                c => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
            &escaped
        } else {
            &text[at..at + c.len_utf8()]
        };
        if out.len() + piece.len() > max {
            out.push_str(&format!("... ({} more bytes)", text.len() - at));
            return out;
        }
        out.push_str(piece);
    }
    out
}

/// Whether `text` has a character [`sanitize`] would escape (for checks that refuse such text).
pub fn has_control(text: &str) -> bool {
    text.chars().any(needs_escape)
}

/// Control characters (C0, DEL, C1: the C1 range holds the one-byte CSI `\u{9b}`), and the
/// invisible characters that reorder or break lines on display: bidirectional overrides and
/// isolates (the "Trojan Source" characters), the Unicode line and paragraph separators.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_and_printable_text_is_kept() {
        assert_eq!(
            sanitize("\u{1b}[2J\u{1b}[Hconnected\nINFO fake\r\u{7}\t", 100),
            "\\u{1b}[2J\\u{1b}[Hconnected\\nINFO fake\\r\\u{7}\\t"
        );
        assert_eq!(sanitize("grüße, 数据 ✓", 100), "grüße, 数据 ✓");
        assert_eq!(
            sanitize("a\u{9b}2Jb\u{7f}c\u{0}", 100),
            "a\\u{9b}2Jb\\u{7f}c\\u{0}"
        );
        assert_eq!(
            sanitize("x\u{202e}evil\u{2028}y", 100),
            "x\\u{202e}evil\\u{2028}y"
        );
        assert_eq!(sanitize("", 10), "");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_what_was_left_out() {
        let text = "é".repeat(10); // 20 bytes
        assert_eq!(sanitize(&text, 5), "éé... (16 more bytes)");
        assert_eq!(sanitize("abc", 3), "abc");
        assert_eq!(sanitize("abcd", 0), "... (4 more bytes)");
        // An escape is never split.
        assert_eq!(sanitize("ab\u{1b}", 4), "ab... (1 more bytes)");
        let huge = "E".repeat(40 << 20);
        let shown = sanitize(&huge, MESSAGE_CAP);
        assert!(shown.len() < MESSAGE_CAP + 40, "{}", shown.len());
        assert!(shown.ends_with(&format!("... ({} more bytes)", (40 << 20) - MESSAGE_CAP)));
    }

    #[test]
    fn the_output_has_no_raw_control_characters() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let shown = sanitize(&all, usize::MAX);
        assert!(!has_control(&shown), "{shown:?}");
        assert!(has_control(&all));
        assert!(!has_control("vpc-123 cn-hangzhou-h"));
    }
}
