//! How an argv crosses to the target without any shell re-interpretation: every argument's raw
//! bytes in base64url, comma-separated after a version tag (`v1,YWJj,` is `["abc", ""]`). The
//! result is made only of `[A-Za-z0-9_,-]`, which no shell (sh, bash, zsh, fish) treats as
//! special, so it reaches the remote adminsh unchanged whatever the login shell does with the
//! command line; the remote adminsh (`--remote-argv`) decodes it back byte for byte.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

const TAG: &str = "v1";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(crate) fn encode<S: AsRef<OsStr>>(args: &[S]) -> String {
    let mut out = String::from(TAG);
    for arg in args {
        out.push(',');
        base64url(arg.as_ref().as_bytes(), &mut out);
    }
    out
}

pub(crate) fn decode(payload: &str) -> anyhow::Result<Vec<OsString>> {
    let Some(rest) = payload.strip_prefix(TAG) else {
        anyhow::bail!(
            "the payload does not start with `{TAG}`: the adminsh that sent it is of another version"
        );
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = rest.strip_prefix(',') else {
        anyhow::bail!("the payload is malformed: `,` expected after the version");
    };
    rest.split(',')
        .enumerate()
        .map(|(i, word)| {
            unbase64url(word).map(OsString::from_vec).ok_or_else(|| {
                anyhow::anyhow!("argument {} of the payload is not base64url", i + 1)
            })
        })
        .collect()
}

fn base64url(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let value = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
            n |= value << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)).to_be_bytes()[3]);
        }
        // Bits below the last whole byte must be zero, so each payload has one spelling.
        if chunk.len() < 4 && n & (0xff_ffff >> (8 * (chunk.len() - 1))) != 0 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: a small seeded generator, so a failure is reproducible.
    pub(super) struct Rng(u64);

    impl Rng {
        pub(super) fn new(seed: u64) -> Rng {
            Rng(seed.max(1))
        }
        pub(super) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub(super) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn known_encodings() {
        assert_eq!(encode::<&str>(&[]), "v1");
        assert_eq!(encode(&[""]), "v1,");
        assert_eq!(encode(&["abc", ""]), "v1,YWJj,");
        assert_eq!(encode(&["a", "ab", "\u{ff}"]), "v1,YQ,YWI,w78");
        assert_eq!(encode(&["?>>"]), "v1,Pz4-");
        assert_eq!(encode(&["\u{3ff}"]), "v1,z78");
        assert_eq!(decode("v1").unwrap(), Vec::<OsString>::new());
        assert_eq!(decode("v1,").unwrap(), [OsString::new()]);
        assert_eq!(decode("v1,YWJj,").unwrap(), ["abc", ""]);
    }

    #[test]
    fn malformed_payloads_are_refused() {
        assert!(
            decode("v2,YQ")
                .unwrap_err()
                .to_string()
                .contains("another version")
        );
        assert!(decode("v1YQ").is_err());
        assert_eq!(
            decode("v1,YQ,Y").unwrap_err().to_string(),
            "argument 2 of the payload is not base64url"
        );
        assert!(decode("v1,Y=").is_err());
        assert!(decode("v1,YR").is_err(), "stray low bits");
    }

    #[test]
    #[allow(clippy::cast_possible_truncation)] // random bytes and small counts
    fn every_byte_string_round_trips_through_shell_safe_text() {
        let mut rng = Rng::new(0x5eed_ad51);
        for round in 0..5000 {
            let count = rng.below(5) as usize;
            let args: Vec<OsString> = (0..count)
                .map(|_| {
                    let len = rng.below(if round % 10 == 0 { 300 } else { 12 }) as usize;
                    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    OsString::from_vec(bytes)
                })
                .collect();
            let payload = encode(&args);
            assert!(
                payload
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-,".contains(&b)),
                "{payload}"
            );
            assert_eq!(decode(&payload).unwrap(), args, "round {round}");
        }
    }
}
