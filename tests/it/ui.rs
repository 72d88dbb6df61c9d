//! The web view (`adminsh --ui`) against a real app and real runs: a request without the
//! token, an action without the CSRF token, a request addressed to another host and an action
//! with actions off are refused; then a real headless Chromium, driven through `WebDriver`
//! (`ui_browser.py`, selenium), starts a detached backfill from the page, watches its progress
//! advance, pauses it, sees `--runs` agree, resumes it and sees it finish, never finding a
//! secret in a page; its screenshots are left in `target/ui-screenshots/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::require;
use crate::support::{BIN, Test, text};

const SECRET: &str = "tok-5ecr3t-value";
const KEY: &str = "sk-live-5ecr3t-key";

/// The backfill of `pause.rs`, slowed down for the eye (a tenth of a second a batch until id
/// 301), and printing a command's output that holds a secret of the config.
const BACKFILL: &str = r#"//! Marks every item done, a batch at a time.
//!
//! @param api_token: string  The API to tell
import "std/db" as db;
cmd("sh", ["-c", "echo the key is $API_KEY"]).run();
step("backfill", || {
    db::batches(#{table: "items", size: 10}, |rows| {
        for r in rows { db::exec("update items set done = done + 1 where id = $1", [r.id]); }
        db::exec("insert into seen (first) values ($1)", [rows[0].id]);
        if rows[0].id < 301 { sleep(0.1); }
        if rows[0].id == 301 {
            write_file("at-301", "");
            while exists("hold") { sleep(0.02); }
        }
    });
});
print(`done: ${db::scalar("select count(*) from items where done = 1")}`);
"#;

/// The web view, started: the process, its URL, port and token.
struct Served {
    child: Child,
    url: String,
    port: u16,
    token: String,
}

fn serve(app: &Test, args: &[&str]) -> Served {
    let mut all = vec!["--ui"];
    all.extend(args);
    let mut child = app
        .command_with(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{url}"));
    let (port, token) = rest.split_once("/?token=").unwrap();
    Served {
        port: port.parse().unwrap(),
        token: token.to_owned(),
        url: url.clone(),
        child,
    }
}

impl Served {
    /// A raw HTTP/1.1 request; the status and the body.
    fn request(&self, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    fn cookie(&self) -> String {
        format!("adminsh_ui_{}={}", self.port, self.token)
    }

    /// Ends it as Ctrl-C would: exit 130, and it says so.
    fn stop(self) {
        signal(self.child.id(), Signal::Int);
        let ended = finish(self.child, "the web view to stop");
        assert_eq!(ended.status.code(), Some(130));
        assert!(
            text(&ended.stderr).ends_with("adminsh: web view stopped\n"),
            "{}",
            text(&ended.stderr)
        );
    }
}

fn app() -> Test {
    let app = crate::pause::app()
        .file(
            ".env",
            &format!("DATABASE_URL=sqlite:///app.db?mode=rwc\nAPI_KEY={KEY}\n"),
        )
        .script("backfill", BACKFILL);
    std::fs::write(
        app.path().join("adminsh.toml"),
        "name = \"shop\"\nrequire_reason = [\"*\"]\n",
    )
    .unwrap();
    app
}

/// What is refused, and what the page asks for before anything runs.
#[test]
fn requests_without_the_token_or_the_csrf_token_are_refused() {
    let app = app();
    let served = serve(&app, &["--allow-actions"]);
    let port = served.port;
    let (status, body) = served.request(&format!(
        "GET /runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 403);
    assert!(body.contains("this request has no valid token"), "{body}");
    let (status, _) = served.request(&format!(
        "GET /runs?token=wrong HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 403);
    let cookie = served.cookie();
    let (status, body) = served.request(&format!(
        "GET /runs HTTP/1.1\r\nHost: evil.example:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(
        (status, body.contains("not addressed to 127.0.0.1")),
        (403, true),
        "{body}"
    );
    let (status, body) = served.request(&format!(
        "GET /runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 200, "{body}");
    // An action without the CSRF token, or with a wrong one, or from another site.
    for (form, origin) in [
        ("", ""),
        ("csrf=wrong", ""),
        ("csrf=", "Origin: http://evil.example\r\n"),
    ] {
        let (status, body) = served.request(&format!(
            "POST /scripts/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n{origin}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\nscript=backfill&{form}",
            form.len() + 16
        ));
        assert_eq!(status, 403, "{form}: {body}");
        assert!(body.contains("CSRF token is missing or wrong"), "{body}");
    }
    assert!(
        !app.path().join(".adminsh/state/runs").exists(),
        "a refused action started a run"
    );
    // A failed run's page shows its error, masked.
    let failed = app.output(&[
        "--detach",
        "--reason=x",
        "-e",
        "fail(`boom ${env(\"API_KEY\")}`)",
    ]);
    let id = text(&failed.stdout).trim().to_owned();
    crate::detach::ended(&app, &id);
    let (status, page) = served.request(&format!(
        "GET /runs/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 200);
    assert!(
        page.contains("<pre id=\"error\" class=\"error\">-e:1:1: boom ****"),
        "{page}"
    );
    assert!(!page.contains(KEY));
    // A page following a run that goes on does not keep the web view from stopping.
    let waiting = app.output(&[
        "--detach",
        "--reason=x",
        "-e",
        "while !exists(\"go\") { sleep(0.05) }",
    ]);
    let id = text(&waiting.stdout).trim().to_owned();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /runs/{id}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
    )
    .unwrap();
    let mut head = [0; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    served.stop();
    std::fs::write(app.path().join("go"), "").unwrap();
    // With actions off, even the page's own form is refused.
    let served = serve(&app, &[]);
    let (port, cookie) = (served.port, served.cookie());
    let (_, page) = served.request(&format!(
        "GET /scripts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    assert!(!page.contains("<form method=\"post\""), "{page}");
    let (status, body) = served.request(&format!(
        "POST /scripts/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\nConnection: close\r\n\r\nscript=backfill"
    ));
    assert_eq!(status, 403);
    assert!(body.contains("actions are off"), "{body}");
    served.stop();
}

/// In a real browser: start, watch, pause, resume, finish; every action audited with the user.
#[test]
fn a_backfill_is_started_watched_paused_and_resumed_in_a_real_browser() {
    require!(Browser);
    let app = app();
    std::fs::write(app.path().join("hold"), "").unwrap();
    let served = serve(&app, &["--allow-actions"]);
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/ui_browser.py");
    let browser = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .args([
            served.url.as_str(),
            &app.path().display().to_string(),
            BIN,
            &shots.display().to_string(),
            SECRET,
            KEY,
        ])
        .output()
        .unwrap();
    let said = format!("{}{}", text(&browser.stdout), text(&browser.stderr));
    assert!(browser.status.success(), "{said}");
    let ids: serde_json::Value = serde_json::from_str(text(&browser.stdout).trim()).unwrap();
    let (run, resumed) = (
        ids["run"].as_str().unwrap(),
        ids["resumed"].as_str().unwrap(),
    );
    served.stop();
    for name in [
        "scripts",
        "run-progress",
        "run-paused",
        "run-finished",
        "runs",
        "audit",
    ] {
        assert!(
            shots.join(format!("{name}.png")).is_file(),
            "no screenshot {name}"
        );
    }
    // Every row done once, across the pause.
    let count = app.output(&[
        "--reason=check",
        "-e",
        "db::scalar(\"select count(*) from items where done = 1\")",
    ]);
    assert_eq!(
        text(&count.stdout).trim(),
        "1000",
        "{}",
        text(&count.stderr)
    );
    let twice = app.output(&[
        "--reason=check",
        "-e",
        "db::scalar(\"select count(*) from items where done <> 1\")",
    ]);
    assert_eq!(text(&twice.stdout).trim(), "0");
    // The actions are in the audit log, with the user who started the page.
    let audit = std::fs::read_to_string(app.path().join(".adminsh/audit.jsonl")).unwrap();
    let actions: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["event"] == "action")
        .collect();
    let done: Vec<(&str, &str, &str)> = actions
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["run"].as_str().unwrap_or(""),
                a["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        done,
        [
            ("start", run, "done"),
            ("pause", run, "asked"),
            ("resume", run, "done")
        ]
    );
    assert!(
        actions
            .iter()
            .all(|a| a["user"].is_string() && a["via"] == "ui")
    );
    assert_eq!(actions[2]["what"], format!("as {resumed}"));
    assert!(!audit.contains(SECRET) && !audit.contains(KEY));
    let table = text(&app.output(&["--audit"]).stdout);
    assert!(table.contains(&format!("--ui pause {run}")), "{table}");
}

/// The runs on a target, through the same forwarded `--runs` as `-t NAME --runs`, over a real
/// sshd; a target the manifest does not name is not reached.
#[test]
fn the_runs_of_a_target_are_listed_through_the_forwarded_command() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = crate::remote::setup();
    let started = remote.output(&["--detach", "hello"]);
    let id = text(&started.stdout).trim().to_owned();
    crate::detach::ended(&remote, &id);
    let app = crate::remote::local(&client, &sshd, &remote, "");
    let served = serve(&app, &[]);
    let (port, cookie) = (served.port, served.cookie());
    let get = |path: &str| {
        served.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ))
    };
    let (status, page) = get("/runs");
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/targets/production/runs\""), "{page}");
    let (status, page) = get("/targets/production/runs");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("{id}  succeeded  0")), "{page}");
    let (status, _) = get("/targets/elsewhere/runs");
    assert_eq!(status, 404);
    served.stop();
}

/// A sharded run's page lists each shard's walk, as far as it got, beside the walks added up.
#[test]
fn a_sharded_runs_page_lists_each_shards_walk() {
    let app = crate::pause::app().script(
        "sharded",
        "step(\"walk\", || db::batches(#{table: \"items\", size: 100}, |rows| {}));",
    );
    let started = app.output(&["--detach", "--shards", "2", "sharded"]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started.stderr));
    let id = text(&started.stdout).trim().to_owned();
    let record = crate::detach::ended(&app, &id);
    assert_eq!(record["outcome"], "succeeded", "{record}");
    let served = serve(&app, &[]);
    let (port, cookie) = (served.port, served.cookie());
    let (status, page) = served.request(&format!(
        "GET /runs/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 200);
    for shard in 1..=2 {
        let row = format!(
            "<tr class=\"ended\"><td>{shard}</td><td>db::batches items</td><td>500 rows</td><td>100%</td>"
        );
        assert!(page.contains(&row), "{row} in {page}");
    }
    served.stop();
}
