//! `cmd(...)`, `sh(...)` and the command value scripts build and run: argv only, lazy, each
//! builder method returning a new command and leaving its receiver as it was.

use std::rc::Rc;
use std::time::Duration;

use rhai::{Array, Blob, Dynamic, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext};

use super::callback::Callback;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::limits::MAX_TIMEOUT_SECONDS;
use crate::process::{self, Captured, Output, Spec, Stage};
use crate::session::Session;

/// A command as scripts see it: an immutable value, so copies (a script may hold many, in an
/// array) share one description.
#[derive(Debug, Clone)]
pub(crate) struct Cmd(pub(crate) Rc<Spec>);

impl Cmd {
    fn new(program: &str, args: Vec<String>) -> Self {
        Cmd(Rc::new(Spec {
            stages: vec![Stage::new(program, args)],
            stdin: None,
            timeout: None,
            checked: true,
            read_only: false,
        }))
    }

    /// `sh -c script`: the explicit shell form.
    pub(crate) fn shell(script: &str) -> Self {
        Cmd::new("sh", vec!["-c".into(), script.into()])
    }

    fn with(&self, change: impl FnOnce(&mut Spec)) -> Self {
        let mut spec = Spec::clone(&self.0);
        change(&mut spec);
        Cmd(Rc::new(spec))
    }

    /// The command with `change` made to every stage of its pipeline.
    fn each_stage(&self, change: impl Fn(&mut Stage)) -> Self {
        self.with(|s| s.stages.iter_mut().for_each(&change))
    }

    fn last_stage(spec: &mut Spec) -> &mut Stage {
        spec.stages.last_mut().expect("a command has a stage")
    }
}

/// One argv word from a script value: strings, numbers, booleans and characters only.
fn word(value: &Dynamic, what: &str) -> Result<String, Box<EvalAltResult>> {
    if value.is_string() || value.is_int() || value.is_float() || value.is_bool() || value.is_char()
    {
        Ok(value.to_string())
    } else {
        Err(runtime_error(format!(
            "{what} must be a string or a number, not {}",
            crate::kind::of(value)
        )))
    }
}

fn words(values: Array, what: &str) -> Result<Vec<String>, Box<EvalAltResult>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| word(v, &format!("{what} {}", i + 1)))
        .collect()
}

/// The command family: building a command (each row returns a new one), showing it, running it.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    host.engine.register_type_with_name::<Cmd>("Cmd");
    building(host, session);
    rows!(host, session;
        "to_string", "cmd: Cmd -> String", "The command line, shell-quoted, secrets masked",
            move |c: &mut Cmd| c.0.shown(&session.redactor());
        "to_debug", "cmd: Cmd -> String", "The command line, for debug()",
            move |c: &mut Cmd| format!("cmd({})", c.0.shown(&session.redactor()));
        "run", "cmd: Cmd -> int", "Runs it, output to the terminal; returns the exit status",
            move |c: &mut Cmd| run(&session, c);
        "read", "cmd: Cmd -> String", "Runs it; returns stdout, trailing newlines trimmed",
            move |c: &mut Cmd| read(&session, c);
        "read_bytes", "cmd: Cmd -> Blob", "Runs it; returns stdout byte for byte",
            move |c: &mut Cmd| read_bytes(&session, c);
        "lines", "cmd: Cmd -> Array", "Runs it; returns the lines of stdout",
            move |c: &mut Cmd| lines(&session, c);
        "output", "cmd: Cmd -> Map", "Runs it; returns #{status, stdout, stderr}",
            move |c: &mut Cmd| output(&session, c);
        "each_line", "cmd: Cmd, callback: FnPtr -> int",
            "Runs it, calling `callback` per stdout line (false stops); returns the exit status",
            move |ctx: NativeCallContext, c: &mut Cmd, each: FnPtr| each_line(&ctx, &session, c, &each);
    );
}

/// `cmd`, `sh`, `app` and the builder methods.
fn building(host: &mut Host, session: &Rc<Session>) {
    const APP: &str =
        "Like cmd, run through the app's runner (bundle exec, poetry run, uv run, adminsh.toml)";
    rows!(host, session;
        "cmd", "prog: String -> Cmd",
            "A command running `prog` (found on the release's PATH) with no arguments",
            |program: &str| Cmd::new(program, Vec::new());
        "cmd", "prog: String, args: Array -> Cmd",
            "A command running `prog` with these arguments (strings, numbers, booleans)",
            |program: &str, args: Array| -> RhaiResult<Cmd> {
                Ok(Cmd::new(program, words(args, "argument")?))
            };
        "sh", "script: String -> Cmd", "The explicit shell form: `sh -c script`", Cmd::shell;
        "app", "prog: String -> Cmd", APP, move |program: &str| app(&session, program, Vec::new());
        "app", "prog: String, args: Array -> Cmd", APP,
            move |program: &str, args: Array| -> RhaiResult<Cmd> {
                Ok(app(&session, program, words(args, "argument")?))
            };
        "arg", "cmd: Cmd, arg: ? -> Cmd", "The command with one more argument",
            |c: &mut Cmd, arg: Dynamic| -> RhaiResult<Cmd> {
                let arg = word(&arg, "argument")?;
                Ok(c.with(|s| Cmd::last_stage(s).args.push(arg)))
            };
        "args", "cmd: Cmd, args: Array -> Cmd", "The command with more arguments",
            |c: &mut Cmd, args: Array| -> RhaiResult<Cmd> {
                let args = words(args, "argument")?;
                Ok(c.with(|s| Cmd::last_stage(s).args.extend(args)))
            };
        "env", "cmd: Cmd, key: String, value: ? -> Cmd", "The command with an environment variable set",
            |c: &mut Cmd, key: &str, value: Dynamic| -> RhaiResult<Cmd> {
                let value = word(&value, "an env value")?;
                Ok(c.each_stage(|stage| stage.env.push((key.to_owned(), Some(value.clone())))))
            };
        "env_remove", "cmd: Cmd, key: String -> Cmd", "The command with an environment variable removed",
            |c: &mut Cmd, key: &str| c.each_stage(|stage| stage.env.push((key.to_owned(), None)));
        "dir", "cmd: Cmd, path: String -> Cmd", "The command running in `path` (relative to the release root)",
            |c: &mut Cmd, dir: &str| c.each_stage(|stage| stage.dir = Some(dir.into()));
        "stdin", "cmd: Cmd, text: String -> Cmd", "The command with `text` fed to its stdin",
            |c: &mut Cmd, text: &str| c.with(|s| s.stdin = Some(text.as_bytes().to_vec()));
        "stdin", "cmd: Cmd, bytes: Blob -> Cmd", "The command with `bytes` fed to its stdin",
            |c: &mut Cmd, bytes: Blob| c.with(|s| s.stdin = Some(bytes));
        "pipe", "cmd: Cmd, next: Cmd -> Cmd", "A pipeline: this command's stdout into `next`",
            |c: &mut Cmd, next: Cmd| c.with(|s| s.stages.extend(next.0.stages.iter().cloned()));
        "timeout", "cmd: Cmd, seconds: int -> Cmd", "The command, stopped if it runs longer than `seconds`",
            |c: &mut Cmd, seconds: rhai::INT| timeout(c, seconds as f64, &seconds.to_string());
        "timeout", "cmd: Cmd, seconds: float -> Cmd", "The command, stopped if it runs longer than `seconds`",
            |c: &mut Cmd, seconds: rhai::FLOAT| {
                timeout(c, seconds, &Dynamic::from_float(seconds).to_string())
            };
        "read_only", "cmd: Cmd -> Cmd",
            "The command, marked as changing nothing: it runs in a dry run and in read-only mode",
            |c: &mut Cmd| c.with(|s| s.read_only = true);
        "unchecked", "cmd: Cmd -> Cmd", "The command, with a non-zero exit not an error",
            |c: &mut Cmd| c.with(|s| s.checked = false);
    );
}

fn run(session: &Session, c: &Cmd) -> RhaiResult<rhai::INT> {
    let finished = session.run(&c.0, Output::Inherit).map_err(into_rhai)?;
    Ok(finished.status.into())
}

fn read(session: &Session, c: &Cmd) -> RhaiResult<ImmutableString> {
    let finished = session.run(&c.0, Output::Text).map_err(into_rhai)?;
    let mut text = decode(finished.stdout, session, &c.0);
    let kept = text.trim_end_matches(['\n', '\r']).len();
    if kept < text.len() {
        text.make_mut().truncate(kept);
    }
    Ok(text)
}

fn read_bytes(session: &Session, c: &Cmd) -> RhaiResult<Blob> {
    match session.run(&c.0, Output::Bytes).map_err(into_rhai)?.stdout {
        Captured::Bytes(bytes) => Ok(bytes),
        _ => Ok(Blob::new()),
    }
}

fn lines(session: &Session, c: &Cmd) -> RhaiResult<Array> {
    let finished = session.run(&c.0, Output::Text).map_err(into_rhai)?;
    let text = decode(finished.stdout, session, &c.0);
    Ok(text.lines().map(|l| Dynamic::from(l.to_owned())).collect())
}

fn output(session: &Session, c: &Cmd) -> RhaiResult<Map> {
    let finished = session.run(&c.0, Output::Both).map_err(into_rhai)?;
    let mut map = Map::new();
    map.insert("status".into(), rhai::INT::from(finished.status).into());
    map.insert(
        "stdout".into(),
        decode(finished.stdout, session, &c.0).into(),
    );
    map.insert(
        "stderr".into(),
        decode(finished.stderr, session, &c.0).into(),
    );
    Ok(map)
}

/// `.each_line(callback)`: each line of stdout as it comes (not UTF-8: said once, replaced); a
/// callback's error stops the command and is the script's error.
fn each_line(
    ctx: &NativeCallContext,
    session: &Session,
    c: &Cmd,
    each: &FnPtr,
) -> RhaiResult<rhai::INT> {
    let mut failure = None;
    let mut warned = false;
    let mut each = Callback::new(ctx, each);
    let mut callback = |line: &[u8]| {
        let line = line_text(session, &c.0, line, &mut warned);
        match each.call((line,)) {
            Ok(go_on) => go_on.as_bool().unwrap_or(true),
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    };
    let finished = session.run(&c.0, Output::Lines(&mut callback));
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(finished.map_err(into_rhai)?.status.into())
}

/// A line of a command's stdout as text: not UTF-8, its bad bytes replaced with U+FFFD and the
/// run told once (`warned` keeps whether it was).
pub(super) fn line_text(session: &Session, spec: &Spec, line: &[u8], warned: &mut bool) -> String {
    if let Ok(line) = std::str::from_utf8(line) {
        return line.to_owned();
    }
    if !*warned {
        *warned = true;
        warn_not_utf8(session, spec);
    }
    String::from_utf8_lossy(line).into_owned()
}

/// A command of the app: its runner's words, then the program and its arguments.
fn app(session: &Session, program: &str, args: Vec<String>) -> Cmd {
    match session.release.isolation().runner {
        Some(runner) => {
            let mut words = runner.words.into_iter();
            let first = words.next().unwrap_or_default();
            let rest = words.chain([program.to_owned()]).chain(args).collect();
            Cmd::new(&first, rest)
        }
        None => Cmd::new(program, args),
    }
}

/// `.timeout(seconds)`: more than nothing, at most `MAX_TIMEOUT_SECONDS`; `given` is the value
/// as the script wrote it (an integer keeps all its digits).
fn timeout(c: &Cmd, seconds: f64, given: &str) -> RhaiResult<Cmd> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(runtime_error(format!(
            "timeout must be a positive number of seconds, not {given}"
        )));
    }
    if seconds > MAX_TIMEOUT_SECONDS as f64 {
        return Err(runtime_error(format!(
            "timeout must be at most {MAX_TIMEOUT_SECONDS} seconds (365 days), not {given}; \
             leave .timeout() out for a command that may run as long as it needs"
        )));
    }
    // At least a nanosecond: a timeout that rounds to nothing is still a timeout.
    let duration = Duration::from_secs_f64(seconds).max(Duration::from_nanos(1));
    Ok(c.with(|s| s.timeout = Some(duration)))
}

/// Captured output as text. Bytes that were not UTF-8 became U+FFFD; say so once, pointing at
/// `.read_bytes()` for the exact bytes.
fn decode(captured: Captured, session: &Session, spec: &Spec) -> ImmutableString {
    let (text, first_invalid) = captured.into_text();
    if first_invalid.is_some() {
        warn_not_utf8(session, spec);
    }
    text
}

fn warn_not_utf8(session: &Session, spec: &Spec) {
    crate::log::emit(
        crate::log::Level::Warn,
        &format!(
            "`{}` printed bytes that are not UTF-8; they were replaced with U+FFFD (use .read_bytes() for the exact bytes)",
            spec.shown(&session.redactor())
        ),
    );
}

/// A command failure as a script sees it: catchable, except an interruption, which ends the
/// script (and the console's current input) whatever the script says.
pub(crate) fn into_rhai(error: process::Error) -> Box<EvalAltResult> {
    match error {
        process::Error::Interrupted { signal } => super::control::interrupted(signal),
        other => runtime_error(other.to_string()),
    }
}
