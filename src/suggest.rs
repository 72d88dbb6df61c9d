//! "Did you mean": the closest of some names to a mistyped one.

/// The candidate closest to `wanted` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    ranked(wanted, candidates).into_iter().next()
}

/// Candidates close enough to `wanted` to be what was meant, closest first.
pub(crate) fn ranked<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let distance = if lower.contains(&wanted_lower) || wanted_lower.contains(&lower) {
                0
            } else {
                levenshtein(&wanted_lower, &lower)
            };
            (distance <= limit).then_some((distance, c))
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().map(|(_, c)| c).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (previous + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let names = ["fix_records", "report", "backfill_orders"];
        assert_eq!(closest("fix_record", names), Some("fix_records"));
        assert_eq!(closest("reprot", names), Some("report"));
        assert_eq!(closest("fix", names), Some("fix_records"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
