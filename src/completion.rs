//! Shell completion that knows the release. The script `--completions SHELL` prints is small
//! and fixed: it calls `adminsh --complete-words -- SHELL CWORD WORDS...` back, and adminsh
//! answers with the candidates for word CWORD, one per line, a tab before a description:
//! adminsh's own options, the scripts of the release (found as a run would find it, `-C`
//! included), a script's declared options and their choices. No candidates means "complete a
//! file name", which every shell script falls back to.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::catalog;
use crate::cli::Cli;
use crate::options::Shell;
use crate::params::{Header, Kind};
use crate::release::discover_root;

pub(crate) fn script(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    }
}

const BASH: &str = r#"# bash completion for adminsh: adminsh --completions bash > /etc/bash_completion.d/adminsh
# The candidates come from adminsh itself (adminsh --complete-words), so they follow the release
# you are in: its scripts, and each script's declared options.
_adminsh() {
    local bin=${COMP_WORDS[0]/#\~/$HOME} line
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("${line%%$'\t'*}")
    done < <("$bin" --complete-words -- bash "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null)
}
complete -o default -F _adminsh adminsh
"#;

const ZSH: &str = r#"#compdef adminsh
# zsh completion for adminsh: adminsh --completions zsh > "${fpath[1]}/_adminsh"
# The candidates come from adminsh itself (adminsh --complete-words), so they follow the release
# you are in: its scripts, and each script's declared options.
_adminsh() {
    local bin=${words[1]/#\~/$HOME} line
    local -a candidates
    for line in "${(@f)$("$bin" --complete-words -- zsh $((CURRENT - 1)) "${words[@]}" 2>/dev/null)}"; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\t'* ]]; then
            candidates+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
            candidates+=("${line//:/\\:}")
        fi
    done
    if (( ${#candidates} )); then
        _describe -t candidates adminsh candidates
    else
        _files
    fi
}
if [ "$funcstack[1]" = "_adminsh" ]; then
    _adminsh "$@"
else
    compdef _adminsh adminsh
fi
"#;

const FISH: &str = r"# fish completion for adminsh: adminsh --completions fish > ~/.config/fish/completions/adminsh.fish
# The candidates come from adminsh itself (adminsh --complete-words), so they follow the release
# you are in: its scripts, and each script's declared options.
function __adminsh_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l out ($tokens[1] --complete-words -- fish (count $tokens) $tokens $current 2>/dev/null)
    if test (count $out) -eq 0
        __fish_complete_path $current
    else
        printf '%s\n' $out
    end
end
complete -c adminsh -f -a '(__adminsh_complete)'
";

/// A word the shell may put in place of the current one, and a line about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub word: String,
    pub about: String,
}

impl Candidate {
    fn new(word: impl Into<String>, about: impl Into<String>) -> Self {
        let about: String = about.into();
        Candidate {
            word: word.into(),
            about: about.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

/// `--complete-words`: `SHELL CWORD WORDS...` in, the candidates' lines out. CWORD, the index
/// of the word being completed, is at most the number of WORDS (the word after the last).
pub(crate) fn answer(request: &[String]) -> anyhow::Result<String> {
    let [shell, cword, words @ ..] = request else {
        anyhow::bail!("--complete-words needs SHELL CWORD WORDS...");
    };
    let cword = match cword.parse::<usize>() {
        Ok(cword) if cword <= words.len() => cword,
        Ok(_) | Err(_) => anyhow::bail!(
            "--complete-words: CWORD must be the index of one of the {} words given (0 to {}), not {cword:?}",
            words.len(),
            words.len()
        ),
    };
    let (words, bash_prefix) = join_equals(words, cword);
    let candidates = candidates(&words);
    let mut out = String::new();
    for candidate in candidates {
        let word = match shell.as_str() {
            // bash replaces only what follows the `=` it split the word at.
            "bash" => candidate
                .word
                .strip_prefix(&bash_prefix)
                .unwrap_or(&candidate.word),
            _ => &candidate.word,
        };
        out.push_str(word);
        if !candidate.about.is_empty() && shell != "bash" {
            out.push('\t');
            out.push_str(&candidate.about);
        }
        out.push('\n');
    }
    Ok(out)
}

/// The words up to the current one (the last), with `--name`, `=`, `value` joined back into
/// `--name=value` (bash splits words at `=`); and, when the current word was so joined, the
/// part bash will not replace (`--name=`).
fn join_equals(words: &[String], cword: usize) -> (Vec<String>, String) {
    let mut words: Vec<String> = words.iter().take(cword + 1).cloned().collect();
    while words.len() <= cword {
        words.push(String::new());
    }
    let mut joined: Vec<String> = Vec::with_capacity(words.len());
    let mut prefix = String::new();
    let mut i = 0;
    while i < words.len() {
        let is_option = |w: &String| w.starts_with("--") && !w.contains('=');
        if words[i] == "=" && joined.last().is_some_and(is_option) {
            let mut word = joined.pop().unwrap_or_default();
            word.push('=');
            if i + 1 >= words.len() - 1 {
                prefix.clone_from(&word);
            }
            word.push_str(words.get(i + 1).map_or("", String::as_str));
            joined.push(word);
            i += 2;
        } else {
            joined.push(words[i].clone());
            i += 1;
        }
    }
    (joined, prefix)
}

/// One of adminsh's own options, from the clap definition (never out of step with it).
struct Global {
    id: String,
    long: Option<String>,
    short: Option<char>,
    takes_value: bool,
    values: Vec<String>,
    about: String,
}

fn globals() -> Vec<Global> {
    let mut command = Cli::command();
    command.build();
    command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .map(|a| Global {
            id: a.get_id().to_string(),
            long: a.get_long().map(str::to_owned),
            short: a.get_short(),
            takes_value: a.get_action().takes_values(),
            values: a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect(),
            about: a.get_help().map(ToString::to_string).unwrap_or_default(),
        })
        .collect()
}

/// The candidates for the last of `words` (the first is adminsh itself).
fn candidates(words: &[String]) -> Vec<Candidate> {
    let Some((current, before)) = words.split_last() else {
        return Vec::new();
    };
    let before = before.get(1..).unwrap_or_default();
    let globals = globals();
    let mut dir: Option<PathBuf> = None;
    let mut pending: Option<&Global> = None;
    let mut after_dashes = false;
    let mut eval = false;
    for (i, word) in before.iter().enumerate() {
        if let Some(global) = pending.take() {
            if global.id == "dir" {
                dir = Some(word.into());
            }
            continue;
        }
        let option = !after_dashes && word.starts_with('-') && word.len() > 1;
        if option && word == "--" {
            after_dashes = true;
        } else if option {
            let (global, inline) = find_global(&globals, word);
            let Some(global) = global else { continue };
            eval |= global.id == "eval";
            match inline {
                Some(value) if global.id == "dir" => dir = Some(value.into()),
                None if global.takes_value => pending = Some(global),
                Some(_) | None => {}
            }
        } else if eval {
            // The arguments of `-e CODE`: nothing to offer.
            return Vec::new();
        } else {
            return script_candidates(dir.as_deref(), word, &before[i + 1..], current);
        }
    }
    if let Some(global) = pending {
        return matching(global.values.iter().map(|v| Candidate::new(v, "")), current);
    }
    if eval {
        return Vec::new();
    }
    if !after_dashes && current.starts_with('-') {
        if let Some((name, _)) = current.split_once('=') {
            let values = globals
                .iter()
                .filter(|g| g.long.as_deref() == name.strip_prefix("--"))
                .flat_map(|g| g.values.iter())
                .map(|v| Candidate::new(format!("{name}={v}"), ""));
            return matching(values, current);
        }
        let options = globals.iter().filter_map(|g| {
            let long = g.long.as_ref()?;
            Some(Candidate::new(format!("--{long}"), &g.about))
        });
        return matching(options, current);
    }
    let Ok(root) = discover_root(dir.as_deref()) else {
        return Vec::new();
    };
    let scripts = catalog::scripts(&root.path, false)
        .into_iter()
        .map(|s| Candidate::new(s.name, s.summary.unwrap_or_default()));
    matching(scripts, current)
}

/// The global option a word names (`--dir=x`, `-Cx`, `-e`), and a value attached to it.
fn find_global<'a, 'w>(
    globals: &'a [Global],
    word: &'w str,
) -> (Option<&'a Global>, Option<&'w str>) {
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (long, None),
        };
        let global = globals.iter().find(|g| g.long.as_deref() == Some(name));
        return (global, inline);
    }
    let mut chars = word[1..].chars();
    let short = chars.next();
    let attached = chars.as_str();
    let global = globals
        .iter()
        .find(|g| g.short.is_some() && g.short == short);
    let inline = global
        .filter(|g| g.takes_value && !attached.is_empty())
        .map(|_| attached);
    (global, inline)
}

/// After the script's name: its declared options, or the values of the one being given.
fn script_candidates(
    dir: Option<&Path>,
    script: &str,
    args: &[String],
    current: &str,
) -> Vec<Candidate> {
    let Ok(root) = discover_root(dir) else {
        return Vec::new();
    };
    let Ok(path) = catalog::find(&root.path, script) else {
        return Vec::new();
    };
    let Some(header) = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| Header::parse(&text).ok())
        .filter(|h| h.declares)
    else {
        return Vec::new();
    };
    let key = |name: &str| name.replace('-', "_");
    let param = |name: &str| header.params.iter().find(|p| p.key == key(name));
    let mut given: Vec<String> = Vec::new();
    let mut pending = None;
    for word in args {
        if pending.take().is_some() {
            continue;
        }
        if word == "--" {
            return Vec::new();
        }
        let Some(option) = word.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        if let Some(p) = param(name) {
            given.push(p.key.clone());
            if inline.is_none() && p.kind.takes_value() {
                pending = Some(p);
            }
        }
    }
    if let Some(p) = pending {
        return matching(values(&p.kind, ""), current);
    }
    if let Some((name, _)) = current
        .split_once('=')
        .filter(|_| current.starts_with("--"))
    {
        let Some(p) = param(name.trim_start_matches('-')) else {
            return Vec::new();
        };
        return matching(values(&p.kind, &format!("{name}=")), current);
    }
    if !(current.is_empty() || current.starts_with('-')) {
        return Vec::new();
    }
    let mut options: Vec<Candidate> = header
        .params
        .iter()
        .filter(|p| !given.contains(&p.key))
        .map(|p| {
            let about = match p.kind {
                Kind::Flag => p.doc.clone(),
                _ => format!("<{}> {}", p.kind.placeholder(), p.doc),
            };
            Candidate::new(format!("--{}", p.spelled), about)
        })
        .collect();
    options.push(Candidate::new("--help", "Print the script's help"));
    matching(options, current)
}

/// The values a parameter of this kind can take, each after `prefix`.
fn values(kind: &Kind, prefix: &str) -> Vec<Candidate> {
    let words: Vec<&str> = match kind {
        Kind::OneOf(choices) => choices.iter().map(String::as_str).collect(),
        Kind::Bool | Kind::Flag => vec!["true", "false"],
        _ => Vec::new(),
    };
    words
        .into_iter()
        .map(|w| Candidate::new(format!("{prefix}{w}"), ""))
        .collect()
}

fn matching(candidates: impl IntoIterator<Item = Candidate>, current: &str) -> Vec<Candidate> {
    candidates
        .into_iter()
        .filter(|c| c.word.starts_with(current))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn bash_words_split_at_equals_are_joined_back() {
        let join = |list: &[&str], cword| join_equals(&words(list), cword);
        assert_eq!(
            join(&["adminsh", "fix", "--mode", "=", "fa"], 4),
            (words(&["adminsh", "fix", "--mode=fa"]), "--mode=".into())
        );
        assert_eq!(
            join(&["adminsh", "fix", "--mode", "="], 3),
            (words(&["adminsh", "fix", "--mode="]), "--mode=".into())
        );
        assert_eq!(
            join(&["adminsh", "fix", "--mode", "=", "fast", "", "ignored"], 5),
            (words(&["adminsh", "fix", "--mode=fast", ""]), String::new())
        );
        assert_eq!(
            join(&["adminsh"], 1),
            (words(&["adminsh", ""]), String::new())
        );
    }

    #[test]
    fn global_options_and_their_values() {
        let answer = |list: &[&str]| answer(&words(list)).unwrap();
        let options = answer(&["fish", "1", "adminsh", "--e"]);
        assert!(options.contains("--env-file\t"), "{options}");
        assert!(options.contains("--eval\tEvaluate CODE and print its value\n"));
        assert!(!options.contains("--complete-words"));
        assert_eq!(
            answer(&["bash", "2", "adminsh", "--completions", "z"]),
            "zsh\n"
        );
        assert_eq!(
            answer(&["bash", "3", "adminsh", "--completions", "=", "f"]),
            "fish\n"
        );
        assert_eq!(
            answer(&["zsh", "1", "adminsh", "--completions=f"]),
            "--completions=fish\n"
        );
        assert_eq!(answer(&["bash", "2", "adminsh", "-e", ""]), "");
        assert_eq!(answer(&["bash", "3", "adminsh", "-e", "1", ""]), "");
        assert_eq!(
            answer(&["bash", "1", "adminsh"]),
            answer(&["bash", "1", "adminsh", ""])
        );
    }

    #[test]
    fn a_word_index_past_the_words_is_an_error() {
        for request in [
            &["bash"][..],
            &["bash", "x", "adminsh"],
            &["bash", "-1", "adminsh"],
            &["bash", "2", "adminsh"],
            &["bash", "99999999999999999999999", "adminsh"],
            &["zsh", "18446744073709551615", "adminsh", "x"],
        ] {
            let error = answer(&words(request)).unwrap_err().to_string();
            assert!(
                error.starts_with("--complete-words"),
                "{request:?}: {error}"
            );
        }
    }
}
