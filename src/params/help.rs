//! What a header's declarations look like to people: the usage in short (`--list`), and the
//! help `adminsh SCRIPT --help` prints.

use super::{Header, Kind, Param, Presence};

impl Header {
    /// The options in short, as `--list` shows them: `--since <date> [--batch <int>] [--dry]`.
    pub(crate) fn usage(&self) -> String {
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|p| match p.presence {
                Presence::Required => p.synopsis(),
                _ => format!("[{}]", p.synopsis()),
            })
            .collect();
        parts.join(" ")
    }

    /// What `adminsh SCRIPT --help` prints; `invoked` is the script as the user named it.
    pub(crate) fn help(&self, invoked: &str) -> String {
        let mut out = String::new();
        if let Some(summary) = &self.summary {
            out.push_str(summary);
            out.push_str("\n\n");
        }
        for line in &self.details {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if !self.details.is_empty() {
            out.push('\n');
        }
        let usage = self.usage();
        let space = if usage.is_empty() { "" } else { " " };
        out.push_str(&format!(
            "Usage: adminsh {invoked}{space}{usage}\n\nOptions:\n"
        ));
        let mut rows: Vec<(String, String)> = self
            .params
            .iter()
            .map(|p| {
                let note = match &p.presence {
                    _ if p.kind == Kind::Flag => String::new(),
                    Presence::Required => "[required]".to_owned(),
                    Presence::Optional => String::new(),
                    Presence::Default(value) => format!("[default: {}]", show_default(value)),
                };
                let doc = [p.doc.as_str(), note.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                (p.synopsis(), doc)
            })
            .collect();
        rows.push(("-h, --help".into(), "Print this help".into()));
        let width = rows.iter().map(|(left, _)| left.len()).max().unwrap_or(0);
        for (left, doc) in rows {
            let line = format!("  {left:width$}  {doc}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

impl Param {
    /// `--since <date>`, `--dry`.
    pub(crate) fn synopsis(&self) -> String {
        match self.kind {
            Kind::Flag => format!("--{}", self.spelled),
            _ => format!("--{} <{}>", self.spelled, self.kind.placeholder()),
        }
    }
}

/// A default as `--help` shows it: quoted when it would not read as one word.
fn show_default(value: &str) -> String {
    if value.is_empty() || value.contains(char::is_whitespace) || value.contains('"') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use crate::params::tests::{FULL, header};

    #[test]
    fn help_only_when_declared_and_before_the_double_dash() {
        let h = header(FULL);
        let args = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert!(h.wants_help(&args(&["--since", "x", "--help"])));
        assert!(h.wants_help(&args(&["-h"])));
        assert!(!h.wants_help(&args(&["--", "--help"])));
        assert!(!header("//! Just a summary.").wants_help(&args(&["--help"])));
        assert!(header("//! @no-params").wants_help(&args(&["--help"])));
    }

    #[test]
    fn help_text() {
        assert_eq!(
            header(FULL).help("fix"),
            "Normalise the records.

Touches only bad rows.
  Safe to re-run.

Usage: adminsh fix --since <date> [--batch <int>] [--ratio <float>] [--mode <fast|safe>] \
[--note <string>] [--out <path>] [--verbose <bool>] [--dry-run]

Options:
  --since <date>      Only records created after this [required]
  --batch <int>       Rows per transaction [default: 500]
  --ratio <float>     [default: 0.5]
  --mode <fast|safe>  How to go about it [default: safe]
  --note <string>     A note for the log
  --out <path>        Where to write [default: tmp/out.csv]
  --verbose <bool>    [default: no]
  --dry-run           Print what would change
  -h, --help          Print this help
"
        );
        assert_eq!(
            header("//! @no-params").help("x"),
            "Usage: adminsh x\n\nOptions:\n  -h, --help  Print this help\n"
        );
    }
}
