//! The PEM files of `--cacert`, `--cert` and `--key`: read with bounds (a
//! size, a type, a FIFO's wait), once per process, and refused in words
//! naming the flag and the file.

use std::io;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// A PEM file larger than this is refused unread (a bundle of every public
/// CA is about 250 KiB).
const PEM_MAX: u64 = 4 * 1024 * 1024;

/// A TLS setting that cannot be used (a file that is missing or holds no
/// certificate): a usage error naming the flag and the file.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: {why}")]
pub struct TlsConfigError {
    pub what: &'static str,
    pub path: String,
    pub why: String,
}

/// The bytes of a PEM file, read once per process: every connection builds
/// its configuration again, and a FIFO (`--cacert <(…)`) can be read only
/// once.
pub(super) fn read_pem(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsConfigError> {
    static READ: std::sync::Mutex<Vec<(std::path::PathBuf, Vec<u8>)>> =
        std::sync::Mutex::new(Vec::new());
    if let Some((_, b)) = READ
        .lock()
        .ok()
        .as_ref()
        .and_then(|r| r.iter().find(|(p, _)| p == path))
    {
        return Ok(b.clone());
    }
    let bytes = read_pem_file(path, what)?;
    if let Ok(mut r) = READ.lock() {
        // A handful of files at most (a targets file may name many).
        if r.len() >= 8 {
            r.remove(0);
        }
        r.push((path.to_path_buf(), bytes.clone()));
    }
    Ok(bytes)
}

fn read_pem_file(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsConfigError> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let err = |why: String| TlsConfigError {
        what,
        path: path.display().to_string(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(io_words(&e)))?;
    let ft = meta.file_type();
    let not_pem = |kind: &str| Err(err(format!("is {kind}, not a PEM file")));
    if ft.is_dir() {
        return not_pem("a directory");
    }
    if ft.is_char_device() || ft.is_block_device() {
        return not_pem("a device");
    }
    if ft.is_socket() {
        return not_pem("a socket");
    }
    if meta.len() > PEM_MAX {
        return Err(err(format!(
            "{} bytes, larger than a PEM file can be here ({PEM_MAX}); is it a PEM file?",
            meta.len()
        )));
    }
    // A FIFO is opened without waiting for a writer, and read for at most
    // FIFO_WAIT (`--cacert <(…)` works; a FIFO nobody writes to cannot hang us).
    let fifo = ft.is_fifo();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(if fifo { libc::O_NONBLOCK } else { 0 })
        .open(path)
        .map_err(|e| err(io_words(&e)))?;
    let bytes = if fifo {
        read_fifo(file).map_err(err)?
    } else {
        let mut bytes = Vec::new();
        file.take(PEM_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| err(io_words(&e)))?;
        bytes
    };
    if bytes.len() as u64 > PEM_MAX {
        return Err(err(format!(
            "larger than {PEM_MAX} bytes; is it a PEM file?"
        )));
    }
    Ok(bytes)
}

/// How long a FIFO given as a PEM file may take to be written and closed.
const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Everything written to a FIFO (opened non-blocking) until its writer
/// closes it, within [`FIFO_WAIT`] and [`PEM_MAX`].
fn read_fifo(mut file: std::fs::File) -> Result<Vec<u8>, String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::io::Read;
    use std::os::fd::AsFd;
    let deadline = std::time::Instant::now() + FIFO_WAIT;
    let (mut bytes, mut buf) = (Vec::new(), [0u8; 8192]);
    loop {
        match file.read(&mut buf) {
            Ok(0) if bytes.is_empty() => {
                return Err("is a FIFO (named pipe) nothing was written to".into())
            }
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&buf[..n]);
                if bytes.len() as u64 > PEM_MAX {
                    return Ok(bytes);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
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

/// An I/O error in words (`No such file or directory`, without the
/// `(os error 2)`).
fn io_words(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub(super) fn certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let bytes = read_pem(path, what)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsConfigError {
            what,
            path: path.display().to_string(),
            why: format!("not PEM certificates ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError {
            what,
            path: path.display().to_string(),
            why: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        });
    }
    Ok(certs)
}
