//! The command line, in two stages: `Cli` is the raw shape clap parses; `Options` is what the
//! rest of the program sees, with the mode chosen and checked.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::error::Error;
use crate::options::{Flags, Mode, Options, ReleaseMode, Request, RunOptions, Shell};
use crate::release::OpenOptions;

#[derive(Debug, Parser)]
#[command(
    name = "adminsh",
    version,
    about = "Run one-off admin processes against your app's release: committed Rhai scripts and a console, with the app's config and dependency isolation",
    after_help = "Exit codes: 0 success, 1 script or command failure, 2 usage error, n from exit(n), 130 interrupted (Ctrl-C), 255 target unreachable (-t).",
    max_term_width = 100,
    override_usage = "adminsh [OPTIONS] [SCRIPT [ARGS]...]"
)]
pub(crate) struct Cli {
    /// Evaluate CODE and print its value
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    pub eval: Option<String>,

    /// The release root [default: nearest ancestor with adminsh.toml, Procfile or .git]
    #[arg(short = 'C', long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Read config from FILE too, above .env (repeatable; the process environment still wins)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// The stage [default: `$ADMINSH_STAGE`, else the manifest's, else development]
    #[arg(short = 's', long = "stage", value_name = "STAGE")]
    pub stage: Option<String>,

    /// Run a script that lives outside the release root
    #[arg(long)]
    pub allow_outside_release: bool,

    /// Report the run as one JSON document on stdout (exit code, duration, commands, value);
    /// the script's own output goes to stderr. With --env: the config as JSON
    #[arg(long, conflicts_with_all = ["list", "check", "completions"])]
    pub json: bool,

    /// Print the commands (and file writes) that would run instead of running them; commands
    /// marked `.read_only()` still run, and the database runs in a transaction rolled back at
    /// the end (`--sandbox` for the console)
    #[arg(short = 'n', long, alias = "sandbox", help_heading = "Maintenance")]
    pub dry_run: bool,

    /// Refuse, with an error, every command not marked `.read_only()` and every file write
    #[arg(long, help_heading = "Maintenance")]
    pub read_only: bool,

    /// Answer yes to `confirm()` and take `ask()`'s defaults
    #[arg(short = 'y', long, help_heading = "Maintenance")]
    pub yes: bool,

    /// Run every step again, ignoring what an earlier failed run completed
    #[arg(long, help_heading = "Maintenance")]
    pub restart: bool,

    /// Wait for another run of the same script to finish instead of refusing to start
    #[arg(long, help_heading = "Maintenance")]
    pub wait: bool,

    /// Why this admin process runs, for the audit log
    #[arg(long, value_name = "TEXT", help_heading = "Maintenance")]
    pub reason: Option<String>,

    /// Show the audit log's recent entries as a table
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["eval", "list", "check", "env", "completions"])]
    pub audit: bool,

    /// List the scripts under scripts/ with their parameters and summaries
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["eval", "check", "env", "completions"])]
    pub list: bool,

    /// Check the header of every script under scripts/, compile it, and report every error
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["eval", "env", "completions"])]
    pub check: bool,

    /// Print the resolved config, secrets redacted, with the layer of each value
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["eval", "completions"])]
    pub env: bool,

    /// With --env: also list variables inherited from the process environment (HOME, TERM, ...)
    #[arg(long, requires = "env", help_heading = "Modes")]
    pub all: bool,

    /// Print a completion script for SHELL
    #[arg(long, value_name = "SHELL", help_heading = "Modes")]
    pub completions: Option<Shell>,

    /// What completion scripts call: `--complete-words -- SHELL CWORD WORDS...` prints the
    /// candidates for word CWORD of WORDS
    #[arg(long, hide = true, conflicts_with_all = ["list", "check", "env", "completions", "eval", "json"])]
    pub complete_words: bool,

    /// Run on target NAME of adminsh.toml (ssh or kubectl exec), in the release deployed there
    #[arg(short = 't', long = "target", value_name = "NAME", help_heading = "Remote", conflicts_with_all = ["completions", "complete_words"])]
    pub target: Option<String>,

    /// With -t: run on every host of the target's `hosts`, one after another
    #[arg(long, requires = "target", help_heading = "Remote")]
    pub each: bool,

    /// With -t: run on every host of the target's `hosts`, N at a time
    #[arg(long, value_name = "N", requires = "target", help_heading = "Remote", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: Option<u16>,

    /// List the targets of adminsh.toml and how each is reached
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["target", "eval", "list", "check", "env", "audit", "completions", "complete_words", "json"])]
    pub targets: bool,

    /// Say on stderr which release runs, as run through target NAME
    #[arg(long, hide = true, value_name = "NAME")]
    pub announce: Option<String>,

    /// A script path, or a name under the release's scripts/ (`fix_records`), then its arguments
    /// (`adminsh SCRIPT --help` shows the parameters a script declares)
    #[arg(
        value_name = "SCRIPT ARGS",
        trailing_var_arg = true,
        num_args = 0..
    )]
    pub script: Vec<OsString>,
}

impl Cli {
    pub(crate) fn into_options(self) -> Result<Options, Error> {
        let mut words = self
            .script
            .into_iter()
            .map(|w| w.to_string_lossy().into_owned());
        let first = words.next();
        let rest: Vec<String> = words.collect();
        let takes_no_script = |flag: &str, first: &Option<String>| match first {
            Some(script) => Err(Error::usage(format!(
                "{flag} takes no script, but `{script}` was given"
            ))),
            None => Ok(()),
        };
        let mode = if self.complete_words {
            Mode::Complete {
                words: first.into_iter().chain(rest).collect(),
            }
        } else if let Some(shell) = self.completions {
            takes_no_script("--completions", &first)?;
            Mode::Completions(shell)
        } else if self.targets {
            takes_no_script("--targets", &first)?;
            Mode::Targets
        } else if self.list {
            takes_no_script("--list", &first)?;
            Mode::Release(ReleaseMode::List)
        } else if self.check {
            takes_no_script("--check", &first)?;
            Mode::Release(ReleaseMode::Check)
        } else if self.audit {
            takes_no_script("--audit", &first)?;
            Mode::Release(ReleaseMode::Audit)
        } else if self.env {
            takes_no_script("--env", &first)?;
            Mode::Release(ReleaseMode::Env { all: self.all })
        } else if let Some(code) = self.eval {
            // With -e, every word is an argument of the code.
            Mode::Release(ReleaseMode::Eval {
                code,
                args: first.into_iter().chain(rest).collect(),
            })
        } else if let Some(script) = first {
            Mode::Release(ReleaseMode::Script { script, args: rest })
        } else {
            Mode::Release(ReleaseMode::Console)
        };
        if self.json
            && !matches!(
                mode,
                Mode::Release(
                    ReleaseMode::Script { .. } | ReleaseMode::Eval { .. } | ReleaseMode::Env { .. }
                )
            )
        {
            return Err(Error::usage(
                "--json reports the run of a script or of -e CODE (or the config, with --env), and none was given",
            ));
        }
        Ok(Options {
            mode,
            flags: Flags {
                release: OpenOptions {
                    dir: self.dir,
                    env_files: self.env_files,
                    stage: self.stage,
                },
                allow_outside_release: self.allow_outside_release,
                json: self.json,
                run: RunOptions {
                    dry_run: self.dry_run,
                    read_only: self.read_only,
                    yes: self.yes,
                    restart: self.restart,
                    wait: self.wait,
                    reason: self.reason,
                },
                remote: self.target.map(|target| Request {
                    target,
                    each: match (self.parallel, self.each) {
                        (Some(n), _) => Some(usize::from(n)),
                        (None, true) => Some(1),
                        (None, false) => None,
                    },
                }),
                announce: self.announce,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Mode {
        let cli =
            Cli::try_parse_from(std::iter::once("adminsh").chain(args.iter().copied())).unwrap();
        cli.into_options().unwrap().mode
    }

    fn usage_error(args: &[&str]) -> String {
        let cli = Cli::try_parse_from(args).unwrap();
        match cli.into_options().unwrap_err() {
            Error::Usage(message) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arguments_after_the_script_are_the_scripts() {
        match parse(&["-C", "app", "fix", "--help", "-e", "x", "--list"]) {
            Mode::Release(ReleaseMode::Script { script, args }) => {
                assert_eq!(script, "fix");
                assert_eq!(args, ["--help", "-e", "x", "--list"]);
            }
            other => panic!("{other:?}"),
        }
        match parse(&["-e", "ARGS", "a", "--b"]) {
            Mode::Release(ReleaseMode::Eval { code, args }) => assert_eq!(
                (code.as_str(), args),
                ("ARGS", vec!["a".to_owned(), "--b".to_owned()])
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(&[]), Mode::Release(ReleaseMode::Console)));
        assert!(matches!(
            parse(&["--list"]),
            Mode::Release(ReleaseMode::List)
        ));
    }

    #[test]
    fn modes_take_no_script() {
        assert_eq!(
            usage_error(&["adminsh", "--check", "fix"]),
            "--check takes no script, but `fix` was given"
        );
        assert!(Cli::try_parse_from(["adminsh", "--list", "--check"]).is_err());
    }

    #[test]
    fn json_needs_a_run_and_completion_words_are_raw() {
        assert_eq!(
            usage_error(&["adminsh", "--json"]),
            "--json reports the run of a script or of -e CODE (or the config, with --env), and none was given"
        );
        assert!(Cli::try_parse_from(["adminsh", "--json", "--list"]).is_err());
        let options = Cli::try_parse_from(["adminsh", "--json", "fix", "--json"])
            .unwrap()
            .into_options()
            .unwrap();
        assert!(options.flags.json);
        assert!(
            matches!(options.mode, Mode::Release(ReleaseMode::Script { args, .. }) if args == ["--json"])
        );
        match parse(&["--complete-words", "--", "bash", "2", "adminsh", "-C", "x"]) {
            Mode::Complete { words } => assert_eq!(words, ["bash", "2", "adminsh", "-C", "x"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
