//! Remote targets against a real sshd on 127.0.0.1 (support/sshd.rs), with a second temp dir
//! as the deployed release and the same adminsh binary as the remote one: scripts, the console
//! in a terminal, arguments with every metacharacter, exit codes, Ctrl-C, an unreachable port,
//! `--each` and `--parallel` over two servers, `--targets`; kubectl through a stand-in that
//! records its argv and runs the command after `--` as `kubectl exec` would in the pod.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::support::processes::{Signal, alive, finish, parent, signal};
use crate::support::sshd::{Client, Sshd, free_port, user};
use crate::support::tmux::Tmux;
use crate::support::tools::require;
use crate::support::wait::{wait_for_file, wait_until};
use crate::support::{BIN, Test};

/// The deployed release: its own manifest, version and scripts.
pub(crate) fn release() -> Test {
    Test::new()
        .file("adminsh.toml", "name = \"shop\"\n")
        .file("REVISION", "4f2c9e1\n")
        .script(
            "hello",
            r"
            //! Say hello from the release.
            print(`hello from ${release().name} with ${ARGS.len()} arguments`);
            ",
        )
        .script("args", "print(to_json(ARGS));\n")
        .script("three", "print(\"about to exit\");\nexit(3);\n")
        .script("boom", "let x = 1;\nfail(`boom ${x}`);\n")
}

/// The remote release's root as the remote adminsh reports it.
pub(crate) fn root(release: &Test) -> PathBuf {
    release.path().canonicalize().unwrap()
}

/// `[targets.NAME]` reaching `release` through the server on `port`.
pub(crate) fn target(
    name: &str,
    client: &Client,
    port: u16,
    release: &Test,
    extra: &str,
) -> String {
    format!(
        "[targets.{name}]\nssh = \"{}@127.0.0.1\"\nport = {port}\ndir = \"{}\"\nadminsh = \"{BIN}\"\n{}{extra}",
        user(),
        root(release).display(),
        client.toml(),
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

/// The line the remote adminsh starts with.
pub(crate) fn announce(name: &str, release: &Test, stage: &str) -> String {
    format!(
        "adminsh: {name}: shop 4f2c9e1 at {} on {}, stage {stage}\n",
        root(release).display(),
        hostname()
    )
}

/// A local app whose manifest has target `production`, and the server behind it.
pub(crate) fn setup() -> (Client, Sshd, Test) {
    let client = Client::new();
    let sshd = client.sshd(&[]);
    let remote = release();
    (client, sshd, remote)
}

pub(crate) fn local(client: &Client, sshd: &Sshd, remote: &Test, extra: &str) -> Test {
    Test::new().file(
        "adminsh.toml",
        &target("production", client, sshd.port, remote, extra),
    )
}

#[test]
fn a_script_runs_in_the_release_on_the_target_which_says_so() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    local(&client, &sshd, &remote, "")
        .args(&["-t", "production", "hello", "a", "b"])
        .stdout("hello from shop with 2 arguments\n")
        .stderr(&announce("production", &remote, "development"))
        .run();
}

#[test]
fn exit_codes_and_errors_come_back_as_if_local() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let app = local(&client, &sshd, &remote, "");
    let app = app
        .args(&["-t", "production", "three"])
        .status(3)
        .stdout("about to exit\n")
        .stderr(&announce("production", &remote, "development"))
        .run()
        .again();
    let script = root(&remote).join("scripts/boom.rhai");
    app.args(&["--target", "production", "boom"])
        .status(1)
        .stderr(&format!(
            "{}{}:2:1: boom 1\n 2 | fail(`boom ${{x}}`);\n   | ^\n",
            announce("production", &remote, "development"),
            script.display()
        ))
        .run();
}

#[test]
fn eval_list_env_and_check_run_there_too() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let said = announce("production", &remote, "development");
    let app = local(&client, &sshd, &remote, "")
        .args(&[
            "-t",
            "production",
            "-e",
            "`${release().name} ${ARGS}`",
            "x y",
        ])
        .stdout("shop [\"x y\"]\n")
        .stderr(&said)
        .run()
        .again();
    let app = app
        .args(&["-t", "production", "--list"])
        .stdout(&format!(
            "Scripts of shop in {}/scripts:\n    args\n    boom\n    hello  # Say hello from the release.\n    three\n",
            root(&remote).display()
        ))
        .stderr(&said)
        .run()
        .again();
    let app = app
        .args(&["-t", "production", "--check"])
        .stdout("4 scripts ok\n")
        .stderr(&said)
        .run()
        .again();
    // The target's config, its secrets masked there before they travel.
    std::fs::write(
        remote.path().join(".env"),
        "API_TOKEN=tok-5ecr3t-value\nDATABASE_URL=postgres://app:hunter2@db/app\nPORT=5\n",
    )
    .unwrap();
    let done = app
        .args(&["-t", "production", "--env"])
        .stdout_contains(&format!(
            "# release {} (shop, stage development)\n\
             API_TOKEN=****  # .env:1\n\
             DATABASE_URL=postgres://app:****@db/app  # .env:2\n\
             PORT=5  # .env:3\n",
            root(&remote).display()
        ))
        .stderr(&said)
        .run();
    assert!(
        !done.stdout.contains("5ecr3t") && !done.stdout.contains("hunter2"),
        "{}",
        done.stdout
    );
}

#[test]
fn the_stage_is_the_targets_unless_the_command_line_says() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let app = local(&client, &sshd, &remote, "stage = \"staging\"\n")
        .args(&["-t", "production", "-e", "release().stage"])
        .stdout("staging\n")
        .stderr(&announce("production", &remote, "staging"))
        .run()
        .again();
    app.args(&["-s", "qa", "-t", "production", "-e", "release().stage"])
        .stdout("qa\n")
        .stderr(&announce("production", &remote, "qa"))
        .run();
}

/// xorshift64*: the same strings on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Strings made of what shells, ssh and terminals treat specially.
fn nasty_strings(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "0",
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "'",
        "\"",
        "`",
        "$",
        "$(",
        ")",
        "$(id)",
        "${HOME}",
        "$HOME",
        ";",
        "&",
        "&&",
        "|",
        "||",
        ">",
        "<",
        "<<EOF",
        "*",
        "?",
        "[",
        "]",
        "{a,b}",
        "~",
        "#",
        "!",
        "!!",
        "\\",
        "\\\\",
        "\\n",
        "%",
        "^",
        "=",
        ",",
        "-",
        "--",
        "-e",
        "é",
        "中文",
        "🦀",
        "e\u{301}",
        "\u{a0}",
        "\u{1b}[31m",
        "'\\''",
        "\"$(rm -rf /)\"",
    ];
    let mut rng = Rng(0x00ad_5eed_2026_1125);
    let mut strings: Vec<String> = [
        "",
        " ",
        "--",
        "-",
        "a b",
        "it's",
        "$(touch /tmp/adminsh-pwned)",
        "; exit 7",
        "\n",
        "line one\nline two",
        "tab\there",
        "back\\slash",
        "--stage=production",
        "-C",
    ]
    .map(String::from)
    .to_vec();
    while strings.len() < count {
        let pieces = usize::try_from(rng.next() % 8).unwrap();
        let s: String = (0..pieces)
            .map(|_| PIECES[usize::try_from(rng.next() % PIECES.len() as u64).unwrap()])
            .collect();
        strings.push(s);
    }
    strings
}

#[test]
fn arguments_cross_byte_for_byte_with_no_shell_in_between() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let args = nasty_strings(60);
    let mut app = local(&client, &sshd, &remote, "").args(&["-t", "production", "args"]);
    for arg in &args {
        app = app.arg(arg);
    }
    let out = app
        .any_stdout()
        .stderr(&announce("production", &remote, "development"))
        .run();
    let received: Vec<String> = serde_json::from_str(out.stdout.trim_end()).unwrap();
    assert_eq!(received, args);
    assert!(!Path::new("/tmp/adminsh-pwned").exists());
}

#[test]
fn stdin_is_the_remote_processs_stdin() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let said = announce("production", &remote, "development");
    let app = local(&client, &sshd, &remote, "")
        .args(&["-t", "production", "-e", "cmd(\"cat\").read()"])
        .stdin("from here\n")
        .stdout("from here\n")
        .stderr(&said)
        .run()
        .again();
    // The console without a terminal reads its inputs from stdin, there as here.
    app.args(&["-t", "production"])
        .stdin("let x = 40;\nx + 2\n")
        .stdout("=> 42\n")
        .stderr(&said)
        .run();
}

#[test]
fn the_console_opens_there_in_a_terminal() {
    require!(Ssh, Sshd, Tmux);
    let (client, sshd, remote) = setup();
    let app = local(&client, &sshd, &remote, "");
    let tty = Tmux::start(app.path(), &["-t", "production"], &[]);
    let prompt = "shop (development)> ";
    let screen = tty.wait_for(prompt);
    assert!(
        screen.contains(&format!(
            "{}adminsh console: shop 4f2c9e1 at {}, stage development\n",
            announce("production", &remote, "development"),
            root(&remote).display()
        )),
        "{screen}"
    );
    // Each input waits for the prompt: the line editor loses input typed ahead.
    tty.line("let x = 40 + 2;");
    tty.wait_for_count(prompt, 2);
    tty.line("x");
    tty.wait_for("=> 42");
    tty.wait_for_count(prompt, 3);
    // Ctrl-C reaches the remote console, which clears the line and stays.
    tty.type_text("not run");
    tty.wait_for(&format!("{prompt}not run"));
    tty.keys(&["C-c"]);
    tty.wait_for_count(prompt, 4);
    tty.line("release().root");
    tty.wait_for(&format!("=> \"{}\"", root(&remote).display()));
    tty.wait_for_count(prompt, 5);
    tty.keys(&["C-d"]);
    tty.wait_for("[exited 0]");
}

#[test]
fn ctrl_c_here_stops_the_remote_script_and_what_it_started() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let remote = remote.script(
        "slow",
        r#"cmd("sh", ["-c", "echo $$ > sleeper.pid; exec sleep 1000"]).run();
        write_file("after.txt", "should not run");
        "#,
    );
    let app = local(&client, &sshd, &remote, "");
    let mut child = app.spawn(&["-t", "production", "slow"]);
    // The remote side has announced itself (Ctrl-C may cut off what is still on its way).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert_eq!(first, announce("production", &remote, "development"));
    let sleeper: u32 = wait_for_file(&remote.path().join("sleeper.pid"))
        .parse()
        .unwrap();
    let remote_adminsh = parent(sleeper);
    assert!(alive(sleeper) && alive(remote_adminsh));
    signal(child.id(), Signal::Int);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(rest, "adminsh: interrupted\n");
    wait_until(
        "the remote `sleep 1000` and its adminsh to end with the connection",
        || !alive(sleeper) && !alive(remote_adminsh),
    );
    assert!(!remote.path().join("after.txt").exists());
    // The remote adminsh said "interrupted" to a connection that was gone, and went on to
    // record how its run ended.
    let audit = std::fs::read_to_string(remote.path().join(".adminsh/audit.jsonl")).unwrap();
    let finish: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(finish["event"], "finish", "{audit}");
    assert_eq!(finish["outcome"], "interrupted", "{audit}");
}

#[test]
fn an_unreachable_target_is_an_error_naming_it() {
    require!(Ssh);
    let client = Client::new();
    let remote = release();
    let port = free_port();
    Test::new()
        .file(
            "adminsh.toml",
            &target("production", &client, port, &remote, ""),
        )
        .args(&["-t", "production", "hello"])
        .status(255)
        .stderr(&format!(
            "adminsh: cannot reach target `production` ({}@127.0.0.1:{port}): ssh: connect to host 127.0.0.1 port {port}: Connection refused\n",
            user()
        ))
        .run();
}

#[test]
fn adminsh_missing_on_the_target_is_an_error_too() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let manifest = target("production", &client, sshd.port, &remote, "").replace(
        &format!("adminsh = \"{BIN}\""),
        "adminsh = \"/nowhere/adminsh\"",
    );
    Test::new()
        .file("adminsh.toml", &manifest)
        .args(&["-t", "production", "hello"])
        .status(255)
        .stderr_contains(&format!(
            "adminsh: adminsh did not start on target `production` ({}@127.0.0.1:{}): ",
            user(),
            sshd.port
        ))
        .stderr_contains("/nowhere/adminsh: No such file or directory\n")
        .run();
}

/// Two servers standing for two hosts, each telling its sessions which one it is.
fn two_hosts(client: &Client) -> (Sshd, Sshd) {
    (
        client.sshd(&[("HOST_ROLE", "one")]),
        client.sshd(&[("HOST_ROLE", "two")]),
    )
}

fn fleet(client: &Client, one: &Sshd, two: &Sshd, remote: &Test) -> Test {
    let hosts = format!(
        "hosts = [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]\n",
        one.port, two.port
    );
    Test::new().file(
        "adminsh.toml",
        &target("production", client, one.port, remote, &hosts),
    )
}

#[test]
fn each_runs_on_every_host_in_turn_with_lines_prefixed_and_a_summary() {
    require!(Ssh, Sshd);
    let client = Client::new();
    let (one, two) = two_hosts(&client);
    let remote = release().script(
        "role",
        r#"
        print(`role ${env("HOST_ROLE")}`);
        print("second line");
        if env("HOST_ROLE") == "two" { exit(3); }
        "#,
    );
    let said = announce("production", &remote, "development");
    let (p1, p2) = (one.port, two.port);
    fleet(&client, &one, &two, &remote)
        .args(&["-t", "production", "--each", "role"])
        .status(1)
        .stdout(&format!(
            "[127.0.0.1:{p1}] role one\n[127.0.0.1:{p1}] second line\n\
             [127.0.0.1:{p2}] role two\n[127.0.0.1:{p2}] second line\n"
        ))
        .stderr(&format!(
            "[127.0.0.1:{p1}] {said}[127.0.0.1:{p2}] {said}\
             adminsh: production on 2 hosts: 1 failed\n\
             \x20 127.0.0.1:{p1}  exit 0\n\
             \x20 127.0.0.1:{p2}  exit 3\n"
        ))
        .run();
    // Without --each, the target's `ssh` destination alone.
    fleet(&client, &one, &two, &remote)
        .args(&["-t", "production", "role"])
        .stdout("role one\nsecond line\n")
        .stderr(&said)
        .run();
}

#[test]
fn parallel_runs_hosts_at_once_and_an_unreachable_one_is_in_the_summary() {
    require!(Ssh, Sshd);
    let client = Client::new();
    let (one, two) = two_hosts(&client);
    // Each host waits for the other to have started: only runs at the same time finish. (As
    // `-e`: the two "hosts" share one release, where a script would take its lock.)
    let remote = release();
    let meet = r#"
        let me = env("HOST_ROLE");
        let other = if me == "one" { "two" } else { "one" };
        write_file(`${me}.here`, "");
        let waited = 0;
        while !exists(`${other}.here`) {
            if waited > 400 { fail(`${other} never came`); }
            cmd("sleep", ["0.05"]).run();
            waited += 1;
        }
        print(`${me} met ${other}`);
    "#;
    let (p1, p2) = (one.port, two.port);
    let out = fleet(&client, &one, &two, &remote)
        .args(&["-t", "production", "--parallel", "2", "-e", meet])
        .any_stdout()
        .any_stderr()
        .run();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    let mut expected = [
        format!("[127.0.0.1:{p1}] one met two"),
        format!("[127.0.0.1:{p2}] two met one"),
    ];
    expected.sort();
    assert_eq!(lines, expected);
    assert!(
        out.stderr.ends_with(&format!(
            "adminsh: production on 2 hosts: all succeeded\n  127.0.0.1:{p1}  exit 0\n  127.0.0.1:{p2}  exit 0\n"
        )),
        "{}",
        out.stderr
    );
    // A host that cannot be reached is named on its own lines and in the summary.
    let gone = free_port();
    let hosts = format!("hosts = [\"127.0.0.1:{p1}\", \"127.0.0.1:{gone}\"]\n");
    Test::new()
        .file(
            "adminsh.toml",
            &target("production", &client, p1, &remote, &hosts),
        )
        .args(&["-t", "production", "--parallel", "2", "hello"])
        .status(1)
        .stdout(&format!("[127.0.0.1:{p1}] hello from shop with 0 arguments\n"))
        .stderr_contains(&format!(
            "[127.0.0.1:{gone}] adminsh: cannot reach target `production` ({}@127.0.0.1:{gone}): ssh: connect to host 127.0.0.1 port {gone}: Connection refused\n",
            user()
        ))
        .stderr_contains(&{
            let (a, b) = (format!("127.0.0.1:{p1}"), format!("127.0.0.1:{gone}"));
            let width = a.len().max(b.len());
            format!(
                "adminsh: production on 2 hosts: 1 failed\n  {a:width$}  exit 0\n  {b:width$}  unreachable\n"
            )
        })
        .run();
}

#[test]
fn ctrl_c_stops_every_host_of_a_fan_out() {
    require!(Ssh, Sshd);
    let client = Client::new();
    let (one, two) = two_hosts(&client);
    let remote = release();
    let slow = r#"cmd("sh", ["-c", `echo $$ > ${env("HOST_ROLE")}.pid; exec sleep 1000`]).run();"#;
    let app = fleet(&client, &one, &two, &remote);
    let child = app.spawn(&["-t", "production", "--parallel", "2", "-e", slow]);
    let sleepers: Vec<u32> = ["one", "two"]
        .map(|role| {
            wait_for_file(&remote.path().join(format!("{role}.pid")))
                .parse()
                .unwrap()
        })
        .to_vec();
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop");
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (p1, p2) = (one.port, two.port);
    assert!(
        stderr.contains(&format!("[127.0.0.1:{p1}] adminsh: interrupted\n"))
            && stderr.ends_with(&format!(
                "adminsh: production on 2 hosts: interrupted\n  127.0.0.1:{p1}  interrupted\n  127.0.0.1:{p2}  interrupted\n"
            )),
        "{stderr}"
    );
    wait_until("both remote sleeps to end after Ctrl-C", || {
        !sleepers.iter().any(|&pid| alive(pid))
    });
}

const TARGETS: &str = r#"
    [targets.production]
    ssh = "deploy@app1"
    port = 2222
    dir = "/srv/shop/current"
    hosts = ["app1", "app2"]

    [targets.k8s]
    kubectl = "deploy/shop"
    namespace = "shop"
    container = "web"
    context = "prod-eu"
    dir = "/app"
"#;

#[test]
fn targets_lists_each_target_and_how_it_is_reached() {
    Test::new()
        .file("adminsh.toml", TARGETS)
        .args(&["--targets"])
        .stdout(
            "
            k8s         kubectl --context prod-eu exec deploy/shop -n shop -c web /app
            production  ssh deploy@app1:2222 /srv/shop/current, --each on app1 app2
            ",
        )
        .run()
        .again()
        .file("adminsh.toml", "name = \"shop\"\n")
        .args(&["--targets"])
        .stderr_contains("adminsh: no targets in ")
        .run();
}

#[test]
fn mistakes_with_targets_are_usage_errors() {
    let t = Test::new().file("adminsh.toml", TARGETS);
    let manifest = t.path().join("adminsh.toml");
    let t = t
        .args(&["-t", "prodution", "fix"])
        .status(2)
        .stderr(&format!(
            "adminsh: no target `prodution` in {}\n  did you mean `production`?\n",
            manifest.display()
        ))
        .run()
        .again();
    let t = t
        .args(&["-t", "production", "--each"])
        .status(2)
        .stderr("adminsh: the console opens on one host: --each and --parallel run a script, -e, --list, --env or --check on every host\n")
        .run()
        .again();
    let t = t
        .args(&["-t", "k8s", "--parallel", "2", "fix"])
        .status(2)
        .stderr("adminsh: target `k8s` is reached by kubectl: --each and --parallel run on the `hosts` of an ssh target\n")
        .run()
        .again();
    let t = t
        .args(&["--each", "fix"])
        .status(2)
        .stderr_contains("the following required arguments were not provided")
        .run()
        .again();
    t.file(
        "adminsh.toml",
        "[targets.production]\nssh = \"deploy@app1\"\nkubectl = \"deploy/shop\"\n",
    )
    .args(&["-t", "production", "fix"])
    .status(1)
    .stderr(&format!(
        "adminsh: {}:1:2: target `production`: it has both `ssh` and `kubectl`; a target is reached one way\n",
        manifest.display()
    ))
    .run();
}

/// A stand-in for kubectl: records its argv (one word per line), then runs what follows
/// `--` as `kubectl exec` runs it in the container, or fails as kubectl does without a cluster.
fn fake_kubectl(app: Test, reachable: bool) -> Test {
    let body = if reachable {
        "while [ \"$1\" != -- ]; do shift; done\nshift\nexec \"$@\"\n"
    } else {
        "echo 'error: You must be logged in to the server (Unauthorized)' >&2\nexit 1\n"
    };
    app.executable(
        "bin/kubectl",
        &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv.txt\"\n{body}"),
    )
}

fn kubectl_app(remote: &Test, reachable: bool) -> Test {
    let manifest = format!(
        "[targets.k8s]\nkubectl = \"deploy/shop\"\nnamespace = \"shop\"\ncontainer = \"web\"\ncontext = \"prod-eu\"\ndir = \"{}\"\nadminsh = \"{BIN}\"\n",
        root(remote).display()
    );
    let app = fake_kubectl(Test::new().file("adminsh.toml", &manifest), reachable);
    let path = format!(
        "{}:{}",
        app.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    app.env("PATH", path)
}

#[test]
fn kubectl_exec_gets_the_exact_argv_and_no_shell() {
    let remote = release();
    let out = kubectl_app(&remote, true)
        .args(&["-t", "k8s", "args", "it's $(x); y", "two\nlines"])
        .stdout("[\"it's $(x); y\",\"two\\nlines\"]\n")
        .stderr(&announce("k8s", &remote, "development"))
        .run();
    let argv = std::fs::read_to_string(out.path().join("bin/argv.txt")).unwrap();
    let words: Vec<&str> = argv.lines().collect();
    let dir = root(&remote).display().to_string();
    assert_eq!(
        words[..words.len() - 1],
        [
            "--context",
            "prod-eu",
            "exec",
            "-i",
            "-n",
            "shop",
            "-c",
            "web",
            "deploy/shop",
            "--",
            BIN,
            "-C",
            &dir,
            "--remote-argv",
        ]
    );
    let payload = words.last().unwrap();
    assert!(payload.starts_with("v1,"), "{payload}");
    assert!(
        payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-,".contains(&b)),
        "{payload}"
    );
}

#[test]
fn kubectl_failing_to_connect_is_an_error_naming_the_target() {
    let remote = release();
    kubectl_app(&remote, false)
        .args(&["-t", "k8s", "hello"])
        .status(255)
        .stderr("adminsh: cannot reach target `k8s` (kubectl --context prod-eu exec deploy/shop -n shop -c web): error: You must be logged in to the server (Unauthorized)\n")
        .run();
}

/// Option values that start with `-` work through a target as they do here (they used to
/// reach the remote adminsh as flags: exit 2), and so does a target `dir` starting with `-`.
#[test]
fn values_starting_with_a_dash_cross_to_the_target() {
    let rows: [(&[&str], &str); 6] = [
        (&["-e=-1"], "-1\n"),
        (&["-s=-p", "-e", "release().stage"], "-p\n"),
        (&["--reason=-x", "-e", "1"], "1\n"),
        (&["--env-file=-x.env", "-e", "env(\"FROM_FILE\")"], "yes\n"),
        (
            &["-e", "ARGS", "--", "-a", "--b=-c"],
            "[\"-a\", \"--b=-c\"]\n",
        ),
        (&["--", "args", "-e", "-1"], "[\"-e\",\"-1\"]\n"),
    ];
    for (args, stdout) in rows {
        let remote = release();
        let app = kubectl_app(&remote, true).file("-x.env", "FROM_FILE=yes\n");
        app.args(&["-t", "k8s"])
            .args(args)
            .stdout(stdout)
            .any_stderr()
            .run();
    }
    // The release deployed at `-deployed`, relative to where the target's adminsh starts.
    let app = kubectl_app(&release(), true);
    let manifest = std::fs::read_to_string(app.path().join("adminsh.toml")).unwrap();
    let dir = manifest
        .lines()
        .find_map(|l| l.strip_prefix("dir = "))
        .unwrap()
        .to_owned();
    let deployed = app.path().join("-deployed");
    std::fs::create_dir(&deployed).unwrap();
    std::fs::write(deployed.join("adminsh.toml"), "name = \"dashed\"\n").unwrap();
    let manifest = manifest.replace(&format!("dir = {dir}"), "dir = \"-deployed\"");
    app.file("adminsh.toml", &manifest)
        .args(&["-t", "k8s", "-e", "release().name"])
        .stdout("dashed\n")
        .any_stderr()
        .run();
}

/// `--shards` through an ssh target: the target's adminsh runs the shards there, and their
/// output comes back marked with each shard, with the summary.
#[test]
fn shards_run_on_the_target() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = setup();
    let remote = remote.script("walk", "batches(1..=4, 2, |b| print(b));");
    let out = local(&client, &sshd, &remote, "")
        .args(&["-t", "production", "--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("adminsh: scripts/walk.rhai in 2 shards: all finished\n  shard 1/2  finished\n  shard 2/2  finished\n")
        .run();
    let mut lines: Vec<&str> = out.stdout.lines().filter(|l| l.ends_with(']')).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["[shard 1/2] [1, 2]", "[shard 2/2] [3, 4]"],
        "{}",
        out.stdout
    );
}
