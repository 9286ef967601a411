//! What a peer that does not speak AMQP 0-9-1 answered our protocol header
//! with: the one typed cause the wire client and lapin's error mapping share.

use serde::Serialize;

/// The kind of answer, read off its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PeerAnswer {
    /// An AMQP 1.0 protocol header (`AMQP` then protocol id 0, 2 for TLS or
    /// 3 for SASL, then 1 0 0): a broker or listener that speaks only 1.0.
    Amqp10,
    /// Another AMQP protocol header (0-8, 0-9): the server names the
    /// version it speaks.
    OtherAmqp,
    /// An HTTP response: a web server, or a broker's management port.
    Http,
    /// A TLS record (a handshake or an alert).
    Tls,
    /// Bytes that are none of these.
    Unrecognised,
}

impl PeerAnswer {
    /// Classify the first bytes a peer sent.
    pub fn of(bytes: &[u8]) -> PeerAnswer {
        match bytes {
            [b'A', b'M', b'Q', b'P', 0 | 2 | 3, 1, 0, 0, ..] => PeerAnswer::Amqp10,
            [b'A', b'M', b'Q', b'P', _, _, _, _, ..] => PeerAnswer::OtherAmqp,
            [b'H', b'T', b'T', b'P', b'/', ..] => PeerAnswer::Http,
            [0x15 | 0x16, 0x03, 0x00..=0x04, ..] => PeerAnswer::Tls,
            _ => PeerAnswer::Unrecognised,
        }
    }

    /// Classify a protocol header the peer answered with, already parsed
    /// into its version (AMQP 0-9-1 parsers read `AMQP 0 major minor rev`).
    pub fn of_header(major: u8, minor: u8, revision: u8) -> PeerAnswer {
        if (major, minor, revision) == (1, 0, 0) {
            PeerAnswer::Amqp10
        } else {
            PeerAnswer::OtherAmqp
        }
    }

    /// The answer, in words: "the server answered with …".
    pub fn words(self) -> &'static str {
        match self {
            PeerAnswer::Amqp10 => "an AMQP 1.0 protocol header",
            PeerAnswer::OtherAmqp => "the protocol header of another AMQP version",
            PeerAnswer::Http => "an HTTP response",
            PeerAnswer::Tls => "a TLS record",
            PeerAnswer::Unrecognised => "bytes that are not AMQP",
        }
    }

    /// What to do about it, in words.
    pub fn advice(self) -> &'static str {
        match self {
            PeerAnswer::Amqp10 => {
                "This listener speaks AMQP 1.0 only (ActiveMQ Artemis, Azure Service Bus, Qpid, \
                 Solace; RabbitMQ speaks 1.0 on the same 5672 beside 0-9-1): use a 0-9-1 \
                 listener, or an AMQP 1.0 client."
            }
            PeerAnswer::OtherAmqp => {
                "The server speaks another AMQP version (its header names it): point \
                 amqpdoctor at an AMQP 0-9-1 broker."
            }
            PeerAnswer::Http => {
                "That is an HTTP server: RabbitMQ's management UI and API listen on 15672 and \
                 AMQP on 5672; check the port, and any HTTP load balancer in front of the broker."
            }
            PeerAnswer::Tls => "The port speaks TLS: use amqps:// (RabbitMQ's TLS port is 5671).",
            PeerAnswer::Unrecognised => {
                "Point amqpdoctor at the broker's AMQP 0-9-1 listener (5672), not at the \
                 management UI (15672), an AMQP 1.0 or TLS port."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PeerAnswer::{self, *};

    #[test]
    fn answers_are_read_off_their_first_bytes() {
        let rows: &[(&[u8], PeerAnswer)] = &[
            (b"AMQP\x00\x01\x00\x00", Amqp10),
            (b"AMQP\x03\x01\x00\x00", Amqp10),
            (b"AMQP\x02\x01\x00\x00", Amqp10),
            (b"AMQP\x01\x01\x00\x08", OtherAmqp),
            (b"AMQP\x00\x00\x09\x01", OtherAmqp),
            (b"AMQP", Unrecognised),
            (b"HTTP/1.1 400 Bad Request\r\n", Http),
            (b"HTTP/1.0 200 OK\r\n", Http),
            (&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46], Tls),
            (&[0x16, 0x03, 0x01, 0x00, 0x2a], Tls),
            (&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 0xff], Unrecognised),
            (b"", Unrecognised),
            (b"SSH-2.0-OpenSSH_9.2\r\n", Unrecognised),
        ];
        for (bytes, want) in rows {
            assert_eq!(PeerAnswer::of(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn parsed_headers() {
        assert_eq!(PeerAnswer::of_header(1, 0, 0), Amqp10);
        assert_eq!(PeerAnswer::of_header(0, 8, 0), OtherAmqp);
        assert_eq!(PeerAnswer::of_header(0, 9, 1), OtherAmqp);
    }
}
