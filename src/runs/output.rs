//! A detached run's output: its stdout and stderr (and those of the commands it runs) go into
//! one pipe, in the order they were written; a thread of the run's process copies the pipe into
//! `output.log`. When the log would pass its size cap (the manifest's `run_log_limit`, 16 MiB
//! by default), it is renamed `output.log.1` (replacing the one before) and a new `output.log`
//! begins, so a run keeps at most twice the cap, the newest output. A write that fails (a full
//! disk) loses those bytes, never the run: the pipe is still drained, the loss is counted, and
//! later writes are tried again.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// The default size cap of `output.log`.
pub(crate) const DEFAULT_LIMIT: u64 = 16 << 20;

/// The log file of a run, rotated at its cap.
pub(crate) struct Log {
    path: PathBuf,
    file: File,
    written: u64,
    limit: u64,
    /// Bytes that could not be written.
    pub lost: u64,
    /// Why the first of them could not.
    pub error: Option<String>,
}

impl Log {
    /// Creates (or empties) the log at `path`.
    pub(crate) fn create(path: &Path, limit: u64) -> std::io::Result<Log> {
        Ok(Log {
            path: path.to_path_buf(),
            file: super::private_file(path)?,
            written: 0,
            limit: limit.max(1),
            lost: 0,
            error: None,
        })
    }

    /// Appends `bytes`, rotating where they would pass the cap: after the last whole line
    /// that fits (a line longer than the cap is cut at it).
    pub(crate) fn write(&mut self, mut bytes: &[u8]) {
        loop {
            let room =
                usize::try_from(self.limit.saturating_sub(self.written)).unwrap_or(usize::MAX);
            if bytes.len() <= room {
                self.append(bytes);
                return;
            }
            let cut = match bytes[..room].iter().rposition(|&b| b == b'\n') {
                Some(end) => end + 1,
                None if self.written > 0 => 0,
                None => room,
            };
            let (now, rest) = bytes.split_at(cut);
            self.append(now);
            if !self.rotate() {
                self.append(rest);
                return;
            }
            bytes = rest;
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        let len = bytes.len() as u64;
        match self.file.write_all(bytes) {
            Ok(()) => self.written += len,
            Err(e) => self.lose(len, &e),
        }
    }

    fn lose(&mut self, bytes: u64, error: &std::io::Error) {
        self.lost += bytes;
        self.error.get_or_insert_with(|| error.to_string());
    }

    /// `output.log` becomes `output.log.1`; a new `output.log` begins. When that cannot be
    /// done, the current file goes on growing (false).
    fn rotate(&mut self) -> bool {
        let mut before = self.path.clone().into_os_string();
        before.push(".1");
        let renamed = std::fs::rename(&self.path, &before);
        match renamed.and_then(|()| super::private_file(&self.path)) {
            Ok(file) => {
                self.file = file;
                self.written = 0;
                true
            }
            Err(e) => {
                self.error
                    .get_or_insert_with(|| format!("cannot rotate: {e}"));
                false
            }
        }
    }
}

/// The thread copying the pipe into the log.
pub(crate) struct Capture {
    done: mpsc::Receiver<Log>,
}

/// Starts copying `pipe` into `log` until every writer of the pipe has closed it.
pub(crate) fn capture(mut pipe: impl Read + Send + 'static, mut log: Log) -> Capture {
    let (send, done) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = vec![0; 64 << 10];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => log.write(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    log.error.get_or_insert_with(|| format!("cannot read: {e}"));
                    break;
                }
            }
        }
        let _ = send.send(log);
    });
    Capture { done }
}

impl Capture {
    /// Waits for the copy to end (the run's own writers are closed by now) and returns the
    /// log; `None` when something the run left in the background still holds the pipe open
    /// after `patience`.
    pub(crate) fn finish(self, patience: Duration) -> Option<Log> {
        self.done.recv_timeout(patience).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_at_its_cap_and_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output.log");
        let mut log = Log::create(&path, 10).unwrap();
        for chunk in ["aaaa\n", "bbbb\n", "cccc\n", "dddd\n", "eeee\n"] {
            log.write(chunk.as_bytes());
        }
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("output.log.1"), "cccc\ndddd\n");
        assert_eq!(read("output.log"), "eeee\n");
        // Lines stay whole where they fit; one longer than the cap is cut at it.
        log.write(b"ffff\ngggg\nhh");
        assert_eq!(read("output.log.1"), "eeee\nffff\n");
        assert_eq!(read("output.log"), "gggg\nhh");
        log.write(&[b'x'; 25]);
        assert_eq!(read("output.log.1"), "x".repeat(10));
        assert_eq!(read("output.log"), "x".repeat(5));
        assert_eq!((log.lost, log.error), (0, None));
    }

    #[test]
    fn a_full_disk_loses_output_not_the_run() {
        let mut log = Log::create(Path::new("/dev/full"), 1 << 20).unwrap();
        log.write(b"hello\n");
        log.write(b"again\n");
        assert_eq!(log.lost, 12);
        assert!(
            log.error.as_deref().unwrap().contains("No space left"),
            "{:?}",
            log.error
        );
    }

    #[test]
    fn the_capture_reads_until_every_writer_closes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output.log");
        let (reader, mut writer) = std::io::pipe().unwrap();
        let capture = capture(reader, Log::create(&path, 1 << 20).unwrap());
        writer.write_all(b"one\ntwo\n").unwrap();
        drop(writer);
        let log = capture.finish(Duration::from_mins(1)).unwrap();
        assert_eq!(log.lost, 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }
}
