//! Finding the release root: `-C DIR`, else the nearest ancestor of the current directory
//! holding `adminsh.toml`, else one holding a `Procfile`, else `.git`, else the files a
//! framework keeps at an app's root (`Gemfile`, `config.ru`, `manage.py`, `pyproject.toml`,
//! `package.json`, `go.mod`, in that order): a deployed release often has no `.git`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Files that mark a release root, strongest first; each is looked for in every ancestor before
/// the next one is. A checkout's `.git` outranks the language markers, which a subproject (a
/// `frontend/package.json`, a `tools/pyproject.toml`) may have too; among those, the ones only
/// an app's root has come first.
pub(crate) const MARKERS: [&str; 9] = [
    "adminsh.toml",
    "Procfile",
    ".git",
    "Gemfile",
    "config.ru",
    "manage.py",
    "pyproject.toml",
    "package.json",
    "go.mod",
];

/// The release root, resolved through symlinks, and the name the user reached it by.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    /// The physical directory (symlinks resolved).
    pub path: PathBuf,
    /// The path as given or as the shell knows it (`/srv/app/current`), when it differs.
    pub link: Option<PathBuf>,
    /// Whether `-C` or a marker named it; `false` when no ancestor of the current directory
    /// has a marker and the current directory stands in for the root.
    pub found: bool,
}

impl Root {
    /// When no root was found: why, in lines for an error message (the directories walked, from
    /// the current one up, and the markers looked for), so that a name that is not found can say
    /// that it was looked for in the wrong place. `None` when a root was found.
    pub(crate) fn not_found(&self) -> Option<String> {
        if self.found {
            return None;
        }
        let (last, first) = MARKERS.split_last().expect("markers");
        let mut text = format!(
            "no release root was found: none of these directories holds {} or {last}:",
            first.join(", ")
        );
        for dir in self.path.ancestors() {
            text.push_str(&format!("\n    {}", dir.display()));
        }
        Some(text)
    }
}

pub(crate) fn discover(dir: Option<&Path>) -> Result<Root> {
    if let Some(dir) = dir {
        if !dir.is_dir() {
            bail!("-C {}: no such directory", dir.display());
        }
        let absolute = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let path = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        return Ok(Root {
            link: (absolute != path).then_some(absolute),
            path,
            found: true,
        });
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let logical = logical_cwd(&cwd);
    for marker in MARKERS {
        for (depth, ancestor) in cwd.ancestors().enumerate() {
            if ancestor.join(marker).exists() {
                let link = logical.as_ref().and_then(|l| l.ancestors().nth(depth));
                return Ok(Root {
                    path: ancestor.to_path_buf(),
                    link: link.map(Path::to_path_buf),
                    found: true,
                });
            }
        }
    }
    Ok(Root {
        path: cwd,
        link: logical,
        found: false,
    })
}

/// `$PWD`, when it names the current directory through a symlink (`cd /srv/app/current`).
fn logical_cwd(physical: &Path) -> Option<PathBuf> {
    let pwd = PathBuf::from(std::env::var_os("PWD")?);
    (pwd.is_absolute() && pwd != physical && pwd.canonicalize().ok()? == physical).then_some(pwd)
}
