//! Small input files (PEM files, password files, targets files, scan JSON)
//! read so that no file can hang or flood the tool: a directory, a device
//! or a socket is refused by its type, a regular file larger than the cap
//! by its size, unread; a FIFO (`<(…)`, a named pipe nobody writes to) is
//! opened without waiting for a writer and read for at most [`FIFO_WAIT`]
//! (or up to its first line, when that is all that is wanted: a password
//! from `<(echo pw; sleep 30)` is read at once). Errors are words about the
//! file, never its content.

use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a FIFO may take to be written (and closed, or given its line).
pub const FIFO_WAIT: Duration = Duration::from_secs(1);

/// How much of the file is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// All of it, at most this many bytes.
    Whole(u64),
    /// Its first line (what comes before the first `\n`), at most this many bytes.
    FirstLine(u64),
}

impl Want {
    fn max(self) -> u64 {
        match self {
            Want::Whole(m) | Want::FirstLine(m) => m,
        }
    }
}

/// The file's bytes (for [`Want::FirstLine`], at least its first line), or
/// why not, in words (`is a directory`, `larger than 4194304 bytes`, …).
/// `what` names what the file should be, for the size message.
pub fn read_small(path: &Path, want: Want, what: &str) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let max = want.max();
    let meta = std::fs::metadata(path).map_err(|e| io_words(&e))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(format!("is a directory, not {what}"));
    }
    if ft.is_char_device() || ft.is_block_device() {
        return Err(format!("is a device, not {what}"));
    }
    if ft.is_socket() {
        return Err(format!("is a socket, not {what}"));
    }
    let too_big = || format!("larger than {max} bytes; is it {what}?");
    if ft.is_file() && meta.len() > max && want == Want::Whole(max) {
        return Err(format!("{} bytes, {}", meta.len(), too_big()));
    }
    let fifo = ft.is_fifo();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(if fifo { libc::O_NONBLOCK } else { 0 })
        .open(path)
        .map_err(|e| io_words(&e))?;
    let bytes = if fifo {
        read_fifo(file, want)?
    } else {
        let mut bytes = Vec::new();
        (&mut file)
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_words(&e))?;
        bytes
    };
    let complete_line = matches!(want, Want::FirstLine(_)) && bytes.contains(&b'\n');
    if bytes.len() as u64 > max && !complete_line {
        return Err(too_big());
    }
    Ok(bytes)
}

/// What a FIFO (opened non-blocking) gives until its writer closes it, or
/// until its first line when that is all that is wanted.
fn read_fifo(mut file: std::fs::File, want: Want) -> Result<Vec<u8>, String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let deadline = Instant::now() + FIFO_WAIT;
    let (mut bytes, mut buf) = (Vec::new(), [0u8; 8192]);
    loop {
        match file.read(&mut buf) {
            // No writer yet (a named FIFO's writer may open it after us).
            Ok(0) if bytes.is_empty() => {
                if Instant::now() >= deadline {
                    return Err("is a FIFO (named pipe) nothing was written to".into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&buf[..n]);
                let line_done = matches!(want, Want::FirstLine(_)) && buf[..n].contains(&b'\n');
                if line_done || bytes.len() as u64 > want.max() {
                    return Ok(bytes);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(format!(
                        "is a FIFO (named pipe) whose writer did not finish within {} s",
                        FIFO_WAIT.as_secs()
                    ));
                }
                let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::from(ms.max(1)));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_words(&e)),
        }
    }
}

/// How long a write to an output FIFO may wait for its reader to take it.
pub const WRITE_WAIT: Duration = Duration::from_secs(2);

/// Writes `bytes` to `path` (created or truncated), so that a FIFO cannot
/// hold the process: one with no reader is refused at once, one whose
/// reader stops reading after [`WRITE_WAIT`].
pub fn write_small(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        return std::fs::write(path, bytes).map_err(|e| io_words(&e));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => "is a FIFO (named pipe) nobody reads".to_string(),
            _ => io_words(&e),
        })?;
    let deadline = Instant::now() + WRITE_WAIT;
    let mut rest = bytes;
    while !rest.is_empty() {
        match file.write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(format!(
                        "is a FIFO (named pipe) whose reader stopped reading (waited {} s)",
                        WRITE_WAIT.as_secs()
                    ));
                }
                let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLOUT)];
                let _ = poll(&mut fds, PollTimeout::from(ms.max(1)));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_words(&e)),
        }
    }
    Ok(())
}

/// An I/O error in words (`No such file or directory`, without the
/// `(os error 2)`).
pub fn io_words(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("amqpdoctor-small-{}-{name}", std::process::id()))
    }

    #[test]
    fn refusals_in_words() {
        let dir = std::env::temp_dir();
        assert!(read_small(&dir, Want::Whole(10), "a PEM file")
            .unwrap_err()
            .contains("directory"));
        assert!(read_small(Path::new("/dev/zero"), Want::Whole(10), "x")
            .unwrap_err()
            .contains("device"));
        let big = temp("big");
        std::fs::write(&big, vec![b'a'; 100]).unwrap();
        assert!(read_small(&big, Want::Whole(10), "x")
            .unwrap_err()
            .contains("larger than 10"));
        std::fs::write(&big, b"pw\nrest of a long file").unwrap();
        assert_eq!(
            read_small(&big, Want::FirstLine(4), "x").unwrap()[..3],
            *b"pw\n"
        );
        let _ = std::fs::remove_file(&big);
    }

    #[test]
    fn a_fifo_never_written_or_never_closed_does_not_hang() {
        let f = temp("fifo");
        let _ = std::fs::remove_file(&f);
        assert!(std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .unwrap()
            .success());
        let start = Instant::now();
        let e = read_small(&f, Want::Whole(100), "x").unwrap_err();
        assert!(e.contains("FIFO"), "{e}");
        assert!(start.elapsed() < FIFO_WAIT * 3);
        // A writer that gives its line and stays open: the line is enough.
        let path = f.clone();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            std::io::Write::write_all(&mut w, b"s3cret\n").unwrap();
            std::thread::sleep(Duration::from_millis(1500));
        });
        std::thread::sleep(Duration::from_millis(50));
        let got = read_small(&f, Want::FirstLine(100), "x").unwrap();
        assert_eq!(got, b"s3cret\n");
        writer.join().unwrap();
        let _ = std::fs::remove_file(&f);
    }
}
