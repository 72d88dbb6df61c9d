//! A stable hash for names: the same text gives the same name in every run and on every machine
//! (checkpoint and lock files, the console's history file, a Job's suffix).

/// FNV-1a: a stable hash for file names (not for security).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
