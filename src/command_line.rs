//! The inverse of parsing: a checked command line (`Options`' mode and flags) written back as
//! the argv that means the same, for another adminsh to parse: a target's (`-t`, `forwarded`)
//! and a detached run's own process (`command_line`). Beside `options.rs`, so `remote/` and
//! `runs/` both point down to it.

use crate::options::{Detach, Flags, ReleaseMode};

/// The argv the remote adminsh runs, without the program name: the same mode, script and
/// arguments as this command line, announced as run through target `name`.
///
/// Every option value travels as `--flag=value`, one word, so a value that starts with `-`
/// (`-s=-p`, `--reason=-x`, `-e=-1`) parses there as it did here instead of as a flag.
pub(crate) fn forwarded(
    mode: &ReleaseMode,
    options: &Flags,
    name: &str,
    stage: Option<&str>,
) -> Vec<String> {
    let mut argv = vec![format!("--announce={name}")];
    argv.extend(command_line(mode, options, stage));
    argv
}

/// The argv of another adminsh process on this machine (a detached run's, a shard's): the
/// release directory as given (`--dir`, whose name need not be UTF-8), then
/// [`command_line`].
pub(crate) fn here(mode: &ReleaseMode, options: &Flags) -> Vec<std::ffi::OsString> {
    let mut argv = Vec::new();
    if let Some(dir) = &options.release.dir {
        let mut word = std::ffi::OsString::from("--dir=");
        word.push(dir);
        argv.push(word);
    }
    argv.extend(
        command_line(mode, options, None)
            .into_iter()
            .map(std::ffi::OsString::from),
    );
    argv
}

/// The command line for this mode and these flags, without the program name, the target and
/// the release directory (`-C`), every value as `--flag=value`: what a target's adminsh runs,
/// and what a detached run's own process runs. `stage` is used when the flags name none.
pub(crate) fn command_line(
    mode: &ReleaseMode,
    options: &Flags,
    stage: Option<&str>,
) -> Vec<String> {
    let with = |flag: &str, value: &str| format!("{flag}={value}");
    let mut argv = Vec::new();
    if let Some(stage) = options.release.stage.as_deref().or(stage) {
        argv.push(with("--stage", stage));
    }
    for file in &options.release.env_files {
        argv.push(with("--env-file", &file.display().to_string()));
    }
    if options.run.allow_outside_release {
        argv.push("--allow-outside-release".into());
    }
    if options.json {
        argv.push("--json".into());
    }
    let run = &options.run;
    for (set, flag) in [
        (run.dry_run, "--dry-run"),
        (run.read_only, "--read-only"),
        (run.yes, "--yes"),
        (run.restart, "--restart"),
        (run.wait, "--wait"),
    ] {
        if set {
            argv.push(flag.into());
        }
    }
    if let Some(reason) = &run.reason {
        argv.push(with("--reason", reason));
    }
    if let Some(shards) = run.shards {
        argv.push(with("--shards", &shards.count.to_string()));
        if let Some(parallel) = shards.parallel {
            argv.push(with("--parallel", &parallel.to_string()));
        }
    }
    if options.detach == Detach::Start {
        argv.push("--detach".into());
    }
    match mode {
        ReleaseMode::Script { script, args } => {
            argv.extend(["--".to_owned(), script.clone()]);
            argv.extend(args.iter().cloned());
        }
        ReleaseMode::Eval { code, args } => {
            argv.extend([with("--eval", code), "--".to_owned()]);
            argv.extend(args.iter().cloned());
        }
        ReleaseMode::Console => {}
        ReleaseMode::List => argv.push("--list".into()),
        ReleaseMode::Check => argv.push("--check".into()),
        ReleaseMode::Audit => argv.push("--audit".into()),
        ReleaseMode::Env { all } => {
            argv.push("--env".into());
            if *all {
                argv.push("--all".into());
            }
        }
        ReleaseMode::Runs => argv.push("--runs".into()),
        ReleaseMode::Logs { id } => argv.push(with("--logs", id)),
        ReleaseMode::Attach { id } => argv.push(with("--attach", id)),
        ReleaseMode::Stop { id } => argv.push(with("--stop", id)),
        ReleaseMode::Pause { id } => argv.push(with("--pause", id)),
        ReleaseMode::Resume { id } => argv.push(with("--resume", id)),
        ReleaseMode::Ui {
            allow_actions,
            port,
        } => {
            argv.push("--ui".into());
            if *allow_actions {
                argv.push("--allow-actions".into());
            }
            if *port != 0 {
                argv.push(with("--port", &port.to_string()));
            }
        }
    }
    argv
}
