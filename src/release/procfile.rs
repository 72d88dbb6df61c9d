//! The app's `Procfile`: its process types and their commands (`web: gunicorn shop.wsgi`), so a
//! script can run a process type (the `release` phase, say) exactly as the platform would.

use std::path::Path;

use anyhow::{Result, bail};

pub(crate) const FILE_NAME: &str = "Procfile";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessType {
    pub name: String,
    pub command: String,
}

/// The process types of `root/Procfile`, in file order; none when there is no Procfile.
pub(crate) fn load(root: &Path) -> Result<Vec<ProcessType>> {
    match std::fs::read_to_string(root.join(FILE_NAME)) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => bail!("cannot read {FILE_NAME}: {e}"),
    }
}

pub(crate) fn parse(text: &str) -> Result<Vec<ProcessType>> {
    let mut types: Vec<ProcessType> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, command)) = trimmed.split_once(':') else {
            bail!("{FILE_NAME}:{number}: expected `name: command`, found `{trimmed}`");
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!(
                "{FILE_NAME}:{number}: `{name}` is not a process type name (letters, digits, `-`, `_`)"
            );
        }
        if types.iter().any(|t| t.name == name) {
            bail!("{FILE_NAME}:{number}: process type `{name}` is defined twice");
        }
        let command = command.trim();
        if command.is_empty() {
            bail!("{FILE_NAME}:{number}: process type `{name}` has no command");
        }
        types.push(ProcessType {
            name: name.to_owned(),
            command: command.to_owned(),
        });
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_types_and_errors() {
        let types = parse(
            "# comment\nweb: gunicorn app:wsgi --bind :$PORT\n\nrelease:python manage.py migrate\n",
        )
        .unwrap();
        assert_eq!(types[0].name, "web");
        assert_eq!(types[0].command, "gunicorn app:wsgi --bind :$PORT");
        assert_eq!(types[1].command, "python manage.py migrate");
        let error = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            error("web: a\nworker\n"),
            "Procfile:2: expected `name: command`, found `worker`"
        );
        assert_eq!(
            error("web: a\nweb: b\n"),
            "Procfile:2: process type `web` is defined twice"
        );
        assert_eq!(
            error("we b: a\n"),
            "Procfile:1: `we b` is not a process type name (letters, digits, `-`, `_`)"
        );
        assert_eq!(
            error("web:\n"),
            "Procfile:1: process type `web` has no command"
        );
    }
}
