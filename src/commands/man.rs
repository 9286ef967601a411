//! `amqpdoctor man`: the man page (roff) on stdout.
//!
//! Rendered from the clap command, so it cannot drift from the real flags;
//! `docs/amqpdoctor.1` is checked against [`man_page`] by
//! `tests/generated.rs`. The renderer is pure (`-> Vec<u8>`).
//!
//! The man page is one file, `amqpdoctor(1)`, rather than clap_mangen's
//! default of one page per subcommand: the top-level page is followed by a
//! COMMANDS section with a subsection per subcommand (synopsis, description,
//! options). That keeps a single file to install and no dangling
//! `amqpdoctor-probe(1)` references.

use std::io::{self, Write};

use clap::{Command, CommandFactory};
use clap_mangen::roff::{roman, Roff};
use clap_mangen::Man;

use crate::cli::Cli;
use crate::error::ExitStatus;

pub fn run() -> anyhow::Result<ExitStatus> {
    crate::report::emit(man_page())?;
    Ok(ExitStatus::Ok)
}

/// The man page (roff), as `amqpdoctor man` prints it.
pub fn man_page() -> Vec<u8> {
    let mut cmd = Cli::command();
    // Building sets each subcommand's bin name to "amqpdoctor <sub>", which
    // their synopses use.
    cmd.build();
    let man = Man::new(cmd.clone());

    let mut out = Vec::new();
    let w: &mut dyn Write = &mut out;
    // The title keeps the roff preamble; every later piece drops its copy.
    render(w, |w| man.render_title(w), Keep::Preamble);
    render(w, |w| man.render_name_section(w), Keep::Heading);
    render(w, |w| man.render_synopsis_section(w), Keep::Heading);
    render(w, |w| man.render_description_section(w), Keep::Heading);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        render(w, |w| man.render_options_section(w), Keep::Heading);
    }

    roff_control(w, "SH", &["COMMANDS"]);
    for sub in subcommands(&cmd) {
        render_subcommand(w, sub);
    }

    if cmd.get_after_help().is_some() || cmd.get_after_long_help().is_some() {
        // clap_mangen titles the after-help "EXTRA"; ours is the exit-code
        // table, which man pages conventionally call EXIT STATUS.
        roff_control(w, "SH", &["EXIT STATUS"]);
        render(w, |w| man.render_extra_section(w), Keep::Body);
    }
    render(w, |w| man.render_version_section(w), Keep::Heading);
    out
}

/// Visible subcommands in declaration order, without clap's `help`.
fn subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// One `.SS "amqpdoctor <sub>"` subsection: synopsis, description, options.
fn render_subcommand(w: &mut dyn Write, sub: &Command) {
    let man = Man::new(sub.clone());
    let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
    roff_control(w, "SS", &[name]);
    // The synopsis line already starts with the bold command name.
    render(w, |w| man.render_synopsis_section(w), Keep::Body);
    roff_control(w, "PP", &[]);
    render(w, |w| man.render_description_section(w), Keep::Body);
    if sub.get_arguments().any(|a| !a.is_hide_set()) {
        roff_control(w, "PP", &[]);
        let mut roff = Roff::new();
        roff.text([roman("Options:")]);
        w.write_all(strip_preamble(&roff.render()).as_bytes())
            .expect("write to Vec");
        render(w, |w| man.render_options_section(w), Keep::Body);
    }
}

/// How much of a clap_mangen rendering to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Everything: only for the first piece of the page.
    Preamble,
    /// The `.SH` heading and the body.
    Heading,
    /// The body only, to nest it under a heading of ours.
    Body,
}

/// Render one piece with clap_mangen and append what `keep` says to `w`.
fn render(w: &mut dyn Write, piece: impl FnOnce(&mut dyn Write) -> io::Result<()>, keep: Keep) {
    let mut buf = Vec::new();
    // Writes into a Vec cannot fail; the io::Result is clap_mangen's signature.
    piece(&mut buf).expect("write to Vec");
    let text = String::from_utf8(buf).expect("roff output is UTF-8 for UTF-8 input");
    let kept = match keep {
        Keep::Preamble => &text,
        Keep::Heading => strip_preamble(&text),
        Keep::Body => strip_heading(strip_preamble(&text)),
    };
    w.write_all(kept.as_bytes()).expect("write to Vec");
}

/// A section without its leading `.SH` heading line. Only control lines can
/// start with ".SH": roff escapes text lines that begin with a dot.
fn strip_heading(text: &str) -> &str {
    match text.strip_prefix(".SH") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, after)| after),
        None => text,
    }
}

/// Every `Roff` render starts with the same two-line apostrophe preamble;
/// the page needs it once (from the title), not once per section.
fn strip_preamble(text: &str) -> &str {
    let mut rest = text;
    while let Some(line_end) = rest.find('\n') {
        let line = &rest[..line_end];
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            rest = &rest[line_end + 1..];
        } else {
            break;
        }
    }
    rest
}

/// A control line, quoted and escaped by roff.
fn roff_control(w: &mut dyn Write, name: &str, args: &[&str]) {
    let mut roff = Roff::new();
    roff.control(name, args.iter().copied());
    w.write_all(strip_preamble(&roff.render()).as_bytes())
        .expect("write to Vec");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_page_is_one_page_with_every_subcommand() {
        let page = String::from_utf8(man_page()).unwrap();
        assert_eq!(page.matches(".TH ").count(), 1, "one title");
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble (.ie/.el)");
        for sub in ["probe", "heartbeat", "explain", "completions", "man"] {
            assert!(
                page.contains(&format!(".SS \"amqpdoctor {sub}\"")),
                "{sub} subsection missing"
            );
        }
        assert!(page.contains("\\-\\-pump\\-every"), "probe's options");
        assert!(
            !page.contains("amqpdoctor\\-probe(1)"),
            "no dangling references"
        );
        assert!(page.contains(".SH \"EXIT STATUS\""));
    }

    #[test]
    fn man_page_is_deterministic() {
        assert_eq!(man_page(), man_page());
    }

    #[test]
    fn render_keeps_what_it_is_told() {
        let piece = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH OPTIONS\n.TP\nx\n";
        let rows = [
            (Keep::Preamble, piece),
            (Keep::Heading, ".SH OPTIONS\n.TP\nx\n"),
            (Keep::Body, ".TP\nx\n"),
        ];
        for (keep, want) in rows {
            let mut out = Vec::new();
            render(&mut out, |w| w.write_all(piece.as_bytes()), keep);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{keep:?}");
        }
    }
}
