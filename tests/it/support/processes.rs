//! The processes under test, as /proc shows them: whether one is alive, whether a command
//! line runs (and under which parent); sending them signals; waiting for one to end.

use std::path::Path;
use std::process::{Child, Output};
use std::sync::mpsc;

use super::wait::PATIENCE;

/// The signals the tests send: Ctrl-C, a polite stop, a lost connection, and one that cannot
/// be caught.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signal {
    Int,
    Term,
    /// What the target's adminsh gets when the ssh connection goes.
    Hangup,
    Kill,
}

impl Signal {
    fn number(self) -> libc::c_int {
        match self {
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::Kill => libc::SIGKILL,
        }
    }
}

/// Sends `signal` to the process `pid`; panics if there is no such process.
#[track_caller]
pub(crate) fn signal(pid: u32, signal: Signal) {
    if let Err(e) = send(pid, false, signal) {
        panic!("cannot send {signal:?} to process {pid}: {e}");
    }
}

/// Sends `signal` to every process of the process group `pgid`; a group that has already
/// ended is not an error (this is for cleaning up).
#[track_caller]
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    match send(pgid, true, signal) {
        Err(e) if e.raw_os_error() != Some(libc::ESRCH) => {
            panic!("cannot send {signal:?} to process group {pgid}: {e}")
        }
        _ => {}
    }
}

#[track_caller]
fn send(id: u32, group: bool, signal: Signal) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(id).expect("a pid fits in pid_t");
    // 0 and 1 would reach this whole process group and init.
    assert!(pid > 1, "refusing to signal pid {pid}");
    let target = if group { -pid } else { pid };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(target, signal.number()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// One process, as /proc/PID/stat and /proc/PID/cmdline describe it.
struct Process {
    pid: u32,
    parent: u32,
    group: u32,
    /// `Z` for a zombie.
    state: String,
    /// The arguments joined with spaces, as `ps -o args` shows them.
    command_line: String,
}

impl Process {
    fn read(pid: u32) -> Option<Process> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may hold spaces: fields count from its end.
        let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
        let state = fields.next()?.to_owned();
        let parent = fields.next()?.parse().ok()?;
        let group = fields.next()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let command_line = String::from_utf8_lossy(cmdline.strip_suffix(b"\0").unwrap_or(&cmdline))
            .replace('\0', " ");
        Some(Process {
            pid,
            parent,
            group,
            state,
            command_line,
        })
    }

    /// Every process there is (that did not end while being read).
    fn all() -> Vec<Process> {
        std::fs::read_dir("/proc")
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse().ok())
                    .filter_map(Process::read)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether a process exists and is not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    Process::read(pid).is_some_and(|p| p.state != "Z")
}

/// The parent of a process; panics if it is gone.
#[track_caller]
pub(crate) fn parent(pid: u32) -> u32 {
    match Process::read(pid) {
        Some(process) => process.parent,
        None => panic!("process {pid} is gone"),
    }
}

/// Whether a process with exactly this command line is running in `dir` (adminsh runs
/// commands in the release root), so that another test's is not taken for this one's.
pub(crate) fn running_in(dir: &Path, command_line: &str) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    Process::all().iter().any(|p| {
        p.command_line == command_line
            && p.state != "Z"
            && std::fs::read_link(format!("/proc/{}/cwd", p.pid)).is_ok_and(|cwd| cwd == dir)
    })
}

/// Whether `parent` has a child running exactly this command line.
pub(crate) fn child_running(parent: u32, command_line: &str) -> bool {
    Process::all()
        .iter()
        .any(|p| p.parent == parent && p.command_line == command_line && p.state != "Z")
}

/// Waits for a spawned adminsh to exit and collects its output. Past the deadline it is
/// killed, with the process groups of the commands it started (each leads its own), and the
/// test fails naming `what` it waited for.
#[track_caller]
pub(crate) fn finish(child: Child, what: &str) -> Output {
    let pid = child.id();
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    if let Ok(output) = wait.recv_timeout(PATIENCE) {
        return output.expect("collecting adminsh's output");
    }
    let ours = Process::read(std::process::id()).map(|p| p.group);
    for command in Process::all().iter().filter(|p| p.parent == pid) {
        if command.group == command.pid && Some(command.group) != ours {
            signal_group(command.group, Signal::Kill);
        }
    }
    let _ = send(pid, false, Signal::Kill);
    panic!(
        "gave up after {}s waiting for {what} (adminsh, pid {pid}, was killed)",
        PATIENCE.as_secs()
    );
}
