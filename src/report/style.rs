//! Colour and text layout helpers for human output.
//!
//! Colour only when it helps (hyperfine's rule): `--color auto` colours when
//! stdout is a terminal, NO_COLOR is unset and TERM is not `dumb`.

use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// Decide once whether to colour.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn bad(&self, s: &str) -> String {
        self.paint("31;1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Wrap `text` at `width` columns, every line prefixed with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.chars().count() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_with_indent() {
        let w = wrap("aaa bbb ccc ddd", 10, "  ");
        assert_eq!(w, "  aaa bbb\n  ccc ddd\n");
        assert_eq!(wrap("", 10, "  "), "");
    }

    #[test]
    fn no_escape_codes_without_colour() {
        let s = Style { color: false };
        assert_eq!(s.bad("x"), "x");
        let s = Style { color: true };
        assert_eq!(s.good("x"), "\x1b[32mx\x1b[0m");
    }
}
