//! The command line, in two stages: `Cli` is the raw shape clap parses; `Options` is what the
//! rest of the program sees, with the mode chosen and checked.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::error::Error;
use crate::options::{
    Detach, Flags, Mode, Options, ReleaseMode, Request, RunOptions, Shards, Shell,
};
use crate::release::OpenOptions;
use crate::shard::Shard;

#[derive(Debug, Parser)]
#[command(
    name = "adminsh",
    version,
    about = "Run one-off admin processes against your app's release: committed Rhai scripts and a console, with the app's config and dependency isolation",
    after_help = "Exit codes: 0 success, 1 script or command failure, 2 usage error, n from exit(n), 130 interrupted (Ctrl-C), 148 paused (--pause), 255 target unreachable (-t).",
    max_term_width = 100,
    override_usage = "adminsh [OPTIONS] [SCRIPT [ARGS]...]"
)]
pub(crate) struct Cli {
    /// Evaluate CODE and print its value
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    pub eval: Option<String>,

    /// The release root [default: nearest ancestor with adminsh.toml, Procfile, .git, Gemfile, ...]
    #[arg(short = 'C', long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Read config from FILE too, above .env (repeatable; the process environment still wins)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// The stage [default: `$ADMINSH_STAGE`, else the manifest's, else development]
    #[arg(short = 's', long = "stage", value_name = "STAGE")]
    pub stage: Option<String>,

    /// Run code from outside the release root: a script, an import, a console :load
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

    /// Print the man page (roff), rendered from this command line's definition: what packaging
    /// installs as adminsh.1 (`adminsh --man-page | man -l -` reads it)
    #[arg(long, hide = true, conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "json", "targets"])]
    pub man_page: bool,

    /// What completion scripts call: `--complete-words -- SHELL CWORD WORDS...` prints the
    /// candidates for word CWORD of WORDS
    #[arg(long, hide = true, conflicts_with_all = ["list", "check", "env", "completions", "eval", "json"])]
    pub complete_words: bool,

    /// Run on target NAME of adminsh.toml (ssh or kubectl exec), in the release deployed there
    #[arg(short = 't', long = "target", value_name = "NAME", help_heading = "Remote", conflicts_with_all = ["completions", "complete_words", "man_page"])]
    pub target: Option<String>,

    /// With -t: run on every host of the target's `hosts`, one after another
    #[arg(long, requires = "target", help_heading = "Remote")]
    pub each: bool,

    /// With -t: run on every host of the target's `hosts`, N at a time; with --shards: run N
    /// shards at a time
    #[arg(long, value_name = "N", help_heading = "Remote", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: Option<u16>,

    /// Run the script as N worker processes, each walking a slice of its batches (with -t to a
    /// Job target: one Kubernetes Indexed Job of N pods)
    #[arg(long, value_name = "N", help_heading = "Maintenance", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::shard::MOST)), conflicts_with_all = ["eval", "json", "each", "list", "check", "env", "audit", "completions", "complete_words", "targets", "runs", "logs", "attach", "stop", "pause", "resume", "ui"])]
    pub shards: Option<u32>,

    /// List the targets of adminsh.toml and how each is reached
    #[arg(long, help_heading = "Modes", conflicts_with_all = ["target", "eval", "list", "check", "env", "audit", "completions", "complete_words", "json"])]
    pub targets: bool,

    /// List the stdlib's modules and functions; with MODULE (pg), its functions with examples
    #[arg(long, value_name = "MODULE", num_args = 0..=1, default_missing_value = "", help_heading = "Modes", conflicts_with_all = ["target", "eval", "list", "check", "env", "audit", "completions", "complete_words", "json", "targets"])]
    pub stdlib: Option<String>,

    /// Say on stderr which release runs, as run through target NAME
    #[arg(long, hide = true, value_name = "NAME")]
    pub announce: Option<String>,

    /// Run the script (or -e) in the background, detached from this terminal and connection:
    /// print its run id and return at once
    #[arg(long, help_heading = "Detached runs", conflicts_with_all = ["json", "list", "check", "env", "audit", "completions", "complete_words", "targets"])]
    pub detach: bool,

    /// List the recent detached runs: running, succeeded, failed, interrupted, paused or lost
    #[arg(long, help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach"])]
    pub runs: bool,

    /// Print what detached run ID has written so far
    #[arg(long, value_name = "ID", help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs"])]
    pub logs: Option<String>,

    /// Follow detached run ID's output until it ends, and exit with its exit code (Ctrl-C
    /// leaves it running)
    #[arg(long, value_name = "ID", help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs", "logs"])]
    pub attach: Option<String>,

    /// Stop detached run ID as Ctrl-C would (its commands' process groups; killed after a grace)
    #[arg(long, value_name = "ID", help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs", "logs", "attach"])]
    pub stop: Option<String>,

    /// Ask detached run ID to pause: it finishes the batch it is in (`db::batches`, `batches`),
    /// saves its cursor and ends as paused (exit 148)
    #[arg(long, value_name = "ID", help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs", "logs", "attach", "stop"])]
    pub pause: Option<String>,

    /// Resume paused run ID: its command line started again, detached, going on from its
    /// checkpoint (`--reason` gives a new reason)
    #[arg(long, value_name = "ID", help_heading = "Detached runs", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs", "logs", "attach", "stop", "pause", "dry_run", "read_only", "restart"])]
    pub resume: Option<String>,

    /// Serve a web view of the runs, the scripts and the audit log on 127.0.0.1: print its
    /// URL, which holds a token, and serve until Ctrl-C
    #[arg(long, help_heading = "Web view", conflicts_with_all = ["eval", "list", "check", "env", "audit", "completions", "complete_words", "targets", "json", "detach", "runs", "logs", "attach", "stop", "pause", "resume"])]
    pub ui: bool,

    /// With --ui: let the page stop, pause, resume and start runs (each audited)
    #[arg(long, requires = "ui", help_heading = "Web view")]
    pub allow_actions: bool,

    /// With --ui: the port on 127.0.0.1 [default: a free one]
    #[arg(long, value_name = "PORT", requires = "ui", help_heading = "Web view")]
    pub port: Option<u16>,

    /// The detached process of run ID (what --detach starts)
    #[arg(long, hide = true, value_name = "ID", conflicts_with_all = ["detach", "target"])]
    pub detached_run: Option<String>,

    /// A script path, or a name under the release's scripts/ (`fix_records`), then its arguments
    /// (`adminsh SCRIPT --help` shows the parameters a script declares)
    #[arg(
        value_name = "SCRIPT ARGS",
        trailing_var_arg = true,
        num_args = 0..
    )]
    pub script: Vec<OsString>,
}

/// A command line adminsh wrote itself (the one a paused run keeps for `--resume`), without
/// the program name, parsed and checked as one typed here.
pub(crate) fn parse(words: Vec<String>) -> Result<Options, Error> {
    let words = std::iter::once("adminsh".to_owned()).chain(words);
    Cli::try_parse_from(words)
        .map_err(|e| Error::usage(e.to_string()))?
        .into_options()
}

impl Cli {
    /// What the rest of the program sees: the mode the flags and words ask for, checked, and
    /// the flags every mode shares.
    pub(crate) fn into_options(mut self) -> Result<Options, Error> {
        let script = std::mem::take(&mut self.script);
        let words = text_words(script, self.eval.is_some(), self.complete_words)?;
        self.check_env_files()?;
        let mode = self.mode(words)?;
        check_json(self.json, &mode)?;
        let detach = detach(self.detach, self.detached_run.take(), &mode)?;
        self.check_shards(&mode)?;
        let shard = Shard::from_env(|name| std::env::var(name).ok()).map_err(Error::usage)?;
        Ok(Options {
            mode,
            flags: self.into_flags(detach, shard),
        })
    }

    /// The mode: completion's, a flag's of its own (which takes no script), else `-e`'s, a
    /// script's, or the console.
    fn mode(&mut self, words: Vec<String>) -> Result<Mode, Error> {
        let mut words = words.into_iter();
        let first = words.next();
        let rest: Vec<String> = words.collect();
        if self.complete_words {
            return Ok(Mode::Complete {
                words: first.into_iter().chain(rest).collect(),
            });
        }
        if let Some((flag, mode)) = self.flag_mode() {
            return match first {
                Some(script) => Err(Error::usage(format!(
                    "{flag} takes no script, but `{script}` was given"
                ))),
                None => Ok(mode),
            };
        }
        Ok(if let Some(code) = self.eval.take() {
            // With -e, every word is an argument of the code.
            Mode::Release(ReleaseMode::Eval {
                code,
                args: first.into_iter().chain(rest).collect(),
            })
        } else if let Some(script) = first {
            Mode::Release(ReleaseMode::Script { script, args: rest })
        } else {
            Mode::Release(ReleaseMode::Console)
        })
    }

    /// The mode a flag of its own asks for (`--list`, `--logs ID`, ...), first one wins, with
    /// the flag; `None` when none was given.
    fn flag_mode(&mut self) -> Option<(&'static str, Mode)> {
        let release = Mode::Release;
        Some(if let Some(shell) = self.completions.take() {
            ("--completions", Mode::Completions(shell))
        } else if self.man_page {
            ("--man-page", Mode::ManPage)
        } else if self.targets {
            ("--targets", Mode::Targets)
        } else if let Some(module) = self.stdlib.take() {
            (
                "--stdlib",
                Mode::Stdlib(Some(module).filter(|m| !m.is_empty())),
            )
        } else if self.list {
            ("--list", release(ReleaseMode::List))
        } else if self.check {
            ("--check", release(ReleaseMode::Check))
        } else if self.audit {
            ("--audit", release(ReleaseMode::Audit))
        } else if self.runs {
            ("--runs", release(ReleaseMode::Runs))
        } else if let Some(id) = self.logs.take() {
            ("--logs", release(ReleaseMode::Logs { id }))
        } else if let Some(id) = self.attach.take() {
            ("--attach", release(ReleaseMode::Attach { id }))
        } else if let Some(id) = self.stop.take() {
            ("--stop", release(ReleaseMode::Stop { id }))
        } else if let Some(id) = self.pause.take() {
            ("--pause", release(ReleaseMode::Pause { id }))
        } else if let Some(id) = self.resume.take() {
            ("--resume", release(ReleaseMode::Resume { id }))
        } else if self.ui {
            (
                "--ui",
                release(ReleaseMode::Ui {
                    allow_actions: self.allow_actions,
                    port: self.port.unwrap_or(0),
                }),
            )
        } else if self.env {
            ("--env", release(ReleaseMode::Env { all: self.all }))
        } else {
            return None;
        })
    }

    /// `--shards` splits a script's walks; `--parallel` paces `--each` or the shards.
    fn check_shards(&self, mode: &Mode) -> Result<(), Error> {
        if self.parallel.is_some() && self.target.is_none() && self.shards.is_none() {
            return Err(Error::usage(
                "--parallel N runs N hosts at once with -t, or N shards at once with --shards",
            ));
        }
        let script = matches!(mode, Mode::Release(ReleaseMode::Script { .. }));
        if self.shards.is_some() && !script {
            return Err(Error::usage(
                "--shards N runs a script as N workers: name the script",
            ));
        }
        Ok(())
    }

    /// The flags every mode shares.
    fn into_flags(self, detach: Detach, shard: Option<Shard>) -> Flags {
        Flags {
            release: OpenOptions {
                dir: self.dir,
                env_files: self.env_files,
                stage: self.stage,
            },
            json: self.json,
            run: RunOptions {
                dry_run: self.dry_run,
                read_only: self.read_only,
                yes: self.yes,
                restart: self.restart,
                wait: self.wait,
                reason: self.reason,
                allow_outside_release: self.allow_outside_release,
                shards: self.shards.map(|count| Shards {
                    count,
                    parallel: self.parallel.map(u32::from),
                }),
                shard,
            },
            remote: self.target.map(|target| Request {
                target,
                each: match (self.parallel.filter(|_| self.shards.is_none()), self.each) {
                    (Some(n), _) => Some(usize::from(n)),
                    (None, true) => Some(1),
                    (None, false) => None,
                },
            }),
            announce: self.announce,
            detach,
        }
    }
}

/// `--json`, which reports a script's or `-e`'s run, or the config with `--env`.
fn check_json(json: bool, mode: &Mode) -> Result<(), Error> {
    let reported = matches!(
        mode,
        Mode::Release(
            ReleaseMode::Script { .. } | ReleaseMode::Eval { .. } | ReleaseMode::Env { .. }
        )
    );
    if json && !reported {
        return Err(Error::usage(
            "--json reports the run of a script or of -e CODE (or the config, with --env), and none was given",
        ));
    }
    Ok(())
}

impl Cli {
    /// `--env-file` paths travel as text to a target or a detached run: one that is not UTF-8
    /// is refused rather than changed.
    fn check_env_files(&self) -> Result<(), Error> {
        if !(self.target.is_some() || self.detach) {
            return Ok(());
        }
        let Some(file) = self.env_files.iter().find(|f| f.to_str().is_none()) else {
            return Ok(());
        };
        let to = if self.target.is_some() {
            "sent to the target"
        } else {
            "passed to the detached run"
        };
        Err(Error::usage(format!(
            "--env-file `{}` is not UTF-8, so it cannot be {to}",
            crate::release::escape_bytes(file.as_os_str().as_encoded_bytes())
        )))
    }
}

/// `--detach` (or the hidden `--detached-run ID`), which only a script or `-e` can be.
fn detach(start: bool, run: Option<String>, mode: &Mode) -> Result<Detach, Error> {
    let detach = match (start, run) {
        (_, Some(id)) => Detach::Run(id),
        (true, None) => Detach::Start,
        (false, None) => Detach::No,
    };
    let runs_code = matches!(
        mode,
        Mode::Release(ReleaseMode::Script { .. } | ReleaseMode::Eval { .. })
    );
    if detach != Detach::No && !runs_code {
        return Err(Error::usage(
            "--detach runs a script or -e CODE in the background, and none was given (the console needs a terminal)",
        ));
    }
    Ok(detach)
}

/// The script and its arguments as text. `ARGS` promises them exactly as given, so a word
/// that is not UTF-8 is refused rather than changed (the escaped bytes and its position say
/// which); completion takes what the shell has, as well as it can.
fn text_words(words: Vec<OsString>, eval: bool, complete: bool) -> Result<Vec<String>, Error> {
    let mut text = Vec::with_capacity(words.len());
    for (i, word) in words.into_iter().enumerate() {
        match word.into_string() {
            Ok(word) => text.push(word),
            Err(word) if complete => text.push(word.to_string_lossy().into_owned()),
            Err(word) => {
                let shown = crate::release::escape_bytes(word.as_encoded_bytes());
                let which = match (eval, i) {
                    (true, i) => format!("argument {} of -e", i + 1),
                    (false, 0) => "the script name".to_owned(),
                    (false, i) => format!("argument {i} of the script"),
                };
                return Err(Error::usage(format!(
                    "{which}, `{shown}`, is not UTF-8: ARGS holds arguments exactly as given, as \
                     text, so adminsh refuses one it would have to change"
                )));
            }
        }
    }
    Ok(text)
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

    // The command line a target receives (`-t`) parses there as it did here.

    fn options(args: &[&str]) -> crate::options::Options {
        let cli = Cli::try_parse_from(std::iter::once("adminsh").chain(args.iter().copied()));
        cli.unwrap().into_options().unwrap()
    }

    /// The argv forwarded for this command line, as run through target `name`.
    fn forward(options: &crate::options::Options, name: &str, stage: Option<&str>) -> Vec<String> {
        let crate::options::Mode::Release(mode) = &options.mode else {
            panic!("{options:?} runs no release");
        };
        crate::command_line::forwarded(mode, &options.flags, name, stage)
    }

    #[test]
    fn the_forwarded_argv_repeats_the_command_line_but_the_target() {
        let o = options(&[
            "-C",
            "app",
            "-t",
            "prod",
            "--parallel",
            "3",
            "-s",
            "qa",
            "fix",
            "--each",
            "-t",
            "x",
        ]);
        assert_eq!(
            o.flags.remote,
            Some(crate::options::Request {
                target: "prod".into(),
                each: Some(3)
            })
        );
        assert_eq!(
            forward(&o, "prod", Some("production")),
            [
                "--announce=prod",
                "--stage=qa",
                "--",
                "fix",
                "--each",
                "-t",
                "x"
            ]
        );
        let o = options(&[
            "-t",
            "prod",
            "--each",
            "--json",
            "-e",
            "ARGS",
            "-n",
            "--env-file",
            "e",
        ]);
        assert_eq!(o.flags.remote.as_ref().unwrap().each, Some(1));
        assert_eq!(
            forward(&o, "prod", Some("production")),
            [
                "--announce=prod",
                "--stage=production",
                "--env-file=e",
                "--json",
                "--dry-run",
                "--eval=ARGS",
                "--"
            ]
        );
        let o = options(&[
            "--target",
            "prod",
            "--env",
            "--all",
            "--yes",
            "--reason",
            "ticket 12",
        ]);
        assert_eq!(o.flags.remote.as_ref().unwrap().each, None);
        assert_eq!(
            forward(&o, "prod", None),
            [
                "--announce=prod",
                "--yes",
                "--reason=ticket 12",
                "--env",
                "--all"
            ]
        );
        assert_eq!(forward(&options(&["-t", "p"]), "p", None), ["--announce=p"]);
        assert_eq!(
            forward(&options(&["-t", "p", "--list"]), "p", None),
            ["--announce=p", "--list"]
        );
    }

    #[test]
    fn detached_runs_are_forwarded_too() {
        assert_eq!(
            forward(
                &options(&["-t", "p", "--detach", "-y", "fix", "x"]),
                "p",
                None
            ),
            ["--announce=p", "--yes", "--detach", "--", "fix", "x"]
        );
        for (flag, word) in [
            ("--runs", "--runs"),
            ("--logs=fix-1", "--logs=fix-1"),
            ("--attach=-x", "--attach=-x"),
            ("--stop=fix-1", "--stop=fix-1"),
            ("--pause=fix-1", "--pause=fix-1"),
            ("--resume=fix-1", "--resume=fix-1"),
            ("--ui", "--ui"),
        ] {
            assert_eq!(
                forward(&options(&["-t", "p", flag]), "p", None),
                ["--announce=p", word]
            );
        }
    }

    /// What the remote side sees of a command line: everything but the target.
    fn seen(o: &crate::options::Options) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            o.mode,
            o.flags.release.stage,
            o.flags.release.env_files,
            o.flags.run.reason,
            o.flags.detach
        )
    }

    /// Values that start with `-` (or look like flags, or hold `=`) parse on the target as they
    /// did here: the forwarded argv, parsed back, means the same.
    #[test]
    fn forwarded_values_round_trip_whatever_they_start_with() {
        let values = [
            "-1",
            "-x",
            "-p",
            "--",
            "-",
            "--help",
            "-e",
            "--stage=y",
            "=",
            "a=b",
            "",
            " spaced ",
            "-t",
            "x",
        ];
        for value in values {
            let lines: [Vec<String>; 9] = [
                vec![format!("-e={value}")],
                vec![format!("-s={value}"), "fix".into()],
                vec![format!("--reason={value}"), "--list".into()],
                vec![format!("--env-file={value}"), "--env".into()],
                vec![
                    "-e".into(),
                    "ARGS".into(),
                    "--".into(),
                    value.into(),
                    value.into(),
                ],
                vec!["--".into(), value.into(), value.into()],
                vec![format!("--attach={value}")],
                vec![format!("--logs={value}")],
                vec![
                    "--detach".into(),
                    format!("-e={value}"),
                    "--".into(),
                    value.into(),
                ],
            ];
            for line in lines {
                let mut args: Vec<&str> = vec!["-t", "prod"];
                args.extend(line.iter().map(String::as_str));
                // Some are no command line here either (`--env-file=` names no file).
                let Ok(here) =
                    Cli::try_parse_from(std::iter::once("adminsh").chain(args.iter().copied()))
                else {
                    assert_eq!((line[0].as_str(), value), ("--env-file=", ""));
                    continue;
                };
                let here = here.into_options().unwrap();
                let argv = forward(&here, value, None);
                let there = options(&argv.iter().map(String::as_str).collect::<Vec<_>>());
                let why = format!("{line:?} forwarded as {argv:?}");
                assert_eq!(seen(&there), seen(&here), "{why}");
                assert_eq!(there.flags.announce.as_deref(), Some(value), "{why}");
            }
        }
    }

    /// The detached process of a run parses its command line as the one that started it did.
    #[test]
    fn a_detached_runs_own_command_line_means_the_same() {
        for value in ["-x", "--", "a=b", "", "--detach", "-t"] {
            let (dir, stage) = (format!("-C={value}x"), format!("-s={value}"));
            let (reason, code) = (format!("--reason={value}"), format!("-e={value}"));
            let lines: [Vec<&str>; 3] = [
                vec!["--detach", &dir, &stage, &reason, "fix", value, "--json"],
                vec![
                    "-y",
                    "--detach",
                    "-n",
                    "--env-file",
                    "e",
                    &code,
                    "--",
                    value,
                ],
                vec![
                    "--detach",
                    "--wait",
                    "--restart",
                    "--read-only",
                    "--",
                    "fix",
                ],
            ];
            for line in lines {
                let here = options(&line);
                let Mode::Release(mode) = &here.mode else {
                    panic!("{line:?} runs no release");
                };
                let argv = crate::runs::child_argv("fix-1", mode, &here.flags);
                let there = Cli::try_parse_from(std::iter::once("adminsh".into()).chain(argv))
                    .unwrap()
                    .into_options()
                    .unwrap();
                assert_eq!(there.flags.detach, Detach::Run("fix-1".into()), "{line:?}");
                let mut seen_here = here.flags.clone();
                seen_here.detach = Detach::Run("fix-1".into());
                assert_eq!(format!("{:?}", there.mode), format!("{:?}", here.mode));
                assert_eq!(format!("{:?}", there.flags), format!("{seen_here:?}"));
            }
        }
    }

    #[test]
    fn a_target_directory_starting_with_a_dash_stays_a_directory() {
        use crate::release::{Host, Ssh, Target, Via};
        let destination = Host::parse("app1", None, None).unwrap();
        let mut target = Target {
            dir: None,
            program: "adminsh".into(),
            stage: None,
            via: Via::Ssh(Ssh {
                hosts: vec![destination.clone()],
                destination,
                identity: None,
                options: Vec::new(),
            }),
        };
        for (dir, word) in [("-x", "./-x"), ("--dir", "./--dir"), ("~/app", "~/app")] {
            target.dir = Some(dir.into());
            let words = crate::remote::remote_words(&target, &[]);
            assert_eq!(words[1..3], ["-C", word]);
            let cli = clap::Parser::try_parse_from(&words[..3]).map(|c: Cli| c.dir);
            assert_eq!(cli.unwrap(), Some(word.into()));
        }
    }
}
