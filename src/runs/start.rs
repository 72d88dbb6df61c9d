//! `--detach`: everything that can stop the run is checked here, at the terminal, first: the
//! script found and inside the release, its parameters bound, required config present, a
//! reason given where one is required (asked for here, where there is a terminal), and no
//! `confirm()` or `ask()` left unanswerable without `--yes`. Then the run directory is made,
//! and the same adminsh binary is started again (`--detached-run ID` and the same command
//! line) in a session of its own, stdin `/dev/null`, so neither the terminal closing nor the
//! ssh connection going reaches it. adminsh waits only until that process says the run has
//! started (or why it could not: the script's lock held, say), then prints the run's id on
//! stdout and how to follow it on stderr, and returns.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

use super::child::STARTED;
use super::{Meta, RunDir, meta, questions};
use crate::audit;
use crate::diagnostic;
use crate::error::{EXIT_FAILURE, Error};
use crate::options::{Detach, Flags, ReleaseMode};
use crate::process::status;
use crate::release::Release;
use crate::report::Report;
use crate::run::{Code, Job, Prepared, prepare};

/// Starts `job` (the script or `-e` of `mode`) as a detached run and returns the exit code:
/// 0 once it has started, else the code of what stopped it.
pub(crate) fn detach(
    release: &Release,
    mode: &ReleaseMode,
    flags: &Flags,
    job: &Job,
) -> Result<i32, Error> {
    start(release, mode, flags, job, None).map(|(code, _)| code)
}

/// [`detach`], for a run that resumes the paused run `resumes`, if any: the exit code, and
/// the new run's id once it has started.
pub(super) fn start(
    release: &Release,
    mode: &ReleaseMode,
    flags: &Flags,
    job: &Job,
    resumes: Option<&str>,
) -> Result<(i32, Option<String>), Error> {
    let origin = std::env::current_dir().unwrap_or_default();
    let (name, text) = match prepare(release, job, &origin, &mut Report::default())? {
        Prepared::Run { name, text, .. } => (name, text),
        Prepared::Help(text) => {
            let _ = write!(std::io::stdout().lock(), "{text}");
            return Ok((0, None));
        }
        Prepared::Broken(text) => {
            crate::log::err_line(&text);
            return Ok((EXIT_FAILURE, None));
        }
    };
    if !job.options.yes {
        refuse_questions(&name, &text, release, &origin, "a detached run")?;
    }
    let reason = audit::reason(release, job.options.reason.as_deref())?;
    let run_name = match &job.code {
        Code::Script(_) => name.as_str(),
        Code::Eval(_) => "eval",
    };
    let run = super::create(release, run_name)?;
    let started = (|| {
        let mut record = record(release, &run, job, &name, reason.as_deref());
        record.via = Some(via(flags));
        record.resumes = resumes.map(str::to_owned);
        meta::save(&run.meta_path(), &record)?;
        keep_for_resume(&run, release, (mode, &name), flags, reason.as_deref())?;
        spawn(&run, mode, flags, reason)
    })();
    let started = match started {
        Ok(started) => started,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&run.path);
            return Err(e);
        }
    };
    match started {
        Started::Yes => {
            tell(&run, flags, &origin);
            Ok((0, Some(run.id)))
        }
        Started::No(code) => {
            let _ = std::fs::remove_dir_all(&run.path);
            Ok((code, None))
        }
    }
}

/// Keeps the command line as given (secrets included) in the run directory, readable by its
/// user only, for `--resume`: a resumed run must have the very arguments its checkpoint was
/// made with, and `meta.json` masks them. The script by its absolute path and the env files
/// too, so it means the same from any directory. The run removes it when it ends other than
/// paused.
fn keep_for_resume(
    run: &RunDir,
    release: &Release,
    (mode, name): (&ReleaseMode, &str),
    flags: &Flags,
    reason: Option<&str>,
) -> Result<(), Error> {
    let mut same = flags.clone();
    same.detach = Detach::Start;
    same.announce = None;
    same.json = false;
    same.run.reason = reason.map(str::to_owned);
    same.release.env_files = same
        .release
        .env_files
        .iter()
        .map(|file| std::path::absolute(file).unwrap_or_else(|_| file.clone()))
        .collect();
    let mode = match mode {
        ReleaseMode::Script { args, .. } => ReleaseMode::Script {
            script: name.to_owned(),
            args: args.clone(),
        },
        other => other.clone(),
    };
    let argv = crate::command_line::command_line(&mode, &same, Some(&release.stage));
    let text = serde_json::json!({ "argv": argv }).to_string() + "\n";
    super::write_private(&run.resume_path(), &text).map_err(Error::Failed)
}

/// How the operator reaches this release: `adminsh -t production`, `adminsh -C DIR`, or
/// `adminsh`.
fn via(flags: &Flags) -> String {
    match (&flags.announce, &flags.release.dir) {
        (Some(target), _) => format!("adminsh -t {target}"),
        (None, Some(dir)) => format!("adminsh -C {}", dir.display()),
        (None, None) => "adminsh".to_owned(),
    }
}

/// Refuses code that asks questions (`confirm()`, `ask()`) where `who` has no terminal to
/// answer them, naming each question's place; none asked, or `--yes`, passes.
pub(crate) fn refuse_questions(
    name: &str,
    text: &str,
    release: &Release,
    origin: &Path,
    who: &str,
) -> Result<(), Error> {
    let found = questions::find(text, Path::new(name), release.path());
    if found.is_empty() {
        return Ok(());
    }
    let mut message =
        format!("{who} has no terminal to answer questions, and this code asks them:");
    for question in &found {
        let source = diagnostic::shown(&question.source.display().to_string(), origin);
        message.push_str(&format!(
            "\n  {source}:{}: {}()",
            question.line, question.call
        ));
    }
    message.push_str(
        "\npass --yes to answer yes to confirm() and take ask()'s defaults, or run it attached",
    );
    Err(Error::usage(message))
}

/// The run's record as it starts: what, who, where; secrets masked.
fn record(release: &Release, run: &RunDir, job: &Job, name: &str, reason: Option<&str>) -> Meta {
    let redactor = release.config.borrow().redactor().clone();
    let (kind, script, code) = match &job.code {
        Code::Script(_) => {
            let path = Path::new(name);
            let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            let shown = real.strip_prefix(release.path()).unwrap_or(&real);
            ("script", Some(shown.display().to_string()), None)
        }
        Code::Eval(code) => ("eval", None, Some(redactor.redact(code).into_owned())),
    };
    Meta {
        id: run.id.clone(),
        kind: kind.into(),
        script,
        code,
        // Masked by value and by name (`--password=...`, the word after `--api-token`), as the
        // audit log masks them.
        args: redactor.words(&job.args),
        user: crate::who::user(),
        host: crate::who::host(),
        root: release.path().display().to_string(),
        version: release.identity().version.clone(),
        stage: release.stage.clone(),
        reason: reason.map(|r| redactor.redact(r).into_owned()),
        started: crate::clock::now_rfc3339(),
        ..Meta::default()
    }
}

enum Started {
    Yes,
    /// It stopped before its first line, with this exit code (it said why on stderr).
    No(i32),
}

/// Starts the detached process and relays what it says on stderr until it has started.
fn spawn(
    run: &RunDir,
    mode: &ReleaseMode,
    flags: &Flags,
    reason: Option<String>,
) -> Result<Started, Error> {
    let exe = std::env::current_exe().context("cannot find adminsh's own binary")?;
    let mut same = flags.clone();
    same.run.reason = reason;
    let mut command = Command::new(exe);
    command
        .args(child_argv(&run.id, mode, &same))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setsid(2) is async-signal-safe and changes only the new process, which becomes
    // the leader of a session (and process group) of its own, with no controlling terminal.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .context("cannot start the detached run's process")?;
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let mut stderr = std::io::stderr();
    let mut held = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let n = match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Failed(e.into())),
        };
        held.extend_from_slice(&buffer[..n]);
        while let Some(end) = held.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = held.drain(..=end).collect();
            if line == STARTED.as_bytes() {
                return Ok(Started::Yes);
            }
            let _ = stderr.write_all(&line);
        }
    }
    let _ = stderr.write_all(&held);
    let code = status::code(child.wait()?);
    // Nothing to say means it died without a word (a signal, say).
    Ok(Started::No(if code == 0 { EXIT_FAILURE } else { code }))
}

/// The argv (without the program) of run `id`'s detached process: the same command line, in
/// the same release, as the detached process of that run, neither detaching again nor
/// announcing a target.
pub(crate) fn child_argv(id: &str, mode: &ReleaseMode, flags: &Flags) -> Vec<OsString> {
    let mut same = flags.clone();
    same.detach = Detach::No;
    same.announce = None;
    let mut argv = vec![OsString::from(format!("--detached-run={id}"))];
    argv.extend(crate::command_line::here(mode, &same));
    argv
}

/// The run's id on stdout (for `id=$(adminsh --detach ...)`), and how to follow it on stderr.
fn tell(run: &RunDir, flags: &Flags, origin: &Path) {
    let pid = run
        .load()
        .ok()
        .and_then(|m| m.pid)
        .map_or(String::new(), |pid| format!(" (pid {pid})"));
    let output = diagnostic::shown(&run.output().display().to_string(), origin);
    let adminsh = via(flags);
    let id = &run.id;
    let lines = [
        (
            format!("{adminsh} --attach {id}"),
            "follow its output until it ends",
        ),
        (
            format!("{adminsh} --logs {id}"),
            "what it has written so far",
        ),
        (
            format!("{adminsh} --pause {id}"),
            "pause it at the end of a batch",
        ),
        (format!("{adminsh} --stop {id}"), "stop it as Ctrl-C would"),
        (format!("{adminsh} --runs"), "the recent runs"),
    ];
    let width = lines.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut text = match &flags.announce {
        Some(_) => format!("adminsh: started run {id}{pid}, detached\n"),
        None => format!("adminsh: started run {id}{pid}, detached; its output goes to {output}\n"),
    };
    for (command, what) in lines {
        text.push_str(&format!("  {command:width$}  # {what}\n"));
    }
    let _ = writeln!(std::io::stdout().lock(), "{id}");
    let _ = std::io::stderr().write_all(text.as_bytes());
}
