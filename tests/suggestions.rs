//! Every flag the tool suggests in its words (remedies, predictions,
//! explanations) must exist, and every value given with it (`--idle 182s`)
//! must parse: a hint the CLI then rejects is worse than none. A flag
//! followed by prose ("raise --connect-timeout to …") or by a placeholder
//! (`--exchange EXCHANGE`) is a mention, checked for existence only; a value
//! is what starts with a digit, as every number and duration does.

use amqpdoctor::classify::attribute::RunFacts;
use amqpdoctor::classify::end::{End, EndKind, SeenBy};
use amqpdoctor::classify::{narrate, verdict};
use amqpdoctor::cli::Cli;
use amqpdoctor::knowledge::Broker;
use amqpdoctor::timeline::Timeline;
use amqpdoctor::vocab::format::Format;
use amqpdoctor::vocab::{Heartbeat, Mode, PeerAnswer, Pumper, Stage, VerdictCode};
use clap::{CommandFactory, Parser};
use strum::VariantArray;

/// `--flag value` pairs in `text` (the value when the flag takes one).
/// `strict`: every `--flag` must be ours (the knowledge base also quotes
/// other programs' flags, such as uWSGI's `--enable-threads`, so it is not
/// strict; our own verdict words are).
fn suggested_flags(text: &str, strict: bool) -> Vec<(String, Option<String>)> {
    let cmd = Cli::command();
    let takes_value = |flag: &str| {
        cmd.get_subcommands()
            .flat_map(|s| s.get_arguments())
            .find(|a| {
                a.get_long() == Some(flag)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&flag))
            })
            .map(|a| a.get_action().takes_values())
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_start_matches(['`', '(', '"']);
        let Some(flag) = w.strip_prefix("--") else {
            continue;
        };
        let flag: String = flag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if flag.is_empty() {
            continue;
        }
        let value = match takes_value(&flag) {
            Some(true) => words
                .get(i + 1)
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                .map(|v| {
                    v.trim_end_matches(['.', ',', ';', ')', '`', '"', ':'])
                        .to_string()
                }),
            Some(false) => None,
            None if strict => panic!("suggests --{flag}, which no command has, in: {text}"),
            None => continue,
        };
        out.push((flag, value));
    }
    out
}

fn assert_parses(text: &str) -> usize {
    check(text, true)
}

fn check(text: &str, strict: bool) -> usize {
    let pairs = suggested_flags(text, strict);
    for (flag, value) in &pairs {
        // A mention without a value: its existence was checked.
        let Some(value) = value else { continue };
        let value = Some(value.clone());
        let ok = ["probe", "heartbeat", "explain"].iter().any(|sub| {
            let mut argv = vec![
                "amqpdoctor".to_string(),
                sub.to_string(),
                format!("--{flag}"),
            ];
            argv.extend(value.clone());
            if *sub == "explain" {
                argv.push("104".into());
            }
            Cli::try_parse_from(&argv).is_ok()
        });
        assert!(
            ok,
            "suggested `--{flag} {}` does not parse; in: {text}",
            value.clone().unwrap_or_default()
        );
    }
    pairs.len()
}

#[test]
fn verdict_words_suggest_only_what_parses() {
    let tl = Timeline::new(false);
    let mut checked = 0;
    // Each broker's sentences differ (RabbitMQ's rules are named, another
    // broker's are not): every one must suggest only what parses.
    let brokers =
        ["RabbitMQ", "garagemq", "Apache Qpid"].map(|p| Broker::from_server(Some(p), None));
    for &mode in Mode::VARIANTS {
        for t in [0u16, 1, 2, 7, 60, 65535] {
            for idle_ms in [0u64, 1500, 3000, 5000, 8000, 90_000, 182_000] {
                let pumps = [None, Some(1000u64), Some(1500)]
                    .into_iter()
                    .flat_map(|p| [Pumper::Application, Pumper::Library].map(move |w| (p, w)));
                for (pump, pumper) in pumps {
                    checked += assert_parses(&narrate::prediction_text(
                        mode,
                        Heartbeat::from_secs(t),
                        idle_ms,
                        pump,
                    ));
                    for kind in [
                        EndKind::Alive,
                        EndKind::Reset,
                        EndKind::Fin,
                        EndKind::Silence,
                    ] {
                        let mut end = End::new(kind, idle_ms, SeenBy::Observer);
                        end.since_last_client_byte_ms = Some(idle_ms);
                        end.since_last_server_byte_ms = Some(idle_ms);
                        for broker in &brokers {
                            let v = verdict(&RunFacts {
                                mode,
                                server_heartbeat: Some(Heartbeat::from_secs(60)),
                                requested_heartbeat_s: Some(t),
                                heartbeat: Heartbeat::from_secs(t),
                                idle_ms,
                                pump_every_ms: pump,
                                pumper,
                                confirm_timeout_ms: 5000,
                                timeline: &tl,
                                end: &end,
                                publishes: &[],
                                interrupted: false,
                                broker,
                            });
                            for text in [&v.summary, &v.explanation, &v.remedy, &v.prediction_text]
                            {
                                checked += assert_parses(text);
                            }
                        }
                    }
                }
            }
        }
    }
    for &code in VerdictCode::VARIANTS {
        let answers = std::iter::once(None).chain(PeerAnswer::VARIANTS.iter().copied().map(Some));
        for (stage, peer_answered) in [Stage::Connect, Stage::Handshake, Stage::Channel]
            .into_iter()
            .flat_map(|s| answers.clone().map(move |a| (s, a)))
        {
            let w = narrate::setup_words(&amqpdoctor::classify::SetupFailure {
                code,
                stage,
                message: "x".into(),
                errno: None,
                close: None,
                offered_mechanisms: None,
                peer_answered,
            });
            checked += assert_parses(&w.remedy) + assert_parses(&w.explanation);
        }
    }
    assert!(
        checked > 100,
        "only {checked} suggestions seen: is the scanner blind?"
    );
}

#[test]
fn explain_topics_suggest_only_what_parses() {
    let mut checked = 0;
    for topic in amqpdoctor::knowledge::topic_names() {
        let out = amqpdoctor::commands::explain::render(&topic, Format::Human, false)
            .unwrap_or_else(|e| panic!("{topic}: {e}"));
        checked += check(&out, false);
    }
    assert!(checked > 10, "only {checked} suggestions seen in explain");
}

#[test]
fn the_scanner_catches_a_bad_hint() {
    let pairs = suggested_flags(
        "use --idle 182 s or more, or `--pump-every 1s`; raise --connect-timeout to",
        true,
    );
    assert_eq!(
        pairs,
        [
            ("idle".to_string(), Some("182".to_string())),
            ("pump-every".to_string(), Some("1s".to_string())),
            ("connect-timeout".to_string(), None),
        ]
    );
    assert!(Cli::try_parse_from(["amqpdoctor", "probe", "--idle", "182"]).is_err());
    let _ = Cli::try_parse_from(["amqpdoctor", "probe", "--idle", "182s"]).unwrap();
}
