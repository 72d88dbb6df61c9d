//! What the command line asked for, once checked: the mode, how to open the release, how to
//! run. `cli` builds it from the raw arguments; everything below reads it and nothing below
//! needs clap's raw shape.

use crate::release::OpenOptions;

/// The shells `--completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// What adminsh was asked to do.
#[derive(Debug)]
pub(crate) enum Mode {
    /// `--completions SHELL`.
    Completions(Shell),
    /// `--man-page`: the man page, in roff.
    ManPage,
    /// `--complete-words`: the words after it.
    Complete { words: Vec<String> },
    /// `--targets`.
    Targets,
    /// `--stdlib [MODULE]`: the stdlib modules listed, or one module's functions.
    Stdlib(Option<String>),
    /// Everything that runs against a release, here or on a target.
    Release(ReleaseMode),
}

/// The modes that open a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReleaseMode {
    Script {
        script: String,
        args: Vec<String>,
    },
    Eval {
        code: String,
        args: Vec<String>,
    },
    Console,
    List,
    Check,
    Env {
        all: bool,
    },
    Audit,
    /// `--runs`: the recent detached runs.
    Runs,
    /// `--logs ID`: what a detached run wrote.
    Logs {
        id: String,
    },
    /// `--attach ID`: follow a detached run until it ends.
    Attach {
        id: String,
    },
    /// `--stop ID`: stop a detached run as Ctrl-C would.
    Stop {
        id: String,
    },
    /// `--pause ID`: ask a detached run to pause at the end of a batch.
    Pause {
        id: String,
    },
    /// `--resume ID`: start a paused run's command line again, detached.
    Resume {
        id: String,
    },
    /// `--ui`: serve the web view on 127.0.0.1 (`port` 0: a free one).
    Ui {
        allow_actions: bool,
        port: u16,
    },
}

/// The whole command line: what to do, and the flags that say how.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) mode: Mode,
    pub(crate) flags: Flags,
}

/// How to open the release and run in it, whatever the mode.
#[derive(Debug, Clone)]
pub(crate) struct Flags {
    pub(crate) release: OpenOptions,
    /// `--json`: report a script's or `-e`'s run (or the config) as JSON on stdout.
    pub(crate) json: bool,
    pub(crate) run: RunOptions,
    /// `-t NAME` (with `--each`, `--parallel N`): run on that target instead of here.
    pub(crate) remote: Option<Request>,
    /// `--announce NAME`: this run came through target NAME (the remote side of `-t`).
    pub(crate) announce: Option<String>,
    /// `--detach`: a script or `-e` runs in the background, in a run directory of its own.
    pub(crate) detach: Detach,
}

/// Whether a script or `-e` runs attached to this terminal, or as a detached run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Detach {
    /// In the foreground, as usual.
    #[default]
    No,
    /// `--detach`: start a detached run and return.
    Start,
    /// The detached process itself (the hidden `--detached-run ID`): run ID's script, its
    /// output going to its run directory.
    Run(String),
}

/// How scripts, `-e` and the console run: dry, read-only, answering yes.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    pub(crate) dry_run: bool,
    pub(crate) read_only: bool,
    pub(crate) yes: bool,
    pub(crate) restart: bool,
    pub(crate) wait: bool,
    pub(crate) reason: Option<String>,
    /// `--allow-outside-release`: a script, an `import` or a console `:load` may run code from
    /// outside the release root.
    pub(crate) allow_outside_release: bool,
    /// `--shards N` (with `--parallel P`): the script runs as N worker processes, each walking
    /// a slice of its walks.
    pub(crate) shards: Option<Shards>,
    /// This process is one of those workers (`shard.rs`, from the environment).
    pub(crate) shard: Option<crate::shard::Shard>,
}

/// `--shards N --parallel P`: how many slices, and how many run at once (all, unless said).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shards {
    pub(crate) count: u32,
    pub(crate) parallel: Option<u32>,
}

/// `-t NAME`, with `--each` / `--parallel N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) target: String,
    /// `Some(n)`: on every host of the target, `n` at a time.
    pub(crate) each: Option<usize>,
}
