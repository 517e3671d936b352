//! The app's private key and the gateway's public key, read from files. Errors name the
//! file and what was wrong with it, never its contents.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// The app's signing key. `Debug` withholds it, so no log or error can print it.
#[derive(Clone)]
pub struct AppKey(pub(crate) RsaPrivateKey);

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(withheld)")
    }
}

impl AppKey {
    /// The public half, for checking a pair and for the simulator's configuration.
    pub fn public(&self) -> RsaPublicKey {
        self.0.to_public_key()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {}: {expected}", path.display())]
    Format {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
    },
}

const PRIVATE: &str = "private_key";
const PUBLIC: &str = "gateway_public_key";

/// A private key in PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM.
pub fn load_private(path: &Path) -> Result<AppKey, KeyError> {
    let text = read(PRIVATE, path)?;
    parse_private(&text).ok_or_else(|| KeyError::Format {
        what: PRIVATE,
        path: path.to_path_buf(),
        expected: "not an RSA private key in PKCS#1 or PKCS#8 PEM",
    })
}

/// A public key as X.509 SubjectPublicKeyInfo, PEM or base64 DER.
pub fn load_public(what: &'static str, path: &Path) -> Result<RsaPublicKey, KeyError> {
    let text = read(what, path)?;
    parse_public(&text).ok_or_else(|| KeyError::Format {
        what,
        path: path.to_path_buf(),
        expected: "not an RSA public key (SubjectPublicKeyInfo as PEM or base64 DER)",
    })
}

/// `load_public` for the gateway's key.
pub fn load_gateway(path: &Path) -> Result<RsaPublicKey, KeyError> {
    load_public(PUBLIC, path)
}

pub(crate) fn parse_private(text: &str) -> Option<AppKey> {
    RsaPrivateKey::from_pkcs8_pem(text)
        .ok()
        .or_else(|| RsaPrivateKey::from_pkcs1_pem(text).ok())
        .map(AppKey)
}

pub(crate) fn parse_public(text: &str) -> Option<RsaPublicKey> {
    if let Ok(key) = RsaPublicKey::from_public_key_pem(text) {
        return Some(key);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    RsaPublicKey::from_public_key_der(&der).ok()
}

fn read(what: &'static str, path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}
