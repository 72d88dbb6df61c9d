//! A `Spec` as the duct expression that starts it. Each stage runs by the full path of its
//! program, in its own directory given explicitly (the release root, or a directory under it;
//! never whatever adminsh's working directory is), with the release environment plus the
//! stage's changes, and sees the name the script gave as argv[0]. Every stage gets a process
//! group of its own, so Ctrl-C and timeouts reach everything it starts.
//!
//! A stage whose directory is the one adminsh runs in is started without a change of directory.
//! std sets a child's directory with `posix_spawn` only where it finds
//! `posix_spawn_file_actions_addchdir_np` at run time (dlsym), which a statically linked glibc
//! binary finds only because it exports it (`build.rs`, and `ADDCHDIR` below); elsewhere a
//! change of directory would cost a fork + exec.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use super::{Error, Launch, Spec, Stage, terminal};

/// std looks `posix_spawn_file_actions_addchdir_np` up at run time; referenced here, it is
/// linked into the static binary, which exports it (`build.rs`), so the lookup finds it. (Not
/// in a dynamic build, where glibc has it and referencing it would require glibc 2.29.)
#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
#[used]
static ADDCHDIR: unsafe extern "C" fn(
    *mut libc::posix_spawn_file_actions_t,
    *const libc::c_char,
) -> libc::c_int = libc::posix_spawn_file_actions_addchdir_np;

/// The expression for `spec`; with `foreground`, its (only) stage takes the terminal.
pub(super) fn expression(
    spec: &Spec,
    launch: &Launch<'_>,
    foreground: bool,
) -> Result<duct::Expression, Error> {
    let path = launch
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let here = std::env::current_dir().ok();
    let mut expression: Option<duct::Expression> = None;
    for stage in &spec.stages {
        let dir = directory(launch, stage);
        let program =
            (launch.resolve)(&stage.program, path, &dir).ok_or_else(|| Error::NotFound {
                command: launch.shown(spec),
                program: stage.program.clone(),
            })?;
        // The program runs by its full path, but sees the name the script gave as argv[0].
        let name = stage.program.clone();
        let step = duct::cmd(program, &stage.args);
        let step = if here.as_ref() == Some(&dir) {
            step
        } else {
            step.dir(dir)
        };
        let step = if stage.env.is_empty() {
            step.full_env(launch.env.iter().cloned())
        } else {
            step.full_env(stage_env(launch.env, &stage.env))
        };
        let step = step.before_spawn(move |command| {
            command.arg0(&name);
            Ok(())
        });
        expression = Some(match expression {
            Some(left) => left.pipe(step),
            None => step,
        });
    }
    let mut expression = expression
        .expect("a command has at least one stage")
        .unchecked()
        .before_spawn(move |command| {
            command.process_group(0);
            if foreground {
                terminal::foreground_in_child(command);
            }
            Ok(())
        });
    if let Some(stdin) = &spec.stdin {
        expression = expression.stdin_bytes(stdin.clone());
    }
    Ok(expression)
}

/// Where a stage runs: the release root, or its `dir` taken relative to the root.
fn directory(launch: &Launch<'_>, stage: &Stage) -> PathBuf {
    match &stage.dir {
        Some(dir) => launch.root.join(dir),
        None => launch.root.to_path_buf(),
    }
}

/// The release environment with a stage's own changes applied.
fn stage_env(
    base: &[(OsString, OsString)],
    changes: &[(String, Option<String>)],
) -> Vec<(OsString, OsString)> {
    let mut env = base.to_vec();
    for (key, value) in changes {
        env.retain(|(k, _)| k != key.as_str());
        if let Some(value) = value {
            env.push((key.into(), value.into()));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_changes_the_release_environment_only_for_itself() {
        let base = [("A".into(), "1".into()), ("B".into(), "2".into())];
        let env = stage_env(&base, &[("A".into(), Some("x".into())), ("B".into(), None)]);
        assert_eq!(env, [("A".into(), "x".into())]);
    }
}
