//! The feed's cursors: a position, sealed with an HMAC over the client id and the position, so
//! a client can neither craft a position nor use another client's cursor. The key is a
//! SecureString in SSM, read once per cold start.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use keiryoku_auth::ClientSecret;
use keiryoku_http::ApiError;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of the MAC kept in a cursor (128 bits).
const TAG_BYTES: usize = 16;

/// The cursor key, fetched on first use.
pub struct CursorKey {
    secret: ClientSecret,
}

/// The key, once read.
pub struct Sealer<'a> {
    key: &'a [u8],
}

impl CursorKey {
    pub fn new(secret: ClientSecret) -> CursorKey {
        CursorKey { secret }
    }

    pub async fn get(&self) -> Result<Sealer<'_>, ApiError> {
        let key = self.secret.get().await.map_err(|e| {
            tracing::error!(error = %e, "cursor key unavailable");
            ApiError::Unavailable("cursor key".into())
        })?;
        Ok(Sealer {
            key: key.as_bytes(),
        })
    }
}

impl Sealer<'_> {
    fn tag(&self, client_id: &str, position: i64) -> [u8; TAG_BYTES] {
        // HMAC takes a key of any length: new_from_slice cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.key) {
            Ok(mac) => mac,
            Err(_) => return [0; TAG_BYTES],
        };
        mac.update(b"keiryoku feed cursor v1\0");
        mac.update(client_id.as_bytes());
        mac.update(b"\0");
        mac.update(&position.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// The cursor of `position` for `client_id`.
    pub fn seal(&self, client_id: &str, position: i64) -> String {
        let mut bytes = Vec::with_capacity(8 + TAG_BYTES);
        bytes.extend_from_slice(&position.to_be_bytes());
        bytes.extend_from_slice(&self.tag(client_id, position));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position of a cursor this client was given; `None` for anything else.
    pub fn open(&self, client_id: &str, cursor: &str) -> Option<i64> {
        if cursor.len() > 64 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        if bytes.len() != 8 + TAG_BYTES {
            return None;
        }
        let (position, tag) = bytes.split_at(8);
        let position = i64::from_be_bytes(position.try_into().ok()?);
        let expected = self.tag(client_id, position);
        (position >= 0 && bool::from(expected.ct_eq(tag))).then_some(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_for_its_client_and_unchanged() {
        let sealer = Sealer { key: b"k" };
        let cursor = sealer.seal("mirasapo", 42);
        assert_eq!(sealer.open("mirasapo", &cursor), Some(42));
        assert_eq!(sealer.open("meti", &cursor), None);
        let mut forged = URL_SAFE_NO_PAD.decode(&cursor).unwrap_or_default();
        forged[7] ^= 1;
        assert_eq!(
            sealer.open("mirasapo", &URL_SAFE_NO_PAD.encode(forged)),
            None
        );
        for junk in ["", "x", "!!!!", &"A".repeat(200)] {
            assert_eq!(sealer.open("mirasapo", junk), None);
        }
        let other = Sealer { key: b"other" };
        assert_eq!(other.open("mirasapo", &cursor), None);
    }
}
