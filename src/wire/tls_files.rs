//! The PEM files of `--cacert`, `--cert` and `--key`: read with bounds (a
//! size, a type, a FIFO's wait), once per process, and refused in words
//! naming the flag and the file.

use std::path::Path;

use super::small_file::{read_small, Want};

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
    read_small(path, Want::Whole(PEM_MAX), "a PEM file").map_err(|why| TlsConfigError {
        what,
        path: path.display().to_string(),
        why,
    })
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
