//! The console in a real terminal (tmux): persistence, multi-line input, history, completion,
//! Ctrl-C, :help, the production banner; and piped stdin without a terminal.

use crate::support::Test;
use crate::support::processes::running_in;
use crate::support::tmux::Tmux;
use crate::support::tools::require;
use crate::support::wait::{wait_for_path, wait_until};

const PROMPT: &str = "app (development)> ";
/// The continuation prompt, as wide as the prompt.
const MORE: &str = "               ... ";

fn app() -> Test {
    Test::new().file("adminsh.toml", "name = \"app\"").file(
        ".env",
        "DATABASE_URL=sqlite:///var/app.db\nAPI_TOKEN=tok-very-secret\n",
    )
}

#[test]
fn variables_and_functions_persist_and_multi_line_input_continues() {
    require!(Tmux);
    let t = app();
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for(PROMPT);
    // Each input is typed once the console is back at its prompt: the line editor loses input
    // typed ahead while an input runs (a known limitation, in docs/src/console.md).
    tty.line("let x = 20;");
    tty.wait_for_count(PROMPT, 2);
    tty.line("fn twice(n) {");
    tty.wait_for(MORE);
    tty.line("  n * 2");
    tty.wait_for_count(MORE, 2);
    tty.line("}");
    tty.wait_for_count(PROMPT, 3);
    tty.line("twice(x + 1)");
    let screen = tty.wait_for("=> 42");
    let typed = format!("{PROMPT}fn twice(n) {{\n{MORE}  n * 2\n{MORE}}}\n");
    assert!(screen.contains(&typed), "{screen}");
    // An error does not leave the console, and the scope survives it.
    tty.line("fail(\"boom\")");
    tty.wait_for("<console>:1:1: boom");
    tty.wait_for_count(PROMPT, 5);
    tty.line("[x, env(\"API_TOKEN\")]");
    tty.wait_for("=> [20, \"****\"]");
    tty.keys(&["C-d"]);
    tty.wait_for("[exited 0]");
}

#[test]
fn a_blank_line_or_ctrl_c_abandons_an_unfinished_input() {
    require!(Tmux);
    let t = app();
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for(PROMPT);
    // Each key waits for the prompt it is meant for: typed ahead, a line is lost and Ctrl-C
    // reaches the console as a signal between two inputs.
    tty.line("let a = [1,");
    tty.wait_for(MORE);
    tty.line("");
    tty.wait_for_count(PROMPT, 2);
    tty.line("let b = (2 +");
    tty.wait_for_count(MORE, 2);
    tty.keys(&["C-c"]);
    tty.wait_for_count(PROMPT, 3);
    tty.line(":vars");
    tty.wait_for_count(PROMPT, 4);
    let screen = tty.screen();
    // Neither abandoned input ran: the only variable is adminsh's own.
    assert!(
        screen.contains(&format!(
            "{PROMPT}:vars\nconst ARGS = [];\n{}",
            PROMPT.trim_end()
        )),
        "{screen}"
    );
}

#[test]
fn history_is_kept_across_sessions_with_secrets_masked() {
    require!(Tmux);
    let t = app();
    let state = t.path().join("state");
    let state_env = state.display().to_string();
    {
        let tty = Tmux::start(t.path(), &[], &[("XDG_STATE_HOME", &state_env)]);
        tty.wait_for(PROMPT);
        tty.line("let marker = 12345;");
        tty.wait_for_count(PROMPT, 2);
        tty.line("let t = \"tok-very-secret\";");
        tty.wait_for_count(PROMPT, 3);
        tty.line(":quit");
        tty.wait_for("[exited 0]");
    }
    let files: Vec<_> = std::fs::read_dir(state.join("adminsh"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().into_owned();
    assert!(
        name.starts_with("app-") && name.ends_with(".history"),
        "{name}"
    );
    let history = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(history.contains("let marker = 12345;"), "{history}");
    assert!(history.contains("let t = \"****\";"), "{history}");
    assert!(!history.contains("tok-very-secret"), "{history}");

    let tty = Tmux::start(t.path(), &[], &[("XDG_STATE_HOME", &state_env)]);
    tty.wait_for(PROMPT);
    tty.keys(&["Up", "Up", "Up"]);
    tty.wait_for(&format!("{PROMPT}let marker = 12345;"));
}

#[test]
fn tab_completes_host_functions_methods_and_config_keys() {
    require!(Tmux);
    let t = app();
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for(PROMPT);
    tty.type_text("has_e");
    tty.keys(&["Tab"]);
    tty.wait_for(&format!("{PROMPT}has_env("));
    tty.type_text("\"API_T");
    tty.keys(&["Tab"]);
    tty.wait_for(&format!("{PROMPT}has_env(\"API_TOKEN"));
    tty.keys(&["C-u"]);
    // Several candidates are listed with their parameters.
    tty.type_text("cmd(\"true\").read");
    tty.keys(&["Tab", "Tab"]);
    let screen = tty.wait_for("read_bytes(cmd: Cmd) -> Blob");
    assert!(screen.contains("read(cmd: Cmd) -> String"), "{screen}");
    tty.keys(&["C-u"]);
    tty.type_text("db::sca");
    tty.keys(&["Tab"]);
    tty.wait_for(&format!("{PROMPT}db::scalar("));
    // The stdlib's Rhai modules too, and the modules `:help` documents.
    tty.keys(&["C-u"]);
    tty.type_text("pg::print_b");
    tty.keys(&["Tab"]);
    tty.wait_for(&format!("{PROMPT}pg::print_blocking("));
    tty.keys(&["C-u"]);
    tty.type_text(":help std/p");
    tty.keys(&["Tab"]);
    tty.wait_for(&format!("{PROMPT}:help std/pg"));
}

#[test]
fn ctrl_c_stops_a_running_command_and_keeps_the_scope() {
    require!(Tmux);
    let t = app();
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for(PROMPT);
    tty.line("let kept = \"still here\";");
    tty.wait_for_count(PROMPT, 2);
    tty.line("cmd(\"sleep\", [\"4321\"]).run()");
    // Ctrl-C typed before the command starts would reach the line editor instead.
    wait_until("`sleep 4321` to start", || {
        running_in(t.path(), "sleep 4321")
    });
    tty.keys(&["C-c"]);
    tty.wait_for("interrupted");
    tty.wait_for_count(PROMPT, 3);
    tty.line("kept");
    tty.wait_for("=> \"still here\"");
    tty.wait_for_count(PROMPT, 4);
    // A runaway loop stops too.
    tty.line("write_file(\"spinning\", \"\"); loop { }");
    wait_for_path(&t.path().join("spinning"));
    tty.keys(&["C-c"]);
    tty.wait_for_count("interrupted", 2);
    assert!(!running_in(t.path(), "sleep 4321"));
}

#[test]
fn help_lists_every_host_function() {
    require!(Tmux);
    let t = app();
    let piped = Test::new().stdin(":help\n").any_stdout().run().stdout;
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for(PROMPT);
    tty.line(":help");
    let screen = tty.wait_for("Keys: Tab completes");
    for line in piped.lines() {
        assert!(screen.contains(line), ":help on a terminal lacks {line:?}");
    }
    tty.wait_for_count(PROMPT, 2);
    for name in [
        "cmd(prog: String, args: Array) -> Cmd",
        "each_line(cmd: Cmd, callback: FnPtr) -> int",
        "db::query(sql: String) -> Array",
        ":load FILE",
    ] {
        assert!(piped.contains(name), ":help lacks {name}:\n{piped}");
    }
    tty.line(":nope");
    tty.wait_for("unknown console command `:nope` (:help lists them)");
}

#[test]
fn production_is_announced_in_red_and_in_the_prompt() {
    require!(Tmux);
    let t = app().file(
        "adminsh.toml",
        "name = \"app\"\ndangerous_stages = [\"live\"]",
    );
    for stage in ["production", "live"] {
        let tty = Tmux::start(t.path(), &["-s", stage], &[]);
        let upper = stage.to_uppercase();
        let screen = tty.wait_for(&format!("app ({upper})> "));
        assert!(
            screen.contains(&format!(
                "{upper}: commands run against the live {stage} release"
            )),
            "{screen}"
        );
        let coloured = tty.screen_with_colours();
        let prompt_line = coloured
            .lines()
            .find(|l| l.contains(&format!("app ({upper})>")))
            .unwrap();
        assert!(
            prompt_line.contains("31m"),
            "the prompt is not red: {prompt_line:?}"
        );
    }
    // An ordinary stage is not red.
    let tty = Tmux::start(t.path(), &["-s", "staging"], &[]);
    tty.wait_for("app (staging)> ");
    let coloured = tty.screen_with_colours();
    assert!(!coloured.contains("31m"), "{coloured:?}");
}

#[test]
fn piped_stdin_runs_inputs_in_order_and_stops_at_the_first_error() {
    Test::new()
        .stdin(
            "let x = 1;\nx + 1\nfn f() {\n  x\n}\n:vars\nfail(\"stop here\");\nprint(\"never\");\n",
        )
        .stdout("=> 2\nconst ARGS = [];\nlet x = 1;\n")
        .status(1)
        .stderr("<stdin>:7:1: stop here\n 7 | fail(\"stop here\");\n   | ^\n")
        .run();
}

/// The stdlib is there as namespaces from the first input that names one (`maintenance::`),
/// in a function defined earlier too (here `app::framework` says the release has no
/// framework), and in a script `:load`ed; a namespace that is no module is still an error.
#[test]
fn the_stdlib_is_there_when_an_input_names_it() {
    Test::new()
        .script("on", "print(maintenance::is_on());\n")
        .stdin("maintenance::is_on()\nfn later() { app::framework() }\n:load on\nlater()\n")
        .stdout("=> false\nfalse\n")
        .status(1)
        .stderr_contains("app::framework: no framework found in")
        .run();
    Test::new()
        .stdin("nope::f()\n")
        .status(1)
        .stderr_contains("Undefined module: nope")
        .run();
}

/// `:load` of a script that declares parameters gives them their defaults as `PARAMS`; one
/// that requires a parameter says so, and how its help is found.
#[test]
fn load_gives_a_scripts_parameters_their_defaults() {
    Test::new()
        .script(
            "report",
            "//! Report.\n//! @param days: int = 7  How far back\n//! @flag verbose  More\nfn since() { PARAMS.days * 2 }\nprint(`${PARAMS.days} ${PARAMS.verbose}`);\n",
        )
        .stdin(":load report\nsince()\n")
        .stdout("7 false\n=> 14\n")
        .run();
    Test::new()
        .script("fix", "//! Fix.\n//! @param since: date  From\nprint(PARAMS.since);\n")
        .stdin(":load fix\n")
        .status(1)
        .stderr(":load gives a script's parameters their defaults only: fix: missing `--since <date>`\n  (adminsh fix --help shows its parameters)\n")
        .run();
}

/// A pseudo-terminal pair: (master, slave).
fn openpty() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new file descriptors into `master` and `slave`; the name,
    // termios and window-size pointers may be null.
    let ok = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    } == 0;
    assert!(ok, "openpty: {}", std::io::Error::last_os_error());
    for fd in [master, slave] {
        // SAFETY: `fd` is open; FD_CLOEXEC keeps it out of adminsh, which must not hold the
        // master open (the terminal would never close).
        assert!(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == 0);
    }
    // SAFETY: both descriptors are new, open, and owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    }
}

#[test]
fn a_console_whose_terminal_closes_ends_as_hung_up() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let t = app();
    let (master, slave) = openpty();
    let stderr = t.path().join("stderr.txt");
    let mut command = t.command();
    command
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(std::fs::File::create(&stderr).unwrap());
    // SAFETY: only async-signal-safe calls between fork and exec: the child leads a new
    // session whose controlling terminal is the pty on its stdin, as a login or ssh gives it.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.stdout(Stdio::from(slave)).spawn().unwrap();
    // Only adminsh holds the terminal now.
    drop(command);
    // Read the terminal until the prompt shows, then close it: the terminal goes away.
    let (seen, prompt) = std::sync::mpsc::channel();
    let mut reader = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut screen = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buffer) {
            if n == 0 {
                break;
            }
            screen.extend_from_slice(&buffer[..n]);
            if String::from_utf8_lossy(&screen).contains(PROMPT.trim_end()) {
                let _ = seen.send(());
                break;
            }
        }
    });
    prompt
        .recv_timeout(crate::support::wait::PATIENCE)
        .expect("the console's prompt");
    drop(master);
    let output = crate::support::processes::finish(child, "the console to end");
    assert_eq!(output.status.code(), Some(129), "{output:?}");
    assert_eq!(
        std::fs::read_to_string(&stderr).unwrap(),
        "adminsh: hung up: the terminal or the connection closed (SIGHUP)\n"
    );
    let audit = std::fs::read_to_string(t.path().join(".adminsh/audit.jsonl")).unwrap();
    let finish: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(finish["outcome"], "interrupted", "{finish}");
    assert_eq!(finish["exit_code"], 129, "{finish}");
}
