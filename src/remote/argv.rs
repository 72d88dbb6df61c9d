//! The exact command lines: what adminsh asks the remote adminsh to do (the forwarded argv),
//! and the `ssh` and `kubectl exec` argvs that carry it there. Pure functions, so the tests
//! can hold them to the last word.

use crate::options::{Flags, ReleaseMode};
use crate::process::quote::quote_home;

use super::payload;
use crate::release::targets::{Host, Kubectl, Ssh, Target};

/// What the remote process's stdin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stdin {
    /// This terminal, through a remote terminal (`ssh -t`, `kubectl exec -it`): the console.
    Terminal,
    /// adminsh's stdin, as a stream (`ssh -T`, `kubectl exec -i`).
    Forward,
    /// Nothing (`ssh -n`): `--each`, where hosts cannot share one stdin.
    Closed,
}

/// The argv the remote adminsh runs, without the program name: the same mode, script and
/// arguments as this command line, announced as run through target `name`.
///
/// Every option value travels as `--flag=value`, one word, so a value that starts with `-`
/// (`-s=-p`, `--reason=-x`, `-e=-1`) parses there as it did here instead of as a flag.
pub(crate) fn forwarded(
    mode: &ReleaseMode,
    options: &Flags,
    name: &str,
    stage: Option<&str>,
) -> Vec<String> {
    let with = |flag: &str, value: &str| format!("{flag}={value}");
    let mut argv = vec![with("--announce", name)];
    if let Some(stage) = options.release.stage.as_deref().or(stage) {
        argv.push(with("--stage", stage));
    }
    for file in &options.release.env_files {
        argv.push(with("--env-file", &file.display().to_string()));
    }
    if options.run.allow_outside_release {
        argv.push("--allow-outside-release".into());
    }
    if options.json {
        argv.push("--json".into());
    }
    let run = &options.run;
    for (set, flag) in [
        (run.dry_run, "--dry-run"),
        (run.read_only, "--read-only"),
        (run.yes, "--yes"),
        (run.restart, "--restart"),
        (run.wait, "--wait"),
    ] {
        if set {
            argv.push(flag.into());
        }
    }
    if let Some(reason) = &run.reason {
        argv.push(with("--reason", reason));
    }
    match mode {
        ReleaseMode::Script { script, args } => {
            argv.extend(["--".to_owned(), script.clone()]);
            argv.extend(args.iter().cloned());
        }
        ReleaseMode::Eval { code, args } => {
            argv.extend([with("--eval", code), "--".to_owned()]);
            argv.extend(args.iter().cloned());
        }
        ReleaseMode::Console => {}
        ReleaseMode::List => argv.push("--list".into()),
        ReleaseMode::Check => argv.push("--check".into()),
        ReleaseMode::Audit => argv.push("--audit".into()),
        ReleaseMode::Env { all } => {
            argv.push("--env".into());
            if *all {
                argv.push("--all".into());
            }
        }
    }
    argv
}

/// `PROGRAM [-C DIR] --remote-argv PAYLOAD`: what runs on the target.
pub(crate) fn remote_words(target: &Target, forwarded: &[String]) -> Vec<String> {
    let mut words = vec![target.program.clone()];
    if let Some(dir) = &target.dir {
        // `-C -x` would read `-x` as a flag; `./-x` is the same directory. (Not `--dir=DIR`: the
        // remote shell expands a leading `~/` only at the start of a word.)
        let dir = if dir.starts_with('-') {
            format!("./{dir}")
        } else {
            dir.clone()
        };
        words.extend(["-C".to_owned(), dir]);
    }
    words.extend(["--remote-argv".to_owned(), payload::encode(forwarded)]);
    words
}

/// The one string ssh hands to the remote login shell: `exec PROGRAM -C DIR --remote-argv
/// PAYLOAD`, the program and the directory quoted as they need. `exec`, so adminsh is the
/// session's own child and learns when the connection goes (see `serve`).
pub(crate) fn remote_command(target: &Target, forwarded: &[String]) -> String {
    let words = remote_words(target, forwarded);
    let mut line = String::from("exec");
    for (i, word) in words.iter().enumerate() {
        line.push(' ');
        // The program and the directory may need quotes; the flags and the payload never do.
        let quoted = i == 0 || words.get(i.wrapping_sub(1)).is_some_and(|w| w == "-C");
        if quoted {
            line.push_str(&quote_home(word));
        } else {
            line.push_str(word);
        }
    }
    line
}

pub(crate) fn ssh(
    target: &Target,
    ssh: &Ssh,
    host: &Host,
    forwarded: &[String],
    stdin: Stdin,
) -> Vec<String> {
    let mut argv = vec!["ssh".to_owned()];
    argv.extend(ssh.options.iter().cloned());
    let mut push = |words: &[&str]| argv.extend(words.iter().map(|w| (*w).to_owned()));
    if stdin != Stdin::Terminal {
        // No prompt for a password or a passphrase can be answered: fail instead of hanging.
        push(&["-o", "BatchMode=yes"]);
    }
    push(&["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]);
    if let Some(port) = host.port {
        push(&["-p", &port.to_string()]);
    }
    if let Some(identity) = &ssh.identity {
        push(&["-i", identity]);
    }
    match stdin {
        Stdin::Terminal => push(&["-t"]),
        Stdin::Forward => push(&["-T"]),
        Stdin::Closed => push(&["-T", "-n"]),
    }
    push(&["--", &host.destination()]);
    argv.push(remote_command(target, forwarded));
    argv
}

pub(crate) fn kubectl(
    target: &Target,
    k: &Kubectl,
    forwarded: &[String],
    stdin: Stdin,
) -> Vec<String> {
    let mut argv = vec!["kubectl".to_owned()];
    if let Some(context) = &k.context {
        argv.extend(["--context".to_owned(), context.clone()]);
    }
    argv.push("exec".into());
    match stdin {
        Stdin::Terminal => argv.extend(["-i".to_owned(), "-t".to_owned()]),
        Stdin::Forward => argv.push("-i".into()),
        Stdin::Closed => {}
    }
    if let Some(namespace) = &k.namespace {
        argv.extend(["-n".to_owned(), namespace.clone()]);
    }
    if let Some(container) = &k.container {
        argv.extend(["-c".to_owned(), container.clone()]);
    }
    argv.extend([k.resource.clone(), "--".to_owned()]);
    // No shell in between: the words arrive as they are.
    argv.extend(remote_words(target, forwarded));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::targets::Via;

    fn ssh_target(options: Vec<String>) -> (Target, Ssh) {
        let destination = Host::parse("deploy@app1", None, Some(2222)).unwrap();
        let ssh = Ssh {
            hosts: vec![destination.clone()],
            destination,
            identity: Some("~/.ssh/deploy".into()),
            options,
        };
        let target = Target {
            dir: Some("/srv/shop's app/current".into()),
            program: "/usr/local/bin/adminsh".into(),
            stage: None,
            via: Via::Ssh(ssh.clone()),
        };
        (target, ssh)
    }

    #[test]
    fn the_ssh_argv_for_a_script() {
        let (target, ssh) = ssh_target(vec![]);
        let forwarded = [
            "--announce".into(),
            "production".into(),
            "--".into(),
            "fix".into(),
        ];
        let argv = super::ssh(&target, &ssh, &ssh.destination, &forwarded, Stdin::Forward);
        let payload = payload::encode(&forwarded);
        assert_eq!(payload, "v1,LS1hbm5vdW5jZQ,cHJvZHVjdGlvbg,LS0,Zml4");
        assert_eq!(
            argv,
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
                "-p",
                "2222",
                "-i",
                "~/.ssh/deploy",
                "-T",
                "--",
                "deploy@app1",
                &format!(
                    r"exec /usr/local/bin/adminsh -C '/srv/shop'\''s app/current' --remote-argv {payload}"
                ),
            ]
        );
    }

    #[test]
    fn the_console_gets_a_terminal_and_each_gets_no_stdin() {
        let (target, ssh) = ssh_target(vec!["-F".into(), "/dev/null".into()]);
        let argv = super::ssh(&target, &ssh, &ssh.destination, &[], Stdin::Terminal);
        assert_eq!(
            argv[..10],
            [
                "ssh",
                "-F",
                "/dev/null",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
                "-p",
                "2222",
                "-i"
            ]
        );
        assert_eq!(argv[11..13], ["-t", "--"]);
        let argv = super::ssh(&target, &ssh, &ssh.destination, &[], Stdin::Closed);
        assert!(argv.windows(3).any(|w| w == ["-T", "-n", "--"]), "{argv:?}");
        assert!(argv.last().unwrap().ends_with("--remote-argv v1"));
    }

    #[test]
    fn the_kubectl_argv_has_no_shell() {
        let k = Kubectl {
            resource: "deploy/shop".into(),
            namespace: Some("shop".into()),
            container: Some("web".into()),
            context: Some("prod-eu".into()),
        };
        let target = Target {
            dir: Some("/app".into()),
            program: "adminsh".into(),
            stage: None,
            via: Via::Kubectl(k.clone()),
        };
        let forwarded: Vec<String> = ["--announce", "k8s", "--", "fix", "it's $(x); y"]
            .map(String::from)
            .to_vec();
        let payload = payload::encode(&forwarded);
        let tail = [
            "deploy/shop",
            "--",
            "adminsh",
            "-C",
            "/app",
            "--remote-argv",
            payload.as_str(),
        ];
        let argv = super::kubectl(&target, &k, &forwarded, Stdin::Forward);
        let mut expected = vec![
            "kubectl",
            "--context",
            "prod-eu",
            "exec",
            "-i",
            "-n",
            "shop",
            "-c",
            "web",
        ];
        expected.extend(tail);
        assert_eq!(argv, expected);
        let argv = super::kubectl(&target, &k, &forwarded, Stdin::Terminal);
        assert_eq!(argv[3..6], ["exec", "-i", "-t"]);
        let bare = Kubectl {
            resource: "shop-7d9f".into(),
            namespace: None,
            container: None,
            context: None,
        };
        let target = Target {
            dir: None,
            ..target
        };
        assert_eq!(
            super::kubectl(&target, &bare, &[], Stdin::Closed),
            [
                "kubectl",
                "exec",
                "shop-7d9f",
                "--",
                "adminsh",
                "--remote-argv",
                "v1"
            ]
        );
    }

    fn options(args: &[&str]) -> crate::options::Options {
        use clap::Parser;
        let cli =
            crate::cli::Cli::try_parse_from(std::iter::once("adminsh").chain(args.iter().copied()));
        cli.unwrap().into_options().unwrap()
    }

    /// The argv forwarded for this command line, as run through target `name`.
    fn forward(options: &crate::options::Options, name: &str, stage: Option<&str>) -> Vec<String> {
        let crate::options::Mode::Release(mode) = &options.mode else {
            panic!("{options:?} runs no release");
        };
        forwarded(mode, &options.flags, name, stage)
    }

    #[test]
    fn the_forwarded_argv_repeats_the_command_line_but_the_target() {
        let o = options(&[
            "-C",
            "app",
            "-t",
            "prod",
            "--parallel",
            "3",
            "-s",
            "qa",
            "fix",
            "--each",
            "-t",
            "x",
        ]);
        assert_eq!(
            o.flags.remote,
            Some(crate::options::Request {
                target: "prod".into(),
                each: Some(3)
            })
        );
        assert_eq!(
            forward(&o, "prod", Some("production")),
            [
                "--announce=prod",
                "--stage=qa",
                "--",
                "fix",
                "--each",
                "-t",
                "x"
            ]
        );
        let o = options(&[
            "-t",
            "prod",
            "--each",
            "--json",
            "-e",
            "ARGS",
            "-n",
            "--env-file",
            "e",
        ]);
        assert_eq!(o.flags.remote.as_ref().unwrap().each, Some(1));
        assert_eq!(
            forward(&o, "prod", Some("production")),
            [
                "--announce=prod",
                "--stage=production",
                "--env-file=e",
                "--json",
                "--dry-run",
                "--eval=ARGS",
                "--"
            ]
        );
        let o = options(&[
            "--target",
            "prod",
            "--env",
            "--all",
            "--yes",
            "--reason",
            "ticket 12",
        ]);
        assert_eq!(o.flags.remote.as_ref().unwrap().each, None);
        assert_eq!(
            forward(&o, "prod", None),
            [
                "--announce=prod",
                "--yes",
                "--reason=ticket 12",
                "--env",
                "--all"
            ]
        );
        assert_eq!(forward(&options(&["-t", "p"]), "p", None), ["--announce=p"]);
        assert_eq!(
            forward(&options(&["-t", "p", "--list"]), "p", None),
            ["--announce=p", "--list"]
        );
    }

    /// What the remote side sees of a command line: everything but the target.
    fn seen(o: &crate::options::Options) -> String {
        format!(
            "{:?} {:?} {:?} {:?}",
            o.mode, o.flags.release.stage, o.flags.release.env_files, o.flags.run.reason
        )
    }

    /// Values that start with `-` (or look like flags, or hold `=`) parse on the target as they
    /// did here: the forwarded argv, parsed back, means the same.
    #[test]
    fn forwarded_values_round_trip_whatever_they_start_with() {
        use clap::Parser;
        let values = [
            "-1",
            "-x",
            "-p",
            "--",
            "-",
            "--help",
            "-e",
            "--stage=y",
            "=",
            "a=b",
            "",
            " spaced ",
            "-t",
            "x",
        ];
        for value in values {
            let lines: [Vec<String>; 6] = [
                vec![format!("-e={value}")],
                vec![format!("-s={value}"), "fix".into()],
                vec![format!("--reason={value}"), "--list".into()],
                vec![format!("--env-file={value}"), "--env".into()],
                vec![
                    "-e".into(),
                    "ARGS".into(),
                    "--".into(),
                    value.into(),
                    value.into(),
                ],
                vec!["--".into(), value.into(), value.into()],
            ];
            for line in lines {
                let mut args: Vec<&str> = vec!["-t", "prod"];
                args.extend(line.iter().map(String::as_str));
                // Some are no command line here either (`--env-file=` names no file).
                let Ok(here) = crate::cli::Cli::try_parse_from(
                    std::iter::once("adminsh").chain(args.iter().copied()),
                ) else {
                    assert_eq!((line[0].as_str(), value), ("--env-file=", ""));
                    continue;
                };
                let here = here.into_options().unwrap();
                let argv = forward(&here, value, None);
                let there = options(&argv.iter().map(String::as_str).collect::<Vec<_>>());
                let why = format!("{line:?} forwarded as {argv:?}");
                assert_eq!(seen(&there), seen(&here), "{why}");
                assert_eq!(there.flags.announce.as_deref(), Some(value), "{why}");
            }
        }
    }

    #[test]
    fn a_target_directory_starting_with_a_dash_stays_a_directory() {
        let (mut target, _) = ssh_target(vec![]);
        for (dir, word) in [("-x", "./-x"), ("--dir", "./--dir"), ("~/app", "~/app")] {
            target.dir = Some(dir.into());
            let words = remote_words(&target, &[]);
            assert_eq!(words[1..3], ["-C", word]);
            let cli = clap::Parser::try_parse_from(&words[..3]).map(|c: crate::cli::Cli| c.dir);
            assert_eq!(cli.unwrap(), Some(word.into()));
        }
    }
}
