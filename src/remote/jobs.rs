//! Running on a kubectl target with `job = true`: a script or `-e` becomes a Kubernetes Job
//! (`job.rs` makes it) whose pod runs adminsh with the forwarded argv; adminsh creates it,
//! follows its log and exits with its container's exit code, or, with `--detach`, returns once
//! it is created. `--runs`, `--logs`, `--attach` and `--stop` read and act on the Jobs adminsh
//! made, through kubectl, as they do on a run directory elsewhere.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use super::job;
use crate::error::{EXIT_FAILURE, EXIT_UNREACHABLE, Error, interrupted_code};
use crate::interrupt;
use crate::options::{Detach, Flags, ReleaseMode};
use crate::release::{Kubectl, Target};
use crate::runs;
use crate::shard::{Ended, summary};

/// How long the exit code of a container whose log has ended may take to show in its pod.
const EXIT_PATIENCE: Duration = Duration::from_mins(2);
const TICK: Duration = Duration::from_millis(200);
/// How many checks of a sharded Job's pods in a row (one a second) may fail before adminsh
/// stops following it.
const LOST_AFTER: u32 = 60;
/// How long a sharded Job may have no pod (an image to pull, a node to scale) before adminsh
/// stops waiting for one: as long as `kubectl logs` waits for a pod to run.
const FIRST_POD_PATIENCE: Duration = Duration::from_mins(10);

/// Why following a sharded Job stopped before every shard ended.
enum Stopped {
    Signal(i32),
    Lost(String),
}

/// Whether a Job target runs `mode` as a Job (or acts on its Jobs); the others (the console,
/// `--list`, `--env`, ...) go through `kubectl exec` into the Deployment.
pub(crate) fn handles(mode: &ReleaseMode) -> bool {
    matches!(
        mode,
        ReleaseMode::Script { .. }
            | ReleaseMode::Eval { .. }
            | ReleaseMode::Runs
            | ReleaseMode::Logs { .. }
            | ReleaseMode::Attach { .. }
            | ReleaseMode::Stop { .. }
            | ReleaseMode::Pause { .. }
            | ReleaseMode::Resume { .. }
    )
}

/// What a Job target was asked, for target `name`.
pub(crate) struct Jobs<'a> {
    pub name: &'a str,
    pub target: &'a Target,
    pub k: &'a Kubectl,
}

impl Jobs<'_> {
    pub(crate) fn run(&self, mode: &ReleaseMode, flags: &Flags) -> Result<i32, Error> {
        match mode {
            ReleaseMode::Runs => Ok(self.list()),
            ReleaseMode::Logs { id } => self.logs(id),
            ReleaseMode::Attach { id } => self.attach(id),
            ReleaseMode::Stop { id } => self.stop(id),
            ReleaseMode::Pause { .. } | ReleaseMode::Resume { .. } => Err(Error::usage(format!(
                "target `{}` runs scripts as Kubernetes Jobs, which cannot be paused yet:                  `--stop` deletes a Job, and running the script again resumes after its completed steps",
                self.name
            ))),
            _ => self.start(mode, flags),
        }
    }

    fn how(&self) -> String {
        format!("kubectl {}", self.k.describe())
    }

    fn adminsh(&self) -> String {
        format!("adminsh -t {}", self.name)
    }

    /// Creates the Job, then follows it (or, with `--detach`, says how to).
    fn start(&self, mode: &ReleaseMode, flags: &Flags) -> Result<i32, Error> {
        let (script, head, args) = match mode {
            ReleaseMode::Script { script, args } => (script.as_str(), script.clone(), args),
            ReleaseMode::Eval { code, args } => ("eval", format!("-e {code}"), args),
            _ => return Err(Error::usage("a Job runs a script or -e CODE")),
        };
        let id = format!("{}-{}", runs::id_base(script), suffix());
        let mut same = flags.clone();
        same.detach = Detach::No;
        // Each pod is a shard, told so by its environment: none runs shards of its own.
        let shards = same.run.shards.take();
        let forwarded =
            crate::command_line::forwarded(mode, &same, self.name, self.target.stage.as_deref());
        let deployment = match kubectl_json(&job::get_deployment(self.k)) {
            Ok(deployment) => deployment,
            Err(said) => return Ok(self.unreachable(&said)),
        };
        // Masked by name (`--password=...`, the word after `--api-token`): the Job's annotation
        // is read by whoever can list Jobs, and `--runs` prints it.
        let words: Vec<&str> = std::iter::once(head.as_str())
            .chain(args.iter().map(String::as_str))
            .collect();
        let what = crate::release::Redactor::default().words(&words);
        let user = format!("{}@{}", crate::who::user(), crate::who::host());
        let run = job::Run {
            id: &id,
            argv: &forwarded,
            script,
            user: &user,
            what: &what.join(" "),
            shards,
        };
        let manifest = job::manifest(&deployment, self.target, self.k, &run)
            .with_context(|| format!("target `{}`", self.name))
            .map_err(Error::Failed)?;
        if let Err(said) = kubectl_with_input(&job::create(self.k), &manifest.to_string()) {
            return Ok(self.unreachable(&format!("cannot create Job {id}: {said}")));
        }
        let resource = &self.k.resource;
        if flags.detach == Detach::Start {
            let _ = writeln!(std::io::stdout().lock(), "{id}");
            let adminsh = self.adminsh();
            crate::log::err_line(&format!(
                "adminsh: {}: started Job {id} from {resource}, detached\n  \
                 {adminsh} --attach {id}  # follow its output until it ends\n  \
                 {adminsh} --logs {id}    # what it has written so far\n  \
                 {adminsh} --stop {id}    # stop it\n  \
                 {adminsh} --runs{}# the recent runs",
                self.name,
                " ".repeat(id.len() + 3)
            ));
            return Ok(0);
        }
        crate::log::err_line(&format!("adminsh: {}: Job {id} from {resource}", self.name));
        match shards {
            Some(shards) => Ok(self.follow_shards(&id, script, shards.count, true)),
            None => self.follow(&id, true),
        }
    }

    /// Follows an Indexed Job's pods, each one's log as it starts (a pod started again after a
    /// disruption too), every line marked with its shard, until every index has ended; then
    /// says how each ended. Ctrl-C stops the Job when this adminsh started it (`own`), else
    /// only the following. 0 when every shard finished, else 1.
    fn follow_shards(&self, id: &str, script: &str, count: u32, own: bool) -> i32 {
        interrupt::install();
        let mut logs = Vec::new();
        let codes = self.watch_shards(&mut logs, id, count, own);
        // Every pod's log ends once its pod has; one that does not (a follower stuck, or a pod
        // left behind) is not waited for past a few seconds.
        let deadline = Instant::now() + Duration::from_secs(5);
        for (mut child, relay) in logs {
            while codes.is_ok() && !relay.is_finished() && Instant::now() < deadline {
                std::thread::sleep(TICK);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let codes = match codes {
            Ok(codes) => codes,
            Err(Stopped::Signal(signal)) => return interrupted_code(signal),
            Err(Stopped::Lost(why)) => {
                crate::log::err_line(&format!("adminsh: {why}"));
                return EXIT_FAILURE;
            }
        };
        let ended: Vec<Ended> = codes
            .iter()
            .map(|c| c.map_or(Ended::NotStarted, Ended::Exited))
            .collect();
        crate::log::err(&summary(&format!("{script} (Job {id})"), &ended, false));
        i32::from(!codes.iter().all(|c| *c == Some(0)))
    }

    /// The watch loop of [`Jobs::follow_shards`]: each pod's log followed as the pod appears
    /// (its `kubectl logs -f` and the thread relaying it kept in `logs`), until every index
    /// has an exit code. It gives up when kubectl has failed for [`LOST_AFTER`] checks in a
    /// row, when no pod has appeared after [`FIRST_POD_PATIENCE`], and when the pods it saw
    /// are gone (the Job deleted).
    fn watch_shards(
        &self,
        logs: &mut Vec<(Child, std::thread::JoinHandle<()>)>,
        id: &str,
        count: u32,
        own: bool,
    ) -> Result<Vec<Option<i32>>, Stopped> {
        let container = self.k.container.as_deref();
        let mut followed = std::collections::HashSet::new();
        let started = Instant::now();
        let mut failures = 0;
        loop {
            if let Some(signal) = interrupt::signal() {
                self.interrupted(id, own);
                return Err(Stopped::Signal(signal));
            }
            let pods = match kubectl_json(&job::pods(self.k, id)) {
                Ok(pods) => {
                    failures = 0;
                    pods
                }
                Err(said) => {
                    failures += 1;
                    if failures >= LOST_AFTER {
                        return Err(Stopped::Lost(format!(
                            "cannot follow Job {id} on target `{}`: {said}",
                            self.name
                        )));
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            let found = shard_pods(&pods);
            // No pod: the Job may not have made them yet, or be gone.
            let gone = found.is_empty()
                && (!followed.is_empty()
                    || self
                        .jobs()
                        .is_ok_and(|jobs| !jobs.iter().any(|j| j.id == id)));
            if gone {
                return Err(Stopped::Lost(format!("Job {id} is gone (was it deleted?)")));
            }
            if found.is_empty() && started.elapsed() >= FIRST_POD_PATIENCE {
                return Err(Stopped::Lost(format!(
                    "no pod of Job {id} started in {} minutes",
                    FIRST_POD_PATIENCE.as_secs() / 60
                )));
            }
            for (index, name) in found {
                if !followed.insert(name.clone()) {
                    continue;
                }
                let argv = job::pod_logs(self.k, &name, true);
                if let Some(followed) = follow_log(&argv, format!("shard {}/{count}", index + 1)) {
                    logs.push(followed);
                }
            }
            let codes = job::index_exit_codes(&pods, container, count);
            if codes.iter().all(Option::is_some) {
                return Ok(codes);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Ctrl-C while following Job `id`: it is stopped when this adminsh started it (`own`),
    /// else left running, and said so.
    fn interrupted(&self, id: &str, own: bool) {
        if own {
            crate::log::err_line(&format!("adminsh: interrupted: stopping Job {id}"));
            let _ = kubectl_output(&job::delete(self.k, id));
        } else {
            crate::log::err_line(&runs::left_running(id, &self.adminsh()));
        }
    }

    /// Follows the Job's log to its end and returns its container's exit code. Ctrl-C stops
    /// the Job when this adminsh started it (`own`), else only the following.
    fn follow(&self, id: &str, own: bool) -> Result<i32, Error> {
        interrupt::install();
        let argv = job::logs(self.k, id, true);
        let status = match run_interruptible(&argv) {
            Ok(status) => status,
            Err(e) => return Ok(self.unreachable(&format!("cannot run `kubectl`: {e}"))),
        };
        if let Some(signal) = interrupt::signal() {
            self.interrupted(id, own);
            return Ok(interrupted_code(signal));
        }
        if status != 0 {
            crate::log::err_line(&format!(
                "adminsh: cannot follow Job {id} on target `{}` (kubectl logs exited with {status})",
                self.name
            ));
            return Ok(EXIT_FAILURE);
        }
        let deadline = Instant::now() + EXIT_PATIENCE;
        loop {
            let pods = kubectl_json(&job::pods(self.k, id)).unwrap_or(Value::Null);
            if let Some(code) = job::exit_code(&pods, self.k.container.as_deref()) {
                return Ok(code);
            }
            if let Some(signal) = interrupt::signal() {
                return Ok(interrupted_code(signal));
            }
            if Instant::now() >= deadline {
                crate::log::err_line(&format!(
                    "adminsh: Job {id}'s log ended, but its pod shows no exit code after {}s",
                    EXIT_PATIENCE.as_secs()
                ));
                return Ok(EXIT_FAILURE);
            }
            std::thread::sleep(TICK);
        }
    }

    /// The Jobs adminsh made, oldest first, with their pods' exit codes.
    fn jobs(&self) -> Result<Vec<JobRow>, KubectlFailed> {
        let jobs = kubectl_json(&job::jobs(self.k))?;
        let pods = kubectl_json(&job::all_pods(self.k))?;
        let mut rows: Vec<JobRow> = jobs["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|j| JobRow::of(j, &pods, self.k.container.as_deref()))
            .collect();
        rows.sort_by(|a, b| a.started.cmp(&b.started).then(a.id.cmp(&b.id)));
        Ok(rows)
    }

    /// The Job `wanted` names (its name or a unique start of one).
    fn find(&self, wanted: &str) -> Result<Result<JobRow, i32>, Error> {
        let mut rows = match self.jobs() {
            Ok(rows) => rows,
            Err(said) => return Ok(Err(self.unreachable(&said))),
        };
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let where_ = format!("the Jobs of target `{}`", self.name);
        let i = runs::resolve(wanted, &ids, &where_)?;
        Ok(Ok(rows.swap_remove(i)))
    }

    fn list(&self) -> i32 {
        let rows = match self.jobs() {
            Ok(rows) => rows,
            Err(said) => return self.unreachable(&said),
        };
        let mut out = std::io::stdout().lock();
        if rows.is_empty() {
            let _ = writeln!(out, "no Jobs of adminsh on target `{}`", self.name);
            return 0;
        }
        let mut table =
            vec![["ID", "STATUS", "EXIT", "STARTED", "ENDED", "USER", "WHAT"].map(str::to_owned)];
        for row in rows {
            let exit = row.exit.map_or("-".to_owned(), |c| c.to_string());
            table.push([
                row.id,
                row.status,
                exit,
                row.started,
                row.ended,
                row.user,
                row.what,
            ]);
        }
        for line in crate::table::plain(&table) {
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
        0
    }

    fn logs(&self, wanted: &str) -> Result<i32, Error> {
        let row = match self.find(wanted)? {
            Ok(row) => row,
            Err(code) => return Ok(code),
        };
        if let Some(count) = row.shards {
            // Each pod's log in turn, each line marked with its shard.
            let pods = kubectl_json(&job::pods(self.k, &row.id)).unwrap_or(Value::Null);
            for (index, pod) in shard_pods(&pods) {
                let label = format!("shard {}/{count}", index + 1);
                relay_log(&job::pod_logs(self.k, &pod, false), &label);
            }
            return Ok(0);
        }
        let status = Command::new("kubectl")
            .args(&job::logs(self.k, &row.id, false)[1..])
            .stdin(Stdio::null())
            .status()?;
        Ok(if status.success() { 0 } else { EXIT_FAILURE })
    }

    fn attach(&self, wanted: &str) -> Result<i32, Error> {
        match self.find(wanted)? {
            Ok(JobRow {
                id,
                shards: Some(count),
                what,
                ..
            }) => Ok(self.follow_shards(&id, &what, count, false)),
            Ok(row) => self.follow(&row.id, false),
            Err(code) => Ok(code),
        }
    }

    fn stop(&self, wanted: &str) -> Result<i32, Error> {
        let row = match self.find(wanted)? {
            Ok(row) => row,
            Err(code) => return Ok(code),
        };
        if row.status != "running" && row.status != "starting" {
            let exit = row.exit.map_or(String::new(), |c| format!(", exit {c}"));
            crate::log::err_line(&format!(
                "adminsh: Job {} already ended at {} ({}{exit}): nothing to stop",
                row.id, row.ended, row.status
            ));
            return Ok(0);
        }
        crate::log::err_line(&format!(
            "adminsh: stopping Job {}: its pod gets SIGTERM, which stops the script as Ctrl-C would \
             (SIGKILL after the pod's grace period); the Job and its log are deleted",
            row.id
        ));
        match kubectl_output(&job::delete(self.k, &row.id)) {
            Ok(_) => Ok(0),
            Err(said) => Ok(self.unreachable(&said)),
        }
    }

    /// Says kubectl could not do it, and returns the exit code for that.
    fn unreachable(&self, said: &dyn std::fmt::Display) -> i32 {
        crate::log::err_line(&format!(
            "adminsh: cannot reach target `{}` ({}): {said}",
            self.name,
            self.how()
        ));
        EXIT_UNREACHABLE
    }
}

/// One Job as `--runs` shows it.
struct JobRow {
    id: String,
    /// The shards of an Indexed Job (`--shards N`): each pod one.
    shards: Option<u32>,
    /// `starting`, `running`, `succeeded`, `failed`, `interrupted`.
    status: String,
    exit: Option<i32>,
    started: String,
    ended: String,
    user: String,
    what: String,
}

impl JobRow {
    fn of(job: &Value, pods: &Value, container: Option<&str>) -> JobRow {
        let id = job["metadata"]["name"].as_str().unwrap_or("?").to_owned();
        let own: Vec<Value> = pods["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|p| {
                p["metadata"]["labels"]["batch.kubernetes.io/job-name"].as_str() == Some(&id)
            })
            .cloned()
            .collect();
        let exit = job::exit_code(&serde_json::json!({ "items": own }), container);
        let status = &job["status"];
        let count = |key: &str| status[key].as_u64().unwrap_or(0);
        // An Indexed Job's pods end one by one: it runs while any does, and has failed when
        // any of them failed.
        let state = if count("active") > 0 {
            "running".to_owned()
        } else if count("failed") > 0 {
            exit.filter(|c| *c != 0)
                .map_or("failed", runs::outcome_of)
                .to_owned()
        } else if count("succeeded") > 0 {
            "succeeded".to_owned()
        } else {
            "starting".to_owned()
        };
        let ended = status["completionTime"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                status["conditions"].as_array().and_then(|conditions| {
                    conditions
                        .iter()
                        .find(|c| c["type"] == "Failed" && c["status"] == "True")
                        .and_then(|c| c["lastTransitionTime"].as_str().map(str::to_owned))
                })
            });
        let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
        let shards = (job["spec"]["completionMode"] == "Indexed")
            .then(|| job["spec"]["completions"].as_u64())
            .flatten()
            .and_then(|n| u32::try_from(n).ok());
        JobRow {
            id,
            shards,
            status: state,
            exit,
            started: text(&status["startTime"]),
            ended: ended.unwrap_or_else(|| "-".to_owned()),
            user: text(&job["metadata"]["labels"]["adminsh/user"]),
            what: text(&job["metadata"]["annotations"]["adminsh/what"]),
        }
    }
}

/// Four hex digits that differ between two operators starting the same script in the same
/// second, for a Job name no one else has.
fn suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let seed = format!("{nanos}-{}-{}", std::process::id(), crate::who::host());
    format!("{:04x}", crate::hash::fnv(seed.as_bytes()) & 0xffff)
}

/// The pods of an Indexed Job (`kubectl get pods -o json`) with their indexes.
fn shard_pods(pods: &Value) -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = pods["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|pod| {
            let name = pod["metadata"]["name"].as_str()?.to_owned();
            let index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
                .as_str()?
                .parse::<u32>()
                .ok()?;
            Some((index, name))
        })
        .collect();
    found.sort();
    found
}

/// Starts `argv` (`kubectl logs -f` of one pod) and a thread relaying its output, each line
/// marked `[label] `.
fn follow_log(argv: &[String], label: String) -> Option<(Child, std::thread::JoinHandle<()>)> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let relay = std::thread::spawn(move || {
        crate::marked::relay(out, &label, &mut std::io::stdout());
    });
    Some((child, relay))
}

/// Runs `argv` (`kubectl logs` of one pod) to its end, each line of its output marked
/// `[label] `.
fn relay_log(argv: &[String], label: &str) {
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn();
    if let Ok(mut child) = child {
        if let Some(out) = child.stdout.take() {
            crate::marked::relay(out, label, &mut std::io::stdout());
        }
        let _ = child.wait();
    }
}

/// Runs `argv` to its end, its output straight through; Ctrl-C here ends it too.
fn run_interruptible(argv: &[String]) -> std::io::Result<i32> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .spawn()?;
    wait_interruptible(&mut child)
}

fn wait_interruptible(child: &mut Child) -> std::io::Result<i32> {
    let mut told = false;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(crate::process::status::code(status));
        }
        if !told && interrupt::interrupted() {
            told = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Why kubectl could not do what it was asked: what it said (its stderr, trimmed), or why it
/// could not run or be understood. Every caller reports it as the target being unreachable.
#[derive(Debug)]
struct KubectlFailed(String);

impl KubectlFailed {
    /// What a failed kubectl wrote on its stderr.
    fn said(stderr: &[u8]) -> KubectlFailed {
        KubectlFailed(String::from_utf8_lossy(stderr).trim_end().to_owned())
    }
}

impl std::fmt::Display for KubectlFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs kubectl and returns its stdout; its stderr (trimmed) when it fails.
fn kubectl_output(argv: &[String]) -> Result<Vec<u8>, KubectlFailed> {
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| KubectlFailed(format!("cannot run `{}`: {e}", argv[0])))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(KubectlFailed::said(&output.stderr))
    }
}

fn kubectl_json(argv: &[String]) -> Result<Value, KubectlFailed> {
    let stdout = kubectl_output(argv)?;
    serde_json::from_slice(&stdout)
        .map_err(|e| KubectlFailed(format!("`{}` gave no JSON: {e}", argv.join(" "))))
}

/// Runs kubectl with `input` on its stdin.
fn kubectl_with_input(argv: &[String], input: &str) -> Result<(), KubectlFailed> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| KubectlFailed(format!("cannot run `{}`: {e}", argv[0])))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| KubectlFailed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(KubectlFailed::said(&output.stderr))
    }
}
