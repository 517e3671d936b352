//! The Open API's signature: every top-level field but `sign` and the null or empty
//! ones, keys in byte order, `k=v` joined with `&` (no URL-encoding; a nested object as
//! its JSON text), SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes, base64 standard.

use base64::Engine;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::keys::AppKey;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the answer carries no signature")]
    Missing,
    #[error("the answer's signature is not base64")]
    NotBase64,
    #[error("the answer's signature does not match the gateway's key")]
    Mismatch,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The text that is signed.
pub fn content(fields: &Map<String, Value>) -> String {
    // serde_json's Map is ordered by key, and String orders by bytes.
    let mut parts = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        let text = match value {
            _ if key == "sign" => continue,
            Value::Null => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        parts.push(format!("{key}={text}"));
    }
    parts.join("&")
}

/// The `sign` value for these fields.
pub fn sign(key: &AppKey, fields: &Map<String, Value>) -> Result<String, SignatureError> {
    let signer = SigningKey::<Sha256>::new(key.0.clone());
    let signature = signer
        .try_sign(content(fields).as_bytes())
        .map_err(|e| SignatureError::Signing(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()))
}

/// Whether `fields["sign"]` is the signature of the other fields by `key`'s owner.
pub fn verify(key: &RsaPublicKey, fields: &Map<String, Value>) -> Result<(), SignatureError> {
    let sign = match fields.get("sign") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(SignatureError::Missing),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sign.trim())
        .map_err(|_| SignatureError::NotBase64)?;
    let signature = Signature::try_from(bytes.as_slice()).map_err(|_| SignatureError::Mismatch)?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(content(fields).as_bytes(), &signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn content_sorts_skips_and_nests() {
        let fields = map(json!({
            "b": "2", "a": "1", "sign": "x", "empty": "", "none": null,
            "n": 10, "flag": true, "obj": {"z": 1, "y": "t"}, "B": "upper"
        }));
        assert_eq!(
            content(&fields),
            r#"B=upper&a=1&b=2&flag=true&n=10&obj={"y":"t","z":1}"#
        );
    }
}
