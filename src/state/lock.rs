//! Locks between admin processes: a script run holds an exclusive `flock` on a file in the state
//! directory, so two operators cannot run the same maintenance at once. The kernel releases it
//! when the process dies, however it dies. The file says who holds it, for the one refused.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

use crate::interrupt;

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Someone else holds it; their description of themselves.
    Held {
        holder: String,
    },
    Interrupted(i32),
    Io(std::io::Error),
}

/// Who is taking a lock: `user on host (pid N) since TIME`.
pub(crate) fn holder_description() -> String {
    format!(
        "{} on {} (pid {}) since {}",
        crate::who::user(),
        crate::who::host(),
        std::process::id(),
        crate::clock::now_rfc3339()
    )
}

/// Takes the lock at `path`; with `wait`, waits for it (Ctrl-C still stops the wait), calling
/// `on_wait` once with the holder's description first.
pub(crate) fn acquire(
    path: &Path,
    wait: bool,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Lock, LockError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(LockError::Io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(LockError::Io)?;
    let mut told = false;
    loop {
        // On Linux this is flock(LOCK_EX | LOCK_NB): held by this open file, gone with the process.
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        let mut holder = String::new();
        let _ = file.rewind();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim().to_owned();
        let holder = if holder.is_empty() {
            "another process".to_owned()
        } else {
            holder
        };
        if !wait {
            return Err(LockError::Held { holder });
        }
        if !told {
            on_wait(&holder);
            told = true;
        }
        if let Some(signal) = interrupt::signal() {
            return Err(LockError::Interrupted(signal));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    file.set_len(0).map_err(LockError::Io)?;
    file.rewind().map_err(LockError::Io)?;
    writeln!(file, "{}", holder_description()).map_err(LockError::Io)?;
    file.flush().map_err(LockError::Io)?;
    Ok(Lock { _file: file })
}

/// A file name for a lock or checkpoint of `key` (a script path, a lock name): readable, and
/// unique thanks to a hash of the whole key.
pub(crate) fn file_name(key: &str) -> String {
    let readable: String = key
        .rsplit('/')
        .next()
        .unwrap_or(key)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{readable}-{:016x}", crate::hash::fnv(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_holder_then_gets_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let first = acquire(&path, false, &mut |_| {}).unwrap();
        // flock locks belong to the open file description: a second open conflicts even in the
        // same process, as another process would.
        match acquire(&path, false, &mut |_| {}) {
            Err(LockError::Held { holder }) => {
                assert!(
                    holder.contains(&format!("(pid {})", std::process::id())),
                    "{holder}"
                );
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        acquire(&path, false, &mut |_| {}).unwrap();
        assert!(file_name("/srv/app/scripts/fix records.rhai").starts_with("fix_records.rhai-"));
    }
}
