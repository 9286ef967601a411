//! The house style of human output: one colour rule, one painter
//! (anstyle), one wrapper (textwrap), one table (comfy-table).
//!
//! Colour only when it helps (hyperfine's rule): `--color auto` colours when
//! stdout is a terminal, `NO_COLOR` is unset or empty, and `TERM` is not
//! `dumb`.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Effects};
use comfy_table::{presets, ContentArrangement, Table};

/// Human output is laid out for this many columns.
pub const WIDTH: usize = 100;

/// `--color`: when to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Decide once whether to colour.
pub fn use_color(choice: ColorChoice) -> bool {
    let env = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    color_rule(
        choice,
        std::io::stdout().is_terminal(),
        env("NO_COLOR").as_deref(),
        env("TERM").as_deref(),
    )
}

/// The rule itself, pure, for the table test.
pub fn color_rule(
    choice: ColorChoice,
    stdout_is_tty: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_is_tty && no_color.is_none_or(str::is_empty) && term != Some("dumb")
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    fn paint(self, style: anstyle::Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
    pub fn bold(self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::BOLD), s)
    }
    pub fn heading(self, s: &str) -> String {
        self.paint(
            anstyle::Style::new().effects(Effects::BOLD | Effects::UNDERLINE),
            s,
        )
    }
    pub fn good(self, s: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), s)
    }
    pub fn bad(self, s: &str) -> String {
        self.paint(AnsiColor::Red.on_default().effects(Effects::BOLD), s)
    }
    pub fn dim(self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::DIMMED), s)
    }
}

/// Text from outside (a server's product or reply text, a user's vhost) made
/// safe for a terminal: control characters (C0, DEL, C1: ESC, BEL, NUL, CR,
/// …) and bidirectional overrides are shown escaped (`\x1b`, `\u{202e}`)
/// instead of acting on the terminal. JSON output escapes them itself.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if (c as u32) < 0x80 && unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Wrap `text` at `width` columns (display width), the first line prefixed
/// with `first`, the others with `rest`; one `\n` after each line.
pub fn wrap_with(text: &str, width: usize, first: &str, rest: &str) -> String {
    let opts = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    // Words are separated by any run of white space in the source text;
    // what remains of control characters is shown, not obeyed.
    let flat = clean(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
    if flat.is_empty() {
        return String::new();
    }
    textwrap::wrap(&glue_units(&flat), opts)
        .iter()
        .map(|l| format!("{}\n", l.replace(NBSP, " ")))
        .collect()
}

const NBSP: char = '\u{a0}';

/// Join a number to its unit (`5.996 s`, `350 ms`) with a no-break space
/// for the wrapper, so a line never ends in a bare number.
fn glue_units(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let unit_at = |i: usize| {
        ["ms", "s"].into_iter().any(|u| {
            let end = i + u.chars().count();
            chars
                .get(i..end)
                .is_some_and(|c| c.iter().copied().eq(u.chars()))
                && chars.get(end).is_none_or(|c| !c.is_alphanumeric())
        })
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let glued = c == ' ' && i > 0 && chars[i - 1].is_ascii_digit() && unit_at(i + 1);
            if glued {
                NBSP
            } else {
                c
            }
        })
        .collect()
}

/// Wrap `text` at `width` columns, every line prefixed with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    wrap_with(text, width, indent, indent)
}

/// A table in our house style.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH as u16)
        .set_header(header.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// A table whose cells never wrap (verdict codes are what users grep for).
pub fn table_unwrapped(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// Prefix every line of `s` with `by`.
pub fn indent(s: &str, by: &str) -> String {
    s.lines().map(|l| format!("{by}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_with_indent() {
        assert_eq!(wrap("aaa bbb ccc ddd", 10, "  "), "  aaa bbb\n  ccc ddd\n");
        assert_eq!(wrap("", 10, "  "), "");
        assert_eq!(
            wrap_with("aaa bbb ccc", 8, "- ", "  "),
            "- aaa\n  bbb\n  ccc\n"
        );
        // Display width, not bytes: "é" is one column, two bytes.
        assert_eq!(wrap("éé éé éé", 5, ""), "éé éé\néé\n");
        // Never splits a word, however long.
        assert_eq!(wrap("--idle 182s", 4, ""), "--idle\n182s\n");
        // Nor a number from its unit.
        assert_eq!(wrap("after 5.996 s of", 10, ""), "after\n5.996 s of\n");
        assert_eq!(wrap("a 350 ms b 2 sx", 8, ""), "a 350 ms\nb 2 sx\n");
    }

    #[test]
    fn outside_text_cannot_drive_the_terminal() {
        let rows = [
            ("RabbitMQ", "RabbitMQ"),
            ("\x1b[2Jgone", "\\x1b[2Jgone"),
            ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
            ("a\0b", "a\\x00b"),
            ("line\rover", "line\\x0dover"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("abc\u{202e}fed", "abc\\u{202e}fed"),
            ("héllo ✓", "héllo ✓"),
        ];
        for (input, want) in rows {
            assert_eq!(clean(input), want, "{input:?}");
        }
        assert!(!wrap("x \x1b[31m y\x07", 80, "").contains(['\x1b', '\x07']));
    }

    #[test]
    fn colour_rule_is_hyperfines() {
        use ColorChoice::*;
        // (choice, tty, NO_COLOR, TERM, colour?)
        let rows = [
            (Always, false, Some("1"), Some("dumb"), true),
            (Never, true, None, None, false),
            (Auto, true, None, Some("xterm"), true),
            (Auto, false, None, Some("xterm"), false),
            (Auto, true, Some("1"), None, false),
            (Auto, true, Some(""), None, true),
            (Auto, true, None, Some("dumb"), false),
        ];
        for (choice, tty, no_color, term, want) in rows {
            assert_eq!(
                color_rule(choice, tty, no_color, term),
                want,
                "{choice:?} tty={tty} NO_COLOR={no_color:?} TERM={term:?}"
            );
        }
    }

    #[test]
    fn no_escape_codes_without_colour() {
        assert_eq!(Style::PLAIN.bad("x"), "x");
        let s = Style { color: true };
        assert_eq!(s.good("x"), "\x1b[32mx\x1b[0m");
    }
}
