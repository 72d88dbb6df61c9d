//! The exact command lines that carry the forwarded argv (`command_line.rs`) to a target: the
//! `ssh` and `kubectl exec` argvs and the remote adminsh's own words. Pure functions, so the tests
//! can hold them to the last word.

use super::payload;
use crate::process::quote_home;
use crate::release::{Host, Kubectl, Ssh, Target};

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
    use crate::release::Via;

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
            job: false,
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
            job: false,
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
}
