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
            let distance = if part_of(&wanted_lower, &lower) || part_of(&lower, &wanted_lower) {
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

/// Whether `part`, three characters or more, is in `whole`: typed as part of the name meant
/// (`fix` for `fix_records`), or the name meant with more around it (`fix_recordss`), if it is
/// at least half of it. A stray `_` or `A` is in every name and means none of them.
fn part_of(part: &str, whole: &str) -> bool {
    let (part_len, whole_len) = (part.chars().count(), whole.chars().count());
    part_len >= 3 && whole.contains(part) && (part_len * 2 >= whole_len || whole.starts_with(part))
}

/// The edit distance of `a` and `b`, a swap of two neighbouring letters counting as one edit
/// (`rnu` is one from `run`): the optimal string alignment distance.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for a swap), the previous one and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
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
        assert_eq!(levenshtein("rnu", "run"), 1);
        assert_eq!(levenshtein("", "ab"), 2);
        assert_eq!(levenshtein("ab", ""), 2);
        assert_eq!(levenshtein("abc", "abc"), 0);
        assert_eq!(closest("rnu", ["run", "read"]), Some("run"));
        // A name that is a small part of the typo is no suggestion.
        let keys = ["_", "A", "DATABASE_URL", "PORT", "URL"];
        assert_eq!(closest("DATABSE_URL", keys), Some("DATABASE_URL"));
        assert_eq!(closest("DATABASE", keys), Some("DATABASE_URL"));
        assert_eq!(closest("XYZ_PAGE", keys), None);
        assert_eq!(closest("fix_recordss", names), Some("fix_records"));
    }
}
