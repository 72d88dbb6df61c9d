//! Encodings, digests and identifiers for scripts: base64 (standard and URL-safe), hex,
//! sha256/sha1/md5 of a string, a blob or a file (read in pieces, so a big dump is hashed in
//! constant memory, and stopped by Ctrl-C), and uuid v4 and v7.

use std::io::Read;
use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rhai::{Blob, Dynamic};
use sha1::Digest;

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::interrupt;
use crate::session::Session;

/// The bytes of a string (UTF-8) or a blob.
fn bytes(value: &Dynamic, what: &str) -> RhaiResult<Vec<u8>> {
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        return Ok(text.as_bytes().to_vec());
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(blob.clone());
    }
    Err(runtime_error(format!(
        "{what} takes a string or a blob, not {}",
        crate::kind::of(value)
    )))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        text.push(DIGITS[usize::from(b >> 4)].into());
        text.push(DIGITS[usize::from(b & 0xf)].into());
    }
    text
}

fn unhex(text: &str) -> RhaiResult<Blob> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 == 1 {
        return Err(runtime_error(format!(
            "hex_decode: an odd number of digits ({})",
            digits.len()
        )));
    }
    let value = |d: u8| -> RhaiResult<u8> {
        char::from(d)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or_else(|| {
                runtime_error(format!(
                    "hex_decode: {:?} is not a hex digit",
                    char::from(d)
                ))
            })
    };
    digits
        .chunks(2)
        .map(|pair| Ok(value(pair[0])? << 4 | value(pair[1])?))
        .collect()
}

/// Standard or URL-safe base64, padded or not, whitespace (line breaks) ignored.
fn unbase64(text: &str) -> RhaiResult<Blob> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    let engine = if unpadded.contains(['-', '_']) {
        URL_SAFE_NO_PAD
    } else {
        STANDARD_NO_PAD
    };
    engine.decode(unpadded).map_err(|e| {
        runtime_error(match e {
            base64::DecodeError::InvalidByte(offset, byte) => format!(
                "base64_decode: {:?} (at offset {offset}) is not a base64 character",
                char::from(byte)
            ),
            base64::DecodeError::InvalidLength(_)
            | base64::DecodeError::InvalidLastSymbol { .. } => {
                "base64_decode: the text is cut short (its length is not that of base64)".to_owned()
            }
            other @ base64::DecodeError::InvalidPadding => format!("base64_decode: {other}"),
        })
    })
}

/// The digest of a file, read in pieces.
fn digest_file<D: Digest>(session: &Session, path: &str, what: &str) -> RhaiResult<String> {
    let full = super::file_io::in_release(session, path);
    let cannot = |e: &crate::small_file::Refusal| {
        runtime_error(format!(
            "{what}: cannot read `{path}`: {}",
            super::file_io::refusal_reason(e)
        ))
    };
    // A regular file only: a FIFO or a device has no end to hash up to.
    let mut file = crate::small_file::open_regular(&full).map_err(|e| cannot(&e))?;
    let mut hasher = D::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        if let Some(signal) = interrupt::signal() {
            return Err(control::interrupted(signal));
        }
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(&crate::small_file::Refusal::Io(e))),
        }
    }
    Ok(hex(&hasher.finalize()))
}

fn digest<D: Digest>(value: &Dynamic, what: &str) -> RhaiResult<String> {
    Ok(hex(&D::digest(bytes(value, what)?)))
}

/// The codec family: encodings, digests, identifiers.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    encodings(host);
    digests(host, session);
    rows!(host;
        "uuid", "-> String", "A random UUID (version 4)", || uuid::Uuid::new_v4().to_string();
        "uuid_v7", "-> String",
            "A time-ordered UUID (version 7): sorts by creation time, good as a database key",
            || uuid::Uuid::now_v7().to_string();
    );
}

/// Base64 and hex, both ways.
fn encodings(host: &mut Host) {
    rows!(host;
        "base64_encode", "data: ? -> String", "A string or a blob as standard base64 (padded)",
            |data: Dynamic| -> RhaiResult<String> {
                Ok(STANDARD.encode(bytes(&data, "base64_encode")?))
            };
        "base64url_encode", "data: ? -> String",
            "A string or a blob as URL-safe base64 without padding (JWT, URLs)",
            |data: Dynamic| -> RhaiResult<String> {
                Ok(URL_SAFE_NO_PAD.encode(bytes(&data, "base64url_encode")?))
            };
        "base64_decode", "text: String -> Blob",
            "The bytes of standard or URL-safe base64, padded or not (.as_string() for text)",
            unbase64;
        "hex_encode", "data: ? -> String", "A string or a blob as lowercase hex",
            |data: Dynamic| -> RhaiResult<String> { Ok(hex(&bytes(&data, "hex_encode")?)) };
        "hex_decode", "text: String -> Blob", "The bytes of hex text (either case)", unhex;
    );
}

/// SHA-256, SHA-1 and MD5 of a value, then of a file.
fn digests(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "sha256", "data: ? -> String", "The SHA-256 of a string or a blob, in hex",
            |data: Dynamic| digest::<sha2::Sha256>(&data, "sha256");
        "sha1", "data: ? -> String", "The SHA-1 of a string or a blob, in hex",
            |data: Dynamic| digest::<sha1::Sha1>(&data, "sha1");
        "md5", "data: ? -> String", "The MD5 of a string or a blob, in hex",
            |data: Dynamic| digest::<md5::Md5>(&data, "md5");
        "sha256_file", "path: String -> String", "The SHA-256 of a file's bytes, in hex",
            move |path: &str| digest_file::<sha2::Sha256>(&session, path, "sha256_file");
        "sha1_file", "path: String -> String", "The SHA-1 of a file's bytes, in hex",
            move |path: &str| digest_file::<sha1::Sha1>(&session, path, "sha1_file");
        "md5_file", "path: String -> String", "The MD5 of a file's bytes, in hex",
            move |path: &str| digest_file::<md5::Md5>(&session, path, "md5_file");
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff").unwrap(), vec![0, 0xab, 0xff]);
        assert!(unhex("abc").is_err());
        assert!(unhex("zz").is_err());
    }
}
