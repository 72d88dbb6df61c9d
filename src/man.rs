//! The man page, `adminsh.1`, rendered from the clap definition `--help` reads too, so the page
//! a package installs can never describe another binary's flags. `--man-page` prints it (roff);
//! packaging (`scripts/deb.rhai`) gzips it into `/usr/share/man/man1/`.

use clap::CommandFactory;

use crate::cli::Cli;

/// The page in roff: clap's name, synopsis, description, options and version, then the exit
/// codes under the heading man pages give them, and where to read on.
pub(crate) fn page() -> String {
    let command = Cli::command();
    let exit_codes = command
        .get_after_help()
        .map(ToString::to_string)
        .unwrap_or_default();
    let man = clap_mangen::Man::new(command).manual("adminsh manual");
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; each section is one call so that clap's "EXTRA" heading
    // for the after-help is replaced by the conventional "EXIT STATUS".
    let rendered = [
        man.render_title(&mut out),
        man.render_name_section(&mut out),
        man.render_synopsis_section(&mut out),
        man.render_description_section(&mut out),
        man.render_options_section(&mut out),
    ];
    debug_assert!(rendered.iter().all(Result::is_ok));
    let mut page = String::from_utf8_lossy(&out).into_owned();
    let exit_codes = exit_codes
        .strip_prefix("Exit codes: ")
        .unwrap_or(&exit_codes);
    page.push_str(".SH \"EXIT STATUS\"\n");
    page.push_str(&text(exit_codes));
    page.push_str(SEE_ALSO);
    let mut version = Vec::new();
    if man.render_version_section(&mut version).is_ok() {
        page.push_str(&String::from_utf8_lossy(&version));
    }
    // Each section rendered alone repeats the page's preamble (the apostrophe string): once
    // at the top is enough.
    let page = page.replace(PREAMBLE, "");
    format!("{PREAMBLE}{}\n", page.trim_end())
}

/// What `clap_mangen` puts before each section it renders: `\*(Aq` as an apostrophe in groff
/// and in other troffs.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The rest of the manual lives with the binary and the release it runs in.
const SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBadminsh \-\-list\fR lists the release's scripts; \fBadminsh\fR \fISCRIPT\fR \fB\-\-help\fR shows
the parameters a script declares; \fBadminsh \-\-stdlib\fR lists the standard library's modules;
\fB:help\fR in the console documents the host API.
"#;

/// Plain text as one roff paragraph: backslashes escaped, and a line that would start with a
/// control character (`.` or `'`) protected, so no text can turn into a roff request.
fn text(plain: &str) -> String {
    let mut out = String::new();
    for line in plain.replace('\\', "\\e").lines() {
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line.replace('-', "\\-"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_a_request() {
        assert_eq!(text(".TH x\n'x\na\\b -t"), "\\&.TH x\n\\&'x\na\\eb \\-t\n");
    }
}
