//! The one redactor for every text amqpdoctor echoes: target URLs, URL
//! errors and warnings, `scan`'s command lines, `explain`'s pasted input,
//! error messages.
//!
//! Three shapes carry a password, and each is hidden wherever it appears:
//!
//! 1. URL user info, `scheme:[//]user:PASSWORD@host`. RabbitMQ's URI spec
//!    (rabbitmq/rabbitmq-website, site/uri-spec.md, "The amqp URI scheme")
//!    allows no unencoded `/ ? # @` in the user info, so a password holding
//!    one of them is a mistake that must still not be echoed: the password
//!    runs to the *last* `@` of the text (over-hiding is the safe side),
//!    and without any `@` to the end of the word unless that word is a port.
//! 2. Scheme-less `user:PASSWORD@host` (a pasted connection string).
//! 3. A value after a password-like key: `password=V`, `PASSWORD: V`,
//!    `{"password":"V"}`, `?password=V` in a query, `--pw V`.
//!
//! Over-hiding is accepted; showing a secret is not.

/// The marker that replaces a secret.
const HIDDEN: &str = "***";

/// Whether `word` names a secret (case-insensitive, dashes ignored):
/// anything holding `password`, `passwd` or `secret`, or ending in `pass`,
/// `pwd`, `pw`, `token` or `credentials`.
pub fn is_secret_key(word: &str) -> bool {
    let w = word.trim_start_matches('-').to_ascii_lowercase();
    ["password", "passwd", "secret"]
        .iter()
        .any(|k| w.contains(k))
        || ["pass", "pwd", "pw", "token", "credentials", "credential"]
            .iter()
            .any(|k| w.ends_with(k))
}

/// Redact the password of URL-like text, parsed or not (a URL argument, a
/// `--management` URL, a line of a targets file): the user info, and any
/// password-like query value.
pub fn redact_url_text(raw: &str) -> String {
    redact_keys(&redact_userinfo_word(&redact_url_userinfo(raw)))
}

/// Redact free text (a pasted log line, an error message): every shape in
/// the module's list, line by line.
pub fn redact_text(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let urls = redact_url_userinfo(line);
            let words: Vec<String> = urls
                .split_inclusive(char::is_whitespace)
                .map(redact_userinfo_word)
                .collect();
            redact_keys(&words.concat())
        })
        .collect()
}

/// A URL (or what was given as one) for an error message: redacted,
/// control characters escaped, and at most 200 characters.
pub fn url_for_message(raw: &str) -> String {
    const MAX: usize = 200;
    let red = redact_url_text(raw);
    let mut out = String::new();
    for (i, c) in red.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A process's command line for display, with secrets hidden: everything
/// [`redact_text`] hides in each argument (an argument is one word, spaces
/// and all), the argument after a password-like flag (`--password X`,
/// `--pw X`, `-p X`), glued short forms (`-pX`, `-p=X`), `KEY=VALUE` with a
/// password-like key, and the password of `-u user:pw`.
pub fn redact_command_line(args: &[String]) -> String {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    let mut user_next = false;
    for a in args {
        if hide_next {
            out.push(HIDDEN.to_string());
            hide_next = false;
            continue;
        }
        if user_next {
            user_next = false;
            if let Some((user, _)) = a.split_once(':') {
                out.push(format!("{user}:{HIDDEN}"));
                continue;
            }
        }
        if a.len() > 2 && a.starts_with("-p") {
            // -pSECRET, -p=SECRET (mysql, rabbitmqadmin style)
            out.push(format!("-p{HIDDEN}"));
            continue;
        }
        if let Some((name, _)) = a.split_once('=') {
            // A key is a plain word (`--password`, `AMQP_PASS`): `amqp://u:xPW=@h`
            // holds an `=` inside a URL's password, not after a key.
            let plain = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if plain && is_secret_key(name) {
                out.push(format!("{name}={HIDDEN}"));
                continue;
            }
        }
        if a == "-p" || (a.starts_with('-') && is_secret_key(a)) {
            hide_next = true;
        }
        if matches!(a.as_str(), "-u" | "--user" | "--username" | "-U") {
            user_next = true;
        }
        out.push(redact_keys(&redact_userinfo_word(&redact_url_userinfo(a))));
    }
    out.join(" ")
}

/// Where each URL's body starts in `text`: after `scheme:` and its
/// slashes. A scheme is `amqp`/`amqps` (slashes optional: `amqp:u:p@h`
/// still carries a password) or any scheme-like word followed by `/`.
fn url_bodies(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    for (i, _) in text.match_indices(':') {
        let scheme_start = scheme_start(text, i);
        let scheme = &text[scheme_start..i];
        // A scheme starts a word: `localhost:/` or `pw:/` inside a URL's
        // user info starts none.
        let starts_word = text[..scheme_start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "\"'<([{=,;".contains(c));
        if !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) || !starts_word {
            continue;
        }
        let slashes = text[i + 1..].len() - text[i + 1..].trim_start_matches('/').len();
        let amqp = scheme.eq_ignore_ascii_case("amqp") || scheme.eq_ignore_ascii_case("amqps");
        if slashes > 0 || amqp {
            starts.push(i + 1 + slashes);
        }
    }
    starts
}

/// Where the scheme-like word ending at byte `end` begins.
fn scheme_start(text: &str, end: usize) -> usize {
    text[..end]
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .map_or(0, |(p, c)| p + c.len_utf8())
}

/// Rule 1: the user info of every URL in `text`.
fn redact_url_userinfo(text: &str) -> String {
    let starts = url_bodies(text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (n, &start) in starts.iter().enumerate() {
        if start < copied {
            continue; // inside a part already hidden
        }
        let limit = starts
            .get(n + 1)
            .map_or(text.len(), |&next| scheme_start_before(text, next));
        let body = &text[start..limit.max(start)];
        let user_end = body
            .find(|c: char| c.is_whitespace() || matches!(c, ':' | '@' | '/' | '?' | '#'))
            .unwrap_or(body.len());
        if !body[user_end..].starts_with(':') {
            continue;
        }
        let pw_start = start + user_end + 1;
        let after = &text[pw_start..limit.max(pw_start)];
        let pw_end = match after.rfind('@') {
            Some(at) => pw_start + at,
            None => {
                let word = after
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | '<'))
                    .unwrap_or(after.len());
                if is_port_then_path(&after[..word]) {
                    continue;
                }
                pw_start + word
            }
        };
        out.push_str(&text[copied..pw_start]);
        out.push_str(HIDDEN);
        copied = pw_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the scheme of the URL whose body starts at `body` begins.
fn scheme_start_before(text: &str, body: usize) -> usize {
    let colon = text[..body].trim_end_matches('/').len() - 1;
    scheme_start(text, colon)
}

/// `5672`, `5672/vhost`, `5672?x=1`, or nothing: what may follow a host's
/// `:` when no `@` follows.
fn is_port_then_path(s: &str) -> bool {
    let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    s[digits..].is_empty() || s[digits..].starts_with(['/', '?', '#'])
}

/// Rule 2: a scheme-less `user:password@host` word (the whole of `word`;
/// surrounding quotes and brackets are kept).
fn redact_userinfo_word(word: &str) -> String {
    let Some(at) = word.rfind('@') else {
        return word.to_string();
    };
    let Some(colon) = word[..at].find(':') else {
        return word.to_string();
    };
    // A URL's own scheme colon is no user info (rule 1 has seen it); a
    // scheme-like `a:/` inside the password (`u:Zq9<a:/@h`) is no URL.
    let is_scheme_colon = url_bodies(word)
        .iter()
        .any(|&body| word[..body].trim_end_matches('/').len() - 1 == colon);
    if word[colon + 1..at] == *HIDDEN || word[..colon].contains('/') || is_scheme_colon {
        return word.to_string();
    }
    format!("{}{HIDDEN}{}", &word[..=colon], &word[at..])
}

/// Rule 3: the value after every password-like key in `text`.
fn redact_keys(text: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(first) = rest.chars().next() else {
            break;
        };
        if !is_word(first) || text[..i].ends_with(is_word) {
            i += first.len_utf8();
            continue;
        }
        let key_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let key = &rest[..key_len];
        let flag = text[..i].ends_with('-');
        if let Some((vs, ve)) = is_secret_key(key)
            .then(|| value_span(&rest[key_len..], flag))
            .flatten()
        {
            let (vs, ve) = (i + key_len + vs, i + key_len + ve);
            if &text[vs..ve] != HIDDEN {
                out.push_str(&text[copied..vs]);
                out.push_str(HIDDEN);
                copied = ve;
            }
            i = ve.max(i + key_len);
        } else {
            i += key_len;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The value after a key: `="V"`, `: V`, `":"V"`, or (after a flag) ` V`.
/// Offsets into `after`; None when no value follows.
fn value_span(after: &str, flag: bool) -> Option<(usize, usize)> {
    let sep_start = after.len() - after.trim_start_matches(['"', '\'']).len();
    let s = &after[sep_start..];
    let trimmed = s.trim_start_matches([' ', '\t']);
    let mut pos = sep_start + (s.len() - trimmed.len());
    match trimmed.chars().next() {
        Some('=' | ':') => pos += 1,
        Some(_) if flag && pos > sep_start => {}
        _ => return None,
    }
    let v = &after[pos..];
    let v_trim = v.trim_start_matches([' ', '\t']);
    pos += v.len() - v_trim.len();
    match v_trim.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let inner = &v_trim[1..];
            let end = inner.find(q).unwrap_or(inner.len());
            Some((pos + 1, pos + 1 + end))
        }
        Some(_) => {
            let end = v_trim
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, ',' | ';' | '&' | '}' | '"' | '\'')
                })
                .unwrap_or(v_trim.len());
            (end > 0).then_some((pos, pos + end))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests;
