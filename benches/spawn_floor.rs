//! The floor for the per-spawn benchmark in `benches/run.sh`: spawn a program N times in a row
//! with `posix_spawn(3)` + `waitpid(2)` and nothing else (no pipes, no PATH search, no
//! environment building), so the ratio adminsh / floor is the cost adminsh adds per command.
//!
//! Usage: `spawn_floor [N] [PROGRAM]` (defaults: 1000, /bin/true). Exits non-zero if a spawn
//! fails or the program does not exit 0.

use std::ffi::{CString, c_char};
use std::process::ExitCode;

unsafe extern "C" {
    static environ: *const *mut c_char;
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let count: u64 = match args.next().map(|n| n.parse()) {
        None => 1000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("spawn_floor: N must be a whole number: {e}");
            return ExitCode::from(2);
        }
    };
    let program = args.next().unwrap_or_else(|| "/bin/true".to_owned());
    let Ok(path) = CString::new(program.clone()) else {
        eprintln!("spawn_floor: the program path holds a NUL byte");
        return ExitCode::from(2);
    };
    let argv: [*mut c_char; 2] = [path.as_ptr().cast_mut(), std::ptr::null_mut()];

    for _ in 0..count {
        let mut pid: libc::pid_t = 0;
        // SAFETY: `path` and `argv` are NUL-terminated and outlive the call; null file actions
        // and attributes are allowed; `environ` is the process's own environment.
        let rc = unsafe {
            libc::posix_spawn(
                &raw mut pid,
                path.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr(),
                environ,
            )
        };
        if rc != 0 {
            eprintln!(
                "spawn_floor: cannot spawn {program}: {}",
                std::io::Error::from_raw_os_error(rc)
            );
            return ExitCode::FAILURE;
        }
        let mut status = 0;
        loop {
            // SAFETY: waits for the child just spawned; `status` is a valid out pointer.
            let waited = unsafe { libc::waitpid(pid, &raw mut status, 0) };
            if waited == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                eprintln!("spawn_floor: waitpid: {err}");
                return ExitCode::FAILURE;
            }
        }
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            eprintln!("spawn_floor: {program} failed (wait status {status})");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
