//! HTTP from scripts against a real server on 127.0.0.1 (Python's `http.server`, with TLS from
//! a CA made by openssl): methods, bodies, headers, JSON, errors for a status other than 2xx,
//! timeouts, read-only and dry runs, masking, the `--json` record, and Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::require;
use crate::support::wait::{wait_for_file, wait_for_port};

/// Answers every method with JSON describing the request; `/status/N` answers N, `/slow/S`
/// waits S seconds first; each request is logged as `METHOD PATH` in `requests.log`.
const SERVER: &str = r#"
import json, os, ssl, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self):
        with open(os.path.join(os.path.dirname(sys.argv[1]), "requests.log"), "a") as log:
            log.write(f"{self.command} {self.path}\n")
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = self.path.split("?")[0].split("/")
        if parts[1:2] == ["slow"]:
            time.sleep(float(parts[2]))
        status = int(parts[2]) if parts[1:2] == ["status"] else 200
        payload = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-test", "one")
        self.send_header("x-test", "two")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

class Server(ThreadingHTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"#;

/// A server for one test, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    #[track_caller]
    fn start(tls: Option<(&Path, &Path)>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
        let port_file = dir.path().join("port");
        let mut command = Command::new("python3");
        command.arg(dir.path().join("server.py")).arg(&port_file);
        if let Some((cert, key)) = tls {
            command.arg(cert).arg(key);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port: u16 = wait_for_file(&port_file).trim().parse().unwrap();
        wait_for_port(port, String::new);
        Server { child, port, dir }
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn methods_bodies_headers_and_json() {
    require!(Python);
    let server = Server::start(None);
    let url = |path: &str| server.url("http", path);
    for (expr, expected) in [
        (
            format!(
                r#"let r = http_get("{}", #{{headers: #{{"X-Token": "abc"}}}}); [r.status, r.headers["x-test"], r.json().path, r.json().headers["x-token"]]"#,
                url("/orders?since=2026-11-01")
            ),
            r#"[200, "one, two", "/orders?since=2026-11-01", "abc"]"#.to_owned(),
        ),
        (
            format!(
                r#"let j = http_post("{}", #{{id: 7, at: from_unix(0)}}).json(); [j.method, j.headers["content-type"], parse_json(j.body)]"#,
                url("/orders")
            ),
            r#"["POST", "application/json", #{"at": "1970-01-01T00:00:00Z", "id": 7}]"#.to_owned(),
        ),
        (
            format!(
                r#"let j = http_put("{}", "plain text").json(); [j.method, j.headers["content-type"], j.body]"#,
                url("/notes/1")
            ),
            r#"["PUT", "text/plain; charset=utf-8", "plain text"]"#.to_owned(),
        ),
        (
            format!(
                r#"let j = http_post("{}", "<x/>", #{{headers: #{{"Content-Type": "application/xml"}}}}).json(); j.headers["content-type"]"#,
                url("/x")
            ),
            "application/xml".to_owned(),
        ),
        (
            format!(r#"http_delete("{}").json().method"#, url("/notes/1")),
            "DELETE".to_owned(),
        ),
        (
            format!(
                r#"let j = http_request("PATCH", "{}", #{{json: [1, 2]}}).json(); [j.method, j.body]"#,
                url("/p")
            ),
            r#"["PATCH", "[1,2]"]"#.to_owned(),
        ),
        (
            format!(
                r#"let r = http_request("head", "{}", #{{}}); [r.status, r.body]"#,
                url("/h")
            ),
            r#"[200, ""]"#.to_owned(),
        ),
    ] {
        Test::new()
            .args(&["-e", &expr])
            .stdout(&format!("{expected}\n"))
            .run();
    }
}

#[test]
fn a_status_other_than_2xx_is_an_error_unless_unchecked() {
    require!(Python);
    let server = Server::start(None);
    let url = server.url("http", "/status/404");
    let done = Test::new()
        .args(&["-e", &format!(r#"http_get("{url}")"#)])
        .status(1)
        .any_stderr()
        .run();
    assert!(
        done.stderr.starts_with(&format!(
            "-e:1:1: GET {url} failed: 404 Not Found\nthe start of its body:\n  | {{\"method\": \"GET\""
        )),
        "{}",
        done.stderr
    );
    let conflict = server.url("http", "/status/409");
    Test::new()
        .args(&[
            "-e",
            &format!(
                r#"print(http_get("{}", #{{unchecked: true}}).status); try {{ http_post("{conflict}", ()) }} catch (e) {{ print(e) }}"#,
                server.url("http", "/status/503"),
            ),
        ])
        .stdout_contains("503\n")
        .stdout_contains(&format!("POST {conflict} failed: 409 Conflict\n"))
        .run();
}

#[test]
fn timeouts_refusals_and_bad_arguments_are_errors() {
    require!(Python);
    let server = Server::start(None);
    let slow = server.url("http", "/slow/5");
    let start = Instant::now();
    Test::new()
        .args(&["-e", &format!(r#"http_get("{slow}", #{{timeout: 0.5}})"#)])
        .status(1)
        .stderr_contains(&format!("GET {slow}: timed out after 0.5s"))
        .run();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let url = server.url("http", "/");
    for (expr, message) in [
        (
            r#"http_get("http://127.0.0.1:1/")"#.to_owned(),
            "GET http://127.0.0.1:1/: connection refused".to_owned(),
        ),
        (
            r#"http_get("not a url")"#.to_owned(),
            "GET not a url: ".to_owned(),
        ),
        (
            format!(r#"http_get("{url}", #{{bogus: 1}})"#),
            "http: unknown option `bogus` (the options are headers, json, body, timeout, unchecked and ca_file)".to_owned(),
        ),
        (
            format!(r#"http_get("{url}", #{{timeout: -1}})"#),
            "http's timeout must be 0 seconds or more, not -1".to_owned(),
        ),
        (
            format!(r#"http_get("{url}", #{{headers: "x"}})"#),
            "http: `headers` is a map of names to values".to_owned(),
        ),
        (
            format!(r#"http_post("{url}", 5)"#),
            "http: a body is a map or an array (sent as JSON), a string or a blob, not an int".to_owned(),
        ),
        (
            format!(r#"http_request("NOT A METHOD", "{url}", #{{}})"#),
            "http: `NOT A METHOD` is not an HTTP method".to_owned(),
        ),
        (
            format!(r#"json(http_request("HEAD", "{url}", #{{}}))"#),
            "the response body is not JSON: ".to_owned(),
        ),
        (
            r"json(#{status: 200})".to_owned(),
            "json(response): the map has no `body` (is it an HTTP response?)".to_owned(),
        ),
    ] {
        Test::new()
            .args(&["-e", &expr])
            .status(1)
            .stderr_contains(&message)
            .run();
    }
}

#[test]
fn read_only_runs_only_get_and_head_and_a_dry_run_sends_only_those() {
    require!(Python);
    let server = Server::start(None);
    let url = |path: &str| server.url("http", path);
    Test::new()
        .args(&[
            "--read-only",
            "-e",
            &format!(
                r#"print(http_get("{}").status); print(http_request("HEAD", "{}", #{{}}).status)"#,
                url("/ro-get"),
                url("/ro-head")
            ),
        ])
        .stdout("200\n200\n")
        .run();
    for expr in [
        format!(r#"http_post("{}", #{{}})"#, url("/ro-post")),
        format!(r#"http_put("{}", "x")"#, url("/ro-put")),
        format!(r#"http_delete("{}")"#, url("/ro-delete")),
        format!(r#"http_request("PATCH", "{}", #{{}})"#, url("/ro-patch")),
    ] {
        Test::new()
            .args(&["--read-only", "-e", &expr])
            .status(1)
            .stderr_contains("refused in read-only mode: ")
            .run();
    }
    Test::new()
        .args(&[
            "--dry-run",
            "-e",
            &format!(
                r#"print(http_post("{}", #{{a: 1}}).status); print(http_get("{}").status)"#,
                url("/dry-post"),
                url("/dry-get")
            ),
        ])
        .stdout("0\n200\n")
        .stderr_contains(&format!("dry run: would send POST {}\n", url("/dry-post")))
        .run();
    assert_eq!(
        server.requests(),
        "GET /ro-get\nHEAD /ro-head\nGET /dry-get\n"
    );
}

#[test]
fn secrets_are_masked_and_requests_recorded_in_the_json_report() {
    require!(Python);
    let server = Server::start(None);
    let url = server.url("http", "/status/401");
    let url_with_password = url.replace("http://", "http://deploy:hunter22@");
    let done = Test::new()
        .file(
            ".env",
            &format!("API_TOKEN=tok-8c1f2e9a77\nHOOK_URL={url_with_password}\n"),
        )
        .args(&[
            "-e",
            &format!(
                r#"try {{ http_get("{url}?token=" + env("API_TOKEN"), #{{headers: #{{Authorization: "Bearer " + env("API_TOKEN")}}}}) }} catch (e) {{ print(e) }} http_get(env("HOOK_URL"))"#
            ),
        ])
        .status(1)
        .any_stdout()
        .any_stderr()
        .run();
    for output in [&done.stdout, &done.stderr] {
        assert!(!output.contains("tok-8c1f2e9a77"), "{output}");
        assert!(!output.contains("hunter22"), "{output}");
    }
    assert!(
        done.stdout
            .contains(&format!("GET {url}?token=**** failed: 401 Unauthorized")),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("\"authorization\": \"Bearer ****\""),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr.contains(&format!(
            "GET {} failed: 401",
            url.replace("http://", "http://deploy:****@")
        )),
        "{}",
        done.stderr
    );
    let done = Test::new()
        .file(".env", "API_TOKEN=tok-8c1f2e9a77\n")
        .args(&[
            "--json",
            "-e",
            &format!(
                r#"http_get("{}?t=" + env("API_TOKEN")).status"#,
                server.url("http", "/ok")
            ),
        ])
        .any_stdout()
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let commands = report["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1, "{report}");
    assert_eq!(
        commands[0]["argv"]
            .as_array()
            .or(commands[0]["stages"][0].as_array())
            .map(|a| a
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()),
        Some(vec![
            "GET".to_owned(),
            format!("{}?t=****", server.url("http", "/ok"))
        ]),
        "{report}"
    );
    assert!(!done.stdout.contains("tok-8c1f2e9a77"));
}

/// A CA, and a certificate for 127.0.0.1 it signed: (ca.pem, leaf.pem, leaf.key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=adminsh test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

#[test]
fn tls_with_a_private_ca() {
    require!(Python, Openssl);
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(certs.path());
    let server = Server::start(Some((&cert, &key)));
    let url = server.url("https", "/secure");
    Test::new()
        .args(&["-e", &format!(r#"http_get("{url}")"#)])
        .status(1)
        .stderr_contains(&format!("GET {url}: "))
        .stderr_contains(
            "UnknownIssuer (signed by a private CA? give its certificate: #{ca_file: \"ca.pem\"})",
        )
        .run();
    Test::new()
        .file("config/ca.pem", &std::fs::read_to_string(&ca).unwrap())
        .args(&[
            "-e",
            &format!(r#"http_get("{url}", #{{ca_file: "config/ca.pem"}}).json().path"#),
        ])
        .stdout("/secure\n")
        .run();
    Test::new()
        .file("config/not-a-cert.pem", "hello")
        .args(&[
            "-e",
            &format!(r#"http_get("{url}", #{{ca_file: "config/not-a-cert.pem"}})"#),
        ])
        .status(1)
        .stderr_contains("the ca_file holds no certificate")
        .run();
    Test::new()
        .args(&[
            "-e",
            &format!(r#"http_get("{url}", #{{ca_file: "missing.pem"}})"#),
        ])
        .status(1)
        .stderr_contains("http: cannot read the ca_file `missing.pem`: no such file or directory")
        .run();
}

#[test]
fn ctrl_c_ends_a_request_at_once() {
    require!(Python);
    let server = Server::start(None);
    let t = Test::new().script(
        "fetch",
        &format!(
            "write_file(\"started\", \"yes\\n\");\nhttp_get(\"{}\", #{{timeout: 120}});\nwrite_file(\"after\", \"\");\n",
            server.url("http", "/slow/60")
        ),
    );
    let child = t.spawn(&["fetch"]);
    wait_for_file(&t.path().join("started"));
    crate::support::wait::wait_until("the request to reach the server", || {
        server.requests().contains("/slow/60")
    });
    let start = Instant::now();
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(!t.path().join("after").exists());
}
