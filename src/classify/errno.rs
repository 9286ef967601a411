//! What an errno means for a broker connection.

use std::io;

use nix::errno::Errno;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrnoClass {
    /// ECONNRESET: the peer (or a middlebox) sent RST.
    Reset,
    /// EPIPE / ENOTCONN: writing to a connection already shut down.
    BrokenPipe,
    /// ETIMEDOUT: retransmissions or keepalive probes went unanswered.
    TimedOut,
    /// ECONNREFUSED: nothing listens there.
    Refused,
    /// EHOSTUNREACH / ENETUNREACH: no route.
    Unreachable,
    /// ECONNABORTED: the local stack aborted the connection.
    Aborted,
    /// A read returned 0: orderly close (FIN).
    Eof,
    Other,
}

impl ErrnoClass {
    pub fn from_errno(errno: Errno) -> Self {
        match errno {
            Errno::ECONNRESET => ErrnoClass::Reset,
            Errno::EPIPE | Errno::ENOTCONN => ErrnoClass::BrokenPipe,
            Errno::ETIMEDOUT => ErrnoClass::TimedOut,
            Errno::ECONNREFUSED => ErrnoClass::Refused,
            Errno::EHOSTUNREACH | Errno::ENETUNREACH | Errno::EHOSTDOWN => ErrnoClass::Unreachable,
            Errno::ECONNABORTED => ErrnoClass::Aborted,
            _ => ErrnoClass::Other,
        }
    }

    /// The class of a raw errno, `Other` when there is none.
    pub fn from_raw(errno: Option<i32>) -> Self {
        errno.map_or(ErrnoClass::Other, |n| {
            ErrnoClass::from_errno(Errno::from_raw(n))
        })
    }
}

impl From<&io::Error> for ErrnoClass {
    fn from(err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(n) => ErrnoClass::from_errno(Errno::from_raw(n)),
            None if err.kind() == io::ErrorKind::UnexpectedEof => ErrnoClass::Eof,
            None => ErrnoClass::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_classes() {
        let rows = [
            (Errno::ECONNRESET, ErrnoClass::Reset),
            (Errno::EPIPE, ErrnoClass::BrokenPipe),
            (Errno::ENOTCONN, ErrnoClass::BrokenPipe),
            (Errno::ETIMEDOUT, ErrnoClass::TimedOut),
            (Errno::ECONNREFUSED, ErrnoClass::Refused),
            (Errno::EHOSTUNREACH, ErrnoClass::Unreachable),
            (Errno::ENETUNREACH, ErrnoClass::Unreachable),
            (Errno::ECONNABORTED, ErrnoClass::Aborted),
            (Errno::EINVAL, ErrnoClass::Other),
        ];
        for (errno, class) in rows {
            assert_eq!(ErrnoClass::from_errno(errno), class, "{errno:?}");
            let io = io::Error::from_raw_os_error(errno as i32);
            assert_eq!(ErrnoClass::from(&io), class);
            assert_eq!(ErrnoClass::from_raw(Some(errno as i32)), class);
        }
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(ErrnoClass::from(&eof), ErrnoClass::Eof);
        assert_eq!(ErrnoClass::from_raw(None), ErrnoClass::Other);
    }
}
