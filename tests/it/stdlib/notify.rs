//! `std/notify` against a local webhook server (Python's `http.server`): Slack's payload and a
//! generic JSON one, retries when the server fails, the webhook's key masked everywhere adminsh
//! writes, and dry and read-only runs that send nothing.

use std::process::{Child, Command, Stdio};

use super::place;
use crate::support::Test;
use crate::support::tools::require;
use crate::support::wait::{wait_for_file, wait_for_port};

/// Logs each request as a line of JSON `{method, path, body, type, source}` in `requests.log`
/// and answers `ok`; a path starting `/flaky/N/` fails with 500 its first N times, one starting
/// `/down/` always fails with 503.
const SERVER: &str = r#"
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = {}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        with open(os.path.join(os.path.dirname(sys.argv[1]), "requests.log"), "a") as log:
            log.write(json.dumps({
                "method": self.command,
                "path": self.path,
                "body": body,
                "type": self.headers.get("content-type"),
                "source": self.headers.get("x-source"),
            }) + "\n")
        parts = self.path.split("/")
        seen[self.path] = seen.get(self.path, 0) + 1
        status = 200
        if parts[1] == "flaky" and seen[self.path] <= int(parts[2]):
            status = 500
        if parts[1] == "down":
            status = 503
        answer = b"ok" if status == 200 else b"no hook here today"
        self.send_response(status)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"#;

/// The webhook's key, which nothing adminsh writes may show.
const KEY: &str = "T0001/B0002/s3cr3tw3bh00kk3y";

/// A webhook server for one test, stopped when dropped.
struct Hooks {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Hooks {
    #[track_caller]
    fn start() -> Hooks {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new("python3")
            .arg(dir.path().join("server.py"))
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port: u16 = wait_for_file(&port_file).trim().parse().unwrap();
        wait_for_port(port, String::new);
        Hooks { child, port, dir }
    }

    /// A webhook URL whose path starts with `prefix` (`/services`, `/flaky/2/services`).
    fn url(&self, prefix: &str) -> String {
        format!("http://127.0.0.1:{}{prefix}/{KEY}", self.port)
    }

    /// What a message about `url` shows of it.
    fn masked(&self) -> String {
        format!("http://127.0.0.1:{}/****", self.port)
    }

    /// The requests so far, one JSON line each.
    fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An app whose config holds the webhook at `prefix` as `SLACK_WEBHOOK_URL` (a name that says
/// nothing of a secret), running `code` after the import.
fn notify(hooks: &Hooks, prefix: &str, flags: &[&str], code: &str) -> Test {
    Test::new()
        .file(
            ".env",
            &format!("SLACK_WEBHOOK_URL={}\n", hooks.url(prefix)),
        )
        .args(flags)
        .args(&["-e", &format!("import \"std/notify\" as notify;\n{code}")])
}

#[test]
fn messages_reach_the_webhook_and_failures_are_tried_again() {
    require!(Python);
    let hooks = Hooks::start();
    notify(
        &hooks,
        "/services",
        &[],
        r##"notify::slack("SLACK_WEBHOOK_URL", "deploy done", #{channel: "#ops", username: "adminsh"})"##,
    )
    .stdout("true\n")
    .run();
    let url = hooks.url("/other");
    notify(
        &hooks,
        "/services",
        &[],
        &format!(
            r#"notify::webhook("{url}", #{{event: "migrated", rows: 3}}, #{{headers: #{{"X-Source": "adminsh"}}}})"#
        ),
    )
    .stdout("true\n")
    .run();
    let requests = hooks.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0]["path"], format!("/services/{KEY}"));
    assert_eq!(
        requests[0]["body"],
        r##"{"channel":"#ops","text":"deploy done","username":"adminsh"}"##
    );
    assert_eq!(requests[0]["type"], "application/json");
    assert_eq!(requests[1]["path"], format!("/other/{KEY}"));
    assert_eq!(requests[1]["body"], r#"{"event":"migrated","rows":3}"#);
    assert_eq!(requests[1]["source"], "adminsh");

    // A server that fails twice: the third attempt delivers, and no line shows the key.
    let done = notify(
        &hooks,
        "/flaky/2/services",
        &[],
        r#"notify::slack("SLACK_WEBHOOK_URL", "backup done", #{backoff: 0.1})"#,
    )
    .stdout("true\n")
    .any_stderr()
    .run();
    let masked = hooks.masked();
    assert_eq!(
        done.stderr,
        format!(
            "warning: retry: attempt 1 of 3 failed: POST {masked} failed: 500 Internal Server Error\n\
             the start of its body:\n  | no hook here today; trying again in 100ms\n\
             warning: retry: attempt 2 of 3 failed: POST {masked} failed: 500 Internal Server Error\n\
             the start of its body:\n  | no hook here today; trying again in 200ms\n\
             info: retry: attempt 3 of 3 succeeded\n"
        )
    );
    assert_eq!(hooks.requests().len(), 5);

    // A server that stays down: the script fails, saying so, the key masked everywhere.
    let done = notify(
        &hooks,
        "/down",
        &["--json"],
        r#"notify::slack("SLACK_WEBHOOK_URL", "backup done", #{retries: 2, backoff: 0.1})"#,
    )
    .status(1)
    .any_stdout()
    .any_stderr()
    .run();
    assert!(
        done.stderr.contains(&format!(
            "warning: retry: attempt 2 of 2 failed: POST {masked} failed: 503 Service Unavailable"
        )),
        "{}",
        done.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains(&format!("POST {masked} failed: 503 Service Unavailable")),
        "{report}"
    );
    assert_eq!(
        report["commands"][0]["argv"],
        serde_json::json!(["POST", masked])
    );
    for output in [&done.stdout, &done.stderr] {
        assert!(!output.contains("s3cr3t"), "the key shows:\n{output}");
    }
    assert_eq!(hooks.requests().len(), 7);
}

#[test]
fn dry_and_read_only_runs_send_nothing() {
    require!(Python);
    let hooks = Hooks::start();
    let masked = hooks.masked();
    let send = r#"notify::slack("SLACK_WEBHOOK_URL", "deploy done")"#;
    notify(&hooks, "/services", &["--dry-run"], send)
        .stdout("false\n")
        .stderr(&format!(
            "dry run: would post to {masked}: deploy done\n\
             dry run: nothing was changed. It would have run:\n  post to {masked}: deploy done\n"
        ))
        .run();
    let refusal = place("notify", "fail(`${who} refused under --read-only");
    notify(&hooks, "/services", &["--read-only"], send)
        .status(1)
        .stderr_contains(&format!(
            "{refusal}: notify::slack refused under --read-only: it would post to {masked}: deploy done\n"
        ))
        .run();
    assert!(hooks.requests().is_empty());
}

#[test]
fn bad_inputs_are_errors_in_the_module_naming_the_call() {
    let url = "http://127.0.0.1:9/services/T0001/B0002/xyz";
    let options = "fail(who + \": unknown option";
    for (code, needle, message) in [
        (
            "notify::slack(42, \"hi\")".to_owned(),
            "fail(`${who}: the webhook is a URL",
            "notify::slack: the webhook is a URL or a config key, not i64".to_owned(),
        ),
        (
            "notify::slack(\"NO_SUCH_HOOK\", \"hi\")".to_owned(),
            "env(webhook)",
            "`NO_SUCH_HOOK` is not set".to_owned(),
        ),
        (
            "notify::slack(\"ftp://files.example.com/drop/in/here\", \"hi\")".to_owned(),
            "fail(`${who}: ${webhook} is not an http",
            "notify::slack: ftp://files.example.com/drop/in/here is not an http:// or https:// URL"
                .to_owned(),
        ),
        (
            format!("notify::slack(\"{url}\", 42)"),
            "fail(`notify::slack: the text",
            "notify::slack: the text is a string, not i64".to_owned(),
        ),
        (
            format!("notify::slack(\"{url}\", \"hi\", #{{chanel: \"#ops\"}})"),
            options,
            "notify::slack: unknown option `chanel` (it knows channel, username, icon_emoji, icon_url, retries, backoff, timeout)".to_owned(),
        ),
        (
            format!("notify::slack(\"{url}\", \"hi\", \"#ops\")"),
            "fail(`${who} takes a map",
            "notify::slack takes a map of options, not string".to_owned(),
        ),
        (
            format!("notify::webhook(\"{url}\", \"hi\")"),
            "fail(`notify::webhook: the payload",
            "notify::webhook: the payload is a map or an array, sent as JSON, not string".to_owned(),
        ),
        (
            format!("notify::webhook(\"{url}\", #{{}}, #{{retries: 5000}})"),
            "retry(option(",
            "retry: times must be 1 to 1000, not 5000".to_owned(),
        ),
    ] {
        let done = Test::new()
            .args(&["-e", &format!("import \"std/notify\" as notify;\n{code}")])
            .status(1)
            .any_stderr()
            .run();
        let first = done.stderr.lines().next().unwrap_or_default();
        let at = place("notify", needle);
        assert!(
            first.starts_with(&format!("{at}: ")) && first.contains(&message),
            "{code}: expected {at}: ...{message}\n{}",
            done.stderr
        );
        let called = code.split('(').next().unwrap().trim_start_matches("notify::");
        assert!(
            done.stderr
                .lines()
                .last()
                .unwrap_or_default()
                .starts_with(&format!("  in `{called}`, called at -e:2:")),
            "{code}: the last frame is the caller's line\n{}",
            done.stderr
        );
    }
}
