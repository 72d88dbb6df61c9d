//! Times as adminsh writes them in its records: UTC to the second, `2026-11-25T02:30:00Z`
//! (the audit log, locks, step checkpoints, a detached run's start and end).

use std::time::SystemTime;

/// Now, as `2026-11-25T02:30:00Z`.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// `time` as `2026-11-25T02:30:00Z`, to the second; a time before 1970 as 1970's first second.
fn rfc3339(time: SystemTime) -> String {
    let at = jiff::Timestamp::try_from(time)
        .ok()
        .filter(|t| *t >= jiff::Timestamp::UNIX_EPOCH)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let at = |secs| rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_573_800), "2026-11-25T02:30:00Z");
        assert_eq!(
            rfc3339(std::time::UNIX_EPOCH - std::time::Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
    }
}
