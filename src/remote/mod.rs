//! Remote targets: `adminsh -t NAME ...` runs the same admin process on a deployed release,
//! over ssh or `kubectl exec`, with the engines people already operate and no agent of
//! adminsh's own. The local side finds the target in `adminsh.toml`, turns its own command line
//! into an argv for the remote adminsh, and runs the client; the remote side
//! (`--remote-argv`) decodes that argv and runs it there.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `payload.rs` | the argv as shell-safe text, and back |
//! | `argv.rs` | the forwarded argv and the exact `ssh` and `kubectl` command lines |
//! | `runner.rs` | running the client: output relayed, failures to connect told apart, Ctrl-C |
//! | `fanout.rs` | `--each` / `--parallel N` over a target's hosts |
//! | `serve.rs` | the target's side: `--remote-argv` unwrapped before parsing, `--announce` |
//!
//! The targets themselves (`[targets.NAME]`) are part of the manifest: `release/targets.rs`.

mod argv;
mod fanout;
mod job;
mod jobs;
mod payload;
mod runner;
mod serve;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;

use crate::error::{EXIT_UNREACHABLE, Error, interrupted_code};
use crate::interrupt;
use crate::options::{Flags, ReleaseMode, Request};
use crate::release::{MANIFEST_FILE, Manifest, OpenOptions, Target, Via, discover_root};
use crate::suggest;

use argv::Stdin;
#[cfg(test)]
pub(crate) use argv::remote_words;
use runner::{Ended, Transport};
pub(crate) use serve::{announce, unwrap};

/// Runs this mode, with these flags, on the target `request` names and returns the exit code.
pub(crate) fn run(mode: &ReleaseMode, flags: &Flags, request: &Request) -> Result<i32, Error> {
    let (path, mut targets) = load(&flags.release)?;
    let Some(target) = targets.remove(&request.target) else {
        return Err(unknown(&request.target, &targets, &path));
    };
    let name = request.target.as_str();
    let forwarded = crate::command_line::forwarded(mode, flags, name, target.stage.as_deref());
    let console = matches!(mode, ReleaseMode::Console);
    interrupt::install();
    match (&target.via, request.each) {
        (_, Some(_)) if console => Err(Error::usage(
            "the console opens on one host: --each and --parallel run a script, -e, --list, --env or --check on every host",
        )),
        (Via::Kubectl(k), None) if k.job && jobs::handles(mode) => jobs::Jobs {
            name,
            target: &target,
            k,
        }
        .run(mode, flags),
        (Via::Kubectl(_), Some(_)) => Err(Error::usage(format!(
            "target `{name}` is reached by kubectl: --each and --parallel run on the `hosts` of an ssh target"
        ))),
        (Via::Ssh(ssh), Some(parallel)) => {
            Ok(fanout::run(name, &target, ssh, &forwarded, parallel))
        }
        (via, None) => {
            let stdin = if console && std::io::stdin().is_terminal() {
                Stdin::Terminal
            } else {
                Stdin::Forward
            };
            let (argv, transport, how) = match via {
                Via::Ssh(ssh) => (
                    argv::ssh(&target, ssh, &ssh.destination, &forwarded, stdin),
                    Transport::Ssh,
                    ssh.destination.to_string(),
                ),
                Via::Kubectl(k) => (
                    argv::kubectl(&target, k, &forwarded, stdin),
                    Transport::Kubectl,
                    format!("kubectl {}", k.describe()),
                ),
            };
            let ended = runner::run(&argv, transport, stdin, None)
                .unwrap_or_else(|e| Ended::Unreachable(format!("cannot run `{}`: {e}", argv[0])));
            match (&ended, mode) {
                // Following a run there: the run goes on.
                (Ended::Interrupted(_), ReleaseMode::Attach { id }) => {
                    let adminsh = format!("adminsh -t {name}");
                    crate::log::err_line(&crate::runs::left_running(id, &adminsh));
                }
                _ => {
                    if let Some(message) = failure(name, &how, &ended) {
                        crate::log::err_line(&format!("adminsh: {message}"));
                    }
                }
            }
            Ok(match ended {
                Ended::Ran(code) | Ended::Outdated(code, _) => code,
                Ended::Unreachable(_) | Ended::NotStarted(..) => EXIT_UNREACHABLE,
                Ended::Interrupted(signal) => interrupted_code(signal),
            })
        }
    }
}

/// What to say about a run that did not simply end with the remote adminsh's exit code.
fn failure(name: &str, how: &str, ended: &Ended) -> Option<String> {
    let said = |text: &str, status: i32| {
        if text.is_empty() {
            format!("the client exited with status {status}")
        } else {
            text.to_owned()
        }
    };
    match ended {
        Ended::Ran(_) => None,
        Ended::Unreachable(text) => Some(format!(
            "cannot reach target `{name}` ({how}): {}",
            said(text, EXIT_UNREACHABLE)
        )),
        Ended::NotStarted(status, text) => Some(format!(
            "adminsh did not start on target `{name}` ({how}): {}",
            said(text, *status)
        )),
        Ended::Interrupted(_) => Some("interrupted".to_owned()),
        Ended::Outdated(_, flag) => Some(format!(
            "the adminsh on target `{name}` ({how}) does not know `{flag}`: it is older than this one; update it there"
        )),
    }
}

/// `--targets`: each target and how it is reached, one per line.
pub(crate) fn list(release: &OpenOptions) -> Result<i32, Error> {
    let (path, targets) = load(release)?;
    if targets.is_empty() {
        crate::log::err_line(&format!("adminsh: no targets in {}", path.display()));
        return Ok(0);
    }
    let width = targets.keys().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, target) in &targets {
        out.push_str(&format!("{name:width$}  {}\n", target.describe()));
    }
    // A reader that went away (`adminsh --targets | head -1`) ends the listing quietly.
    crate::log::out(&out);
    Ok(0)
}

/// The targets of the local release's manifest, and the manifest's path.
fn load(release: &OpenOptions) -> Result<(PathBuf, BTreeMap<String, Target>)> {
    let root = discover_root(release.dir.as_deref())?;
    let manifest = Manifest::load(&root.path)?;
    Ok((root.path.join(MANIFEST_FILE), manifest.targets))
}

fn unknown(wanted: &str, targets: &BTreeMap<String, Target>, path: &std::path::Path) -> Error {
    if targets.is_empty() {
        return Error::usage(format!(
            "no target `{wanted}`: {} has no [targets.NAME] tables",
            path.display()
        ));
    }
    let mut message = format!("no target `{wanted}` in {}", path.display());
    if let Some(close) = suggest::closest(wanted, targets.keys().map(String::as_str)) {
        message.push_str(&format!("\n  did you mean `{close}`?"));
    } else {
        let names: Vec<&str> = targets.keys().map(String::as_str).collect();
        message.push_str(&format!(" (its targets: {})", names.join(", ")));
    }
    Error::usage(message)
}
