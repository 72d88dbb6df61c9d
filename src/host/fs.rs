//! Files for scripts: `read_file`, `write_file` (atomic), `exists`, `glob`. Relative paths are
//! relative to the release root, where commands run too.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{Array, Dynamic};

use super::{Host, RhaiResult, runtime_error};
use crate::session::Session;

pub(crate) fn register(host: &mut Host, session: &Rc<Session>) {
    let s = session.clone();
    host.def(
        "read_file",
        "path: String -> String",
        "The text of a file (relative to the release root)",
        move |path: &str| -> RhaiResult<String> {
            let full = in_release(&s, path);
            let bytes = std::fs::read(&full)
                .map_err(|e| runtime_error(format!("cannot read `{path}`: {}", io_reason(&e))))?;
            String::from_utf8(bytes).map_err(|e| {
                runtime_error(format!(
                    "`{path}` is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ))
            })
        },
    );
    let s = session.clone();
    host.def(
        "write_file",
        "path: String, text: String",
        "Writes a file atomically",
        move |path: &str, text: &str| -> RhaiResult<()> {
            if s.options().read_only {
                return Err(runtime_error(format!(
                    "refused in read-only mode: write_file({path:?})"
                )));
            }
            if s.options().dry_run {
                s.would(
                    &format!("write {path} ({} bytes)", text.len()),
                    &format!("write {path}"),
                );
                return Ok(());
            }
            crate::state::write_atomically(&in_release(&s, path), text.as_bytes())
                .map_err(|e| runtime_error(format!("cannot write `{path}`: {}", io_reason(&e))))
        },
    );
    let s = session.clone();
    host.def(
        "exists",
        "path: String -> bool",
        "Whether a path exists",
        move |path: &str| in_release(&s, path).exists(),
    );
    let s = session.clone();
    host.def(
        "glob",
        "pattern: String -> Array",
        "The paths matching a glob pattern, sorted",
        move |pattern: &str| -> RhaiResult<Array> {
            let root = s.release.path();
            let full = in_release(&s, pattern);
            let paths = glob::glob(&full.to_string_lossy())
                .map_err(|e| runtime_error(format!("bad glob pattern `{pattern}`: {e}")))?;
            let mut found = Array::new();
            for path in paths.flatten() {
                // Shown as the script wrote them: relative patterns give release-relative paths.
                let shown = if Path::new(pattern).is_absolute() {
                    path
                } else {
                    path.strip_prefix(root)
                        .map(Path::to_path_buf)
                        .unwrap_or(path)
                };
                found.push(Dynamic::from(shown.to_string_lossy().into_owned()));
            }
            Ok(found)
        },
    );
}

fn in_release(session: &Session, path: &str) -> PathBuf {
    session.release.path().join(path)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
