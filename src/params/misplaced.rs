//! adminsh's own safety flags written after the script name (`adminsh fix --dry-run`): they
//! would reach the script, not adminsh, and the script would run for real. Refused before the
//! script runs, with the command as it was meant, unless the script declares the option itself
//! or the words come after `--`.

use super::Header;
use crate::error::Error;
use crate::process::quote;

/// adminsh's flags that change how a run goes, as a user may spell them: the spelling, the
/// flag it is, and whether it takes a value.
const OWN: [(&str, &str, bool); 10] = [
    ("-n", "--dry-run", false),
    ("--dry-run", "--dry-run", false),
    ("--sandbox", "--sandbox", false),
    ("--read-only", "--read-only", false),
    ("-y", "--yes", false),
    ("--yes", "--yes", false),
    ("-s", "--stage", true),
    ("--stage", "--stage", true),
    ("-t", "--target", true),
    ("--target", "--target", true),
];

/// The flag `word` spells, and whether its value is in the word (`--stage=x`, `-sx`).
fn own_flag(word: &str) -> Option<(&'static str, bool, bool)> {
    OWN.iter().find_map(|&(spelled, flag, takes_value)| {
        if word == spelled {
            return Some((flag, takes_value, false));
        }
        let rest = word.strip_prefix(spelled)?;
        let inline = takes_value
            && (rest.starts_with('=') || (!spelled.starts_with("--") && !rest.is_empty()));
        inline.then_some((flag, true, true))
    })
}

/// Refuses adminsh's safety flags among `args`, the words after script `script`, that the
/// script does not declare: the error shows the command with them before the script's name.
pub(crate) fn refuse_misplaced_flags(
    script: &str,
    args: &[String],
    header: &Header,
) -> Result<(), Error> {
    let mut moved: Vec<&str> = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    let mut first = None;
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        if word == "--" {
            kept.push(word);
            kept.extend(words.by_ref());
            break;
        }
        let declared = |flag: &str| {
            let key = flag.trim_start_matches('-').replace('-', "_");
            word.starts_with("--") && header.params.iter().any(|p| p.key == key)
        };
        match own_flag(word) {
            Some((flag, takes_value, inline)) if !declared(flag) => {
                first.get_or_insert(word);
                moved.push(word);
                if takes_value && !inline {
                    moved.extend(words.next());
                }
            }
            _ => kept.push(word),
        }
    }
    let Some(first) = first else {
        return Ok(());
    };
    let command: Vec<String> = ["adminsh"]
        .into_iter()
        .chain(moved)
        .chain([script])
        .chain(kept)
        .map(|w| quote(w).into_owned())
        .collect();
    Err(Error::usage(format!(
        "`{first}` after the script's name would go to the script, which does not declare it, \
         and the script would run without it: adminsh's own options go before the script's \
         name, `{}` (after `--`, words go to the script as they are)",
        command.join(" ")
    )))
}

/// A warning for a header that declares one of adminsh's own option names (`@flag dry-run`):
/// after the script's name it is the script's option, before it adminsh's, an easy mistake.
pub(crate) fn shadowed_names(script: &str, header: &Header) -> Option<String> {
    let shadowed: Vec<String> = header
        .params
        .iter()
        .filter(|p| {
            OWN.iter()
                .any(|(_, flag, _)| flag.trim_start_matches('-').replace('-', "_") == p.key)
        })
        .map(|p| format!("`--{}`", p.spelled))
        .collect();
    (!shadowed.is_empty()).then(|| {
        format!(
            "{script} declares {}, which adminsh has too: after the script's name it is the \
             script's, before it adminsh's; a script can read adminsh's own with mode() \
             (mode().dry_run)",
            shadowed.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str], header: &str) -> Option<String> {
        let (header, _) = Header::parse_all(header);
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        refuse_misplaced_flags("fix", &args, &header)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn safety_flags_after_the_script_are_refused_with_the_command_meant() {
        let cases: [(&[&str], &str); 12] = [
            (&["--dry-run"], "adminsh --dry-run fix"),
            (&["-n", "a"], "adminsh -n fix a"),
            (&["a", "--sandbox", "b"], "adminsh --sandbox fix a b"),
            (&["--read-only"], "adminsh --read-only fix"),
            (&["-y"], "adminsh -y fix"),
            (&["--yes", "--", "-n"], "adminsh --yes fix -- -n"),
            (&["-s", "production", "x"], "adminsh -s production fix x"),
            (&["--stage=production"], "adminsh --stage=production fix"),
            (&["-sproduction"], "adminsh -sproduction fix"),
            (
                &["--target", "prod", "--dry-run"],
                "adminsh --target prod --dry-run fix",
            ),
            (&["-t=prod"], "adminsh -t=prod fix"),
            (&["x", "it's", "-n"], "adminsh -n fix x 'it'\\''s'"),
        ];
        for (args, command) in cases {
            let message = refused(args, "").unwrap_or_default();
            assert!(
                message.contains(&format!("`{command}`")),
                "{args:?}: {message}"
            );
        }
    }

    #[test]
    fn what_the_script_declares_or_follows_dashes_is_the_scripts() {
        let cases: [(&[&str], &str); 6] = [
            (&["--", "--dry-run", "-n"], ""),
            (&["a", "b"], ""),
            (&["--dry-run"], "//! @flag dry-run  Mine"),
            (&["--stage", "x"], "//! @param stage: string  Mine"),
            (&["--stages", "x"], ""),
            (&["-nothing"], ""),
        ];
        for (args, header) in cases {
            assert_eq!(refused(args, header), None, "{args:?} with {header:?}");
        }
    }
}
