//! A real small disk for the tests of what a full one does: a tmpfs of a given size mounted
//! on a temporary directory (which needs root, or `CAP_SYS_ADMIN`: `require!(Tmpfs)`), and
//! unmounted when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::tools::{Tool, used};

/// A tmpfs mounted for a test.
pub(crate) struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`64k`, `1m`) on a new temporary directory.
    #[track_caller]
    pub(crate) fn mount(size: &str) -> Tmpfs {
        used(Tool::Tmpfs);
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mount -t tmpfs: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Tmpfs { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of it, so the next write that needs a new page fails.
    pub(crate) fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut filler = std::fs::File::create(&path).unwrap();
        let block = vec![b'x'; 4096];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}
