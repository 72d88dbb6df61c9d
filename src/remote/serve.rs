//! The target's side of `-t`: the hidden `--remote-argv PAYLOAD` mode decodes the argv the
//! local adminsh sent and runs it as if typed there, tied to the connection it came by, and the
//! hidden `--announce NAME` says which release ran it.

use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};

use crate::error::{EXIT_USAGE, interrupted_code};
use crate::release::Release;

/// The first line the remote adminsh writes on stderr (when that is not a terminal): what came
/// before it on the connection was ssh's or kubectl's, what comes after is adminsh's.
pub(crate) const STARTED: &str = "adminsh-remote: started\n";

/// The target's side of `-t`, before the command line is parsed: an argv of the shape
/// `adminsh [-C DIR] --remote-argv PAYLOAD` becomes the argv the local adminsh forwarded (in
/// release DIR), tied to the connection it came by; any other argv is returned as it is. `Err`
/// is the exit code when the payload cannot be served.
pub(crate) fn unwrap(args: Vec<OsString>) -> Result<Vec<OsString>, i32> {
    let (dir, payload) = match args.as_slice() {
        [_, flag, payload] if flag == "--remote-argv" => (None, payload),
        [_, c, dir, flag, payload] if c == "-C" && flag == "--remote-argv" => {
            (Some(dir.clone()), payload)
        }
        _ => return Ok(args),
    };
    if tie_to_parent() {
        return Err(interrupted_code(libc::SIGHUP));
    }
    let decoded = match payload
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the payload is not text"))
        .and_then(super::payload::decode)
    {
        Ok(args) => args,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "adminsh: --remote-argv: {e}");
            return Err(EXIT_USAGE);
        }
    };
    let mut stderr = std::io::stderr();
    if !stderr.is_terminal() {
        let _ = stderr.write_all(STARTED.as_bytes());
    }
    let mut argv = vec![OsString::from("adminsh")];
    if let Some(dir) = dir {
        argv.extend([OsStr::new("-C").to_owned(), dir]);
    }
    argv.extend(decoded);
    Ok(argv)
}

/// Asks for SIGHUP when the parent (the ssh session, which `exec` made our parent) exits: a
/// connection without a terminal sends no signal when the client goes, so this is how Ctrl-C
/// on the local side, which ends the client, reaches the admin process and what it started
/// (SIGHUP is handled like Ctrl-C: the running commands' groups get it, exit 129). Returns
/// true when the parent is gone already.
#[cfg(target_os = "linux")]
fn tie_to_parent() -> bool {
    // SAFETY: prctl(PR_SET_PDEATHSIG) and getppid only affect this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGHUP);
        // Orphaned before the request: reparented to init already.
        libc::getppid() == 1
    }
}

#[cfg(not(target_os = "linux"))]
fn tie_to_parent() -> bool {
    false
}

/// `adminsh: production: shop 4f2c9e1 at /srv/shop/releases/7 on app1, stage production`, on
/// stderr, before anything runs on a target.
pub(crate) fn announce(name: &str, release: &Release) {
    let version = (release.identity().version.as_deref())
        .map_or("(unknown version)".to_owned(), |v| {
            v.chars().take(12).collect()
        });
    let line = format!(
        "adminsh: {name}: {} {version} at {} on {}, stage {}\n",
        release.name,
        release.path().display(),
        crate::who::host(),
        release.stage
    );
    // One write, so the line travels whole.
    let _ = std::io::stderr().write_all(line.as_bytes());
}
