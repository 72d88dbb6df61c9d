//! A real terminal for console tests: adminsh runs inside tmux (its own server per test), keys
//! are typed with send-keys, and the screen is read with capture-pane.

use std::path::Path;
use std::process::Command;

use super::BIN;
use super::tools::{self, Tool};
use super::wait::poll;

pub(crate) struct Tmux {
    socket: String,
}

fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

impl Tmux {
    /// Starts `adminsh ARGS` in `dir`, with a clean environment plus `env`. When adminsh exits,
    /// the pane shows `[exited N]`. The test must have `require!(Tmux)`.
    #[track_caller]
    pub(crate) fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Tmux {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        tools::used(Tool::Tmux);
        let socket = format!(
            "adminsh-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let mut vars = vec![
            format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
            format!("HOME={}", dir.display()),
            "TERM=xterm-256color".to_owned(),
            "LANG=C.UTF-8".to_owned(),
        ];
        vars.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        let command = format!(
            "cd {} && env -i {} {} {}; echo \"[exited $?]\"; sleep 600",
            quote(&dir.display().to_string()),
            vars.iter().map(|v| quote(v)).collect::<Vec<_>>().join(" "),
            quote(BIN),
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "50",
            ])
            .arg(command)
            .status()
            .expect("cannot run tmux");
        assert!(status.success(), "tmux new-session failed: {status}");
        Tmux { socket }
    }

    #[track_caller]
    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text literally (no Enter).
    #[track_caller]
    pub(crate) fn type_text(&self, text: &str) {
        // tmux reads an argument ending in `;` as a command separator unless escaped.
        let text = match text.strip_suffix(';') {
            Some(rest) => format!("{rest}\\;"),
            None => text.to_owned(),
        };
        self.tmux(&["send-keys", "-t", "0", "-l", &text]);
    }

    /// Types a line and Enter.
    #[track_caller]
    pub(crate) fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// Presses keys by tmux name: `Enter`, `Tab`, `C-c`, `C-d`, `Up`.
    #[track_caller]
    pub(crate) fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "0", key]);
        }
    }

    #[track_caller]
    pub(crate) fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "0", "-S", "-500"])
    }

    /// The screen with its colours, as escape sequences.
    #[track_caller]
    pub(crate) fn screen_with_colours(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-J", "-t", "0"])
    }

    /// Waits until the screen holds `needle` `times` times, and returns the screen; fails
    /// showing the screen if it never does. Trailing spaces do not count: tmux trims them
    /// from captured lines.
    #[track_caller]
    pub(crate) fn wait_for_count(&self, needle: &str, times: usize) -> String {
        let needle = needle.trim_end_matches(' ');
        poll(
            format_args!("the screen to show {needle:?} {times} times"),
            || {
                let screen = self.screen();
                if screen.matches(needle).count() >= times {
                    Ok(screen)
                } else {
                    Err(screen)
                }
            },
        )
    }

    /// Waits until the screen shows `needle`, and returns the screen.
    #[track_caller]
    pub(crate) fn wait_for(&self, needle: &str) -> String {
        self.wait_for_count(needle, 1)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
