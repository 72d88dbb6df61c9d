//! Kubernetes Jobs (`job = true` on a kubectl target), with no cluster: a stand-in kubectl
//! (`kubectl_job.py`) records every argv, checks each Job against the Kubernetes object
//! schema with the official Python client's models, and runs the Job's container command as
//! the pod would, its output as the pod's log.

use serde_json::{Value, json};

use crate::remote;
use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::require;
use crate::support::wait::{wait_for_text, wait_until};
use crate::support::{BIN, Test, text};

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "shop"}},
            "template": {
                "metadata": {"labels": {"app": "shop"}},
                "spec": {
                    "serviceAccountName": "shop",
                    "containers": [
                        {"name": "proxy", "image": "envoy:1.30"},
                        {
                            "name": "web",
                            "image": "registry.example/shop:4f2c9e1",
                            "command": ["gunicorn", "shop.wsgi"],
                            "env": [{"name": "FROM_POD", "value": "the pod's"}],
                            "ports": [{"containerPort": 8000}],
                            "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}}
                        }
                    ]
                }
            }
        }
    })
}

/// The deployed release (as in remote.rs, with `waits`), and the local app whose target `k8s`
/// makes Jobs of its Deployment.
fn apps() -> (Test, Test) {
    let remote = remote::release().script(
        "waits",
        r#"
        print("waiting");
        cmd("sh", ["-c", "while [ ! -e go ]; do sleep 0.05; done"]).run();
        print(`done with ${env("FROM_POD")} env`);
        exit(3);
        "#,
    );
    let manifest = format!(
        "[targets.k8s]\nkubectl = \"deploy/shop\"\nnamespace = \"shop\"\ncontainer = \"web\"\ncontext = \"prod-eu\"\njob = true\ndir = \"{}\"\nadminsh = \"{BIN}\"\n",
        remote::root(&remote).display()
    );
    let app = Test::new()
        .file("adminsh.toml", &manifest)
        .file("bin/deployment.json", &deployment().to_string())
        .executable("bin/kubectl", include_str!("kubectl_job.py"));
    let path = format!(
        "{}:{}",
        app.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (remote, app.env("PATH", path))
}

/// The kubectl argvs so far, without `--context prod-eu` and `-n shop`, which every one has.
fn calls(app: &Test) -> Vec<Vec<String>> {
    let log = std::fs::read_to_string(app.path().join("bin/argv.jsonl")).unwrap_or_default();
    log.lines()
        .map(|line| {
            let argv: Vec<String> = serde_json::from_str(line).unwrap();
            assert_eq!(argv[..2], ["--context", "prod-eu"], "{argv:?}");
            assert_eq!(argv[argv.len() - 2..], ["-n", "shop"], "{argv:?}");
            argv[2..argv.len() - 2].to_vec()
        })
        .collect()
}

fn job_file(app: &Test, id: &str) -> Value {
    let text = std::fs::read_to_string(app.path().join(format!("bin/jobs/{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_script_runs_as_a_job_of_the_deployments_pod_and_exits_with_its_code() {
    require!(KubernetesClient);
    let (remote, app) = apps();
    std::fs::write(remote.path().join("go"), "").unwrap();
    let output = app.output(&["-t", "k8s", "waits", "x y"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    // A pod has one log: the remote adminsh's stderr comes back with its stdout.
    assert_eq!(
        stdout,
        format!(
            "{}waiting\ndone with the pod's env\n",
            remote::announce("k8s", &remote, "development")
        )
    );
    let id = stderr
        .strip_prefix("adminsh: k8s: Job ")
        .and_then(|rest| rest.strip_suffix(" from deploy/shop\n"))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    assert!(id.starts_with("waits-"), "{id}");
    let s = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let calls = calls(&app);
    assert_eq!(
        calls[..3],
        [
            s(&["get", "deployment", "shop", "-o", "json"]),
            s(&["create", "-f", "-"]),
            s(&[
                "logs",
                "-f",
                "--pod-running-timeout=10m",
                &format!("job/{id}")
            ]),
        ]
    );
    let selector = format!("batch.kubernetes.io/job-name={id}");
    assert!(
        calls[3..]
            .iter()
            .all(|c| *c == s(&["get", "pods", "-l", &selector, "-o", "json"]))
    );
    // The Job: the web container alone, running adminsh with the forwarded argv, once.
    let job = job_file(&app, &id);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "shop");
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(pod["containers"].as_array().unwrap().len(), 1);
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example/shop:4f2c9e1");
    assert_eq!(container["command"], json!([BIN]));
    let root = remote::root(&remote).display().to_string();
    assert_eq!(
        container["args"],
        json!(["-C", root, "--announce=k8s", "--", "waits", "x y"])
    );
    assert!(container.get("readinessProbe").is_none() && container.get("ports").is_none());
    assert_eq!(job["metadata"]["labels"]["adminsh/script"], "waits");
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"].get("app"),
        None
    );
    assert_eq!(job["metadata"]["annotations"]["adminsh/what"], "waits x y");
}

#[test]
fn detached_jobs_are_listed_followed_and_stopped_through_the_target() {
    require!(KubernetesClient);
    let (remote, app) = apps();
    let output = app.output(&["-t", "k8s", "--detach", "waits"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let id = text(&output.stdout).trim().to_owned();
    let said = text(&output.stderr);
    assert!(
        said.starts_with(&format!(
            "adminsh: k8s: started Job {id} from deploy/shop, detached\n"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("  adminsh -t k8s --attach {id}  # follow")),
        "{said}"
    );
    // Without --detach in the pod: the Job is the detached run.
    assert!(
        !job_file(&app, &id)["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--detach"))
    );
    let log = app.path().join(format!("bin/jobs/{id}.log"));
    wait_for_text(&log, "waiting\n");
    let runs = text(&app.output(&["-t", "k8s", "--runs"]).stdout);
    let row = runs
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{runs}"));
    assert!(row.contains(" running "), "{row}");
    assert!(row.ends_with(" waits"), "{row}");
    let logs = app.output(&["-t", "k8s", "--logs", &id[..8]]);
    assert!(
        text(&logs.stdout).ends_with("waiting\n"),
        "{}",
        text(&logs.stdout)
    );
    // Ctrl-C while attached leaves the Job running.
    let following = app.spawn(&["-t", "k8s", "--attach", &id]);
    wait_until("--attach to follow the log", || {
        calls(&app)
            .iter()
            .filter(|c| c.first().is_some_and(|w| w == "logs"))
            .count()
            >= 2
    });
    signal(following.id(), Signal::Int);
    let left = finish(following, "--attach to stop following");
    assert_eq!(left.status.code(), Some(130));
    assert!(text(&left.stderr).contains(&format!(
        "adminsh: stopped following run {id}; it is still running: `adminsh -t k8s --attach {id}`"
    )));
    std::fs::write(remote.path().join("go"), "").unwrap();
    let attached = app.output(&["-t", "k8s", "--attach", &id]);
    assert_eq!(attached.status.code(), Some(3));
    assert!(text(&attached.stdout).ends_with("waiting\ndone with the pod's env\n"));
    let runs = text(&app.output(&["-t", "k8s", "--runs"]).stdout);
    assert!(runs.contains(&format!("{id}  failed  3 ")), "{runs}");
    let stop = app.output(&["-t", "k8s", "--stop", &id]);
    assert_eq!(stop.status.code(), Some(0));
    assert!(
        text(&stop.stderr).contains("already ended"),
        "{}",
        text(&stop.stderr)
    );
    // A running one is stopped: its pod's SIGTERM stops the script as Ctrl-C would.
    std::fs::remove_file(remote.path().join("go")).unwrap();
    let output = app.output(&["-t", "k8s", "--detach", "waits"]);
    let second = text(&output.stdout).trim().to_owned();
    wait_for_text(
        &app.path().join(format!("bin/jobs/{second}.log")),
        "waiting\n",
    );
    let stop = app.output(&["-t", "k8s", "--stop", &second]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert!(text(&stop.stderr).starts_with(&format!("adminsh: stopping Job {second}: ")));
    assert_eq!(
        calls(&app).last().unwrap(),
        &["delete", "job", second.as_str()]
            .map(str::to_owned)
            .to_vec()
    );
    let unknown = app.output(&["-t", "k8s", "--logs", &second]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains(&format!("did you mean `{id}`?")),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn a_container_the_deployment_does_not_have_is_named() {
    require!(KubernetesClient);
    let (_remote, app) = apps();
    let manifest = std::fs::read_to_string(app.path().join("adminsh.toml"))
        .unwrap()
        .replace("container = \"web\"", "container = \"worker\"");
    let app = app.file("adminsh.toml", &manifest);
    let output = app.output(&["-t", "k8s", "hello"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "adminsh: target `k8s`: deployment shop has no container `worker` (its containers: proxy, web)\n"
    );
}

#[test]
fn ctrl_c_stops_a_job_it_started_in_the_foreground() {
    require!(KubernetesClient);
    let (_remote, app) = apps();
    let running = app.spawn(&["-t", "k8s", "waits"]);
    let jobs = app.path().join("bin/jobs");
    let log = crate::support::wait::poll("the Job to start", || {
        let logs: Vec<_> = std::fs::read_dir(&jobs)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .ok_or_else(String::new)
    });
    wait_for_text(&log, "waiting\n");
    wait_until("adminsh to follow the log", || {
        calls(&app)
            .iter()
            .any(|c| c.first().is_some_and(|w| w == "logs"))
    });
    signal(running.id(), Signal::Int);
    let output = finish(running, "adminsh to stop the Job");
    assert_eq!(output.status.code(), Some(130));
    let said = text(&output.stderr);
    let id = log.file_stem().unwrap().to_str().unwrap().to_owned();
    assert!(
        said.ends_with(&format!("adminsh: interrupted: stopping Job {id}\n")),
        "{said}"
    );
    assert_eq!(
        calls(&app).last().unwrap(),
        &["delete", "job", id.as_str()].map(str::to_owned).to_vec()
    );
    assert!(!log.exists());
}

/// The Job's `adminsh/what` annotation, which whoever can list Jobs reads and `--runs` prints,
/// masks secret arguments by name, as the audit log does.
#[test]
fn a_jobs_annotation_masks_secret_arguments() {
    require!(KubernetesClient);
    let (remote, app) = apps();
    std::fs::write(remote.path().join("go"), "").unwrap();
    let output = app.output(&[
        "-t",
        "k8s",
        "--detach",
        "waits",
        "--password=hunter2-pass-value",
        "--api-token",
        "tok-5ecr3t-value",
        "plain",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let id = text(&output.stdout).trim().to_owned();
    let what = job_file(&app, &id)["metadata"]["annotations"]["adminsh/what"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        what.starts_with("waits --password=") && what.ends_with(" plain"),
        "{what}"
    );
    let runs = text(&app.output(&["-t", "k8s", "--runs"]).stdout);
    for secret in ["hunter2-pass-value", "tok-5ecr3t-value"] {
        assert!(
            !what.contains(secret),
            "the annotation keeps {secret}: {what}"
        );
        assert!(!runs.contains(secret), "--runs shows {secret}:\n{runs}");
    }
}

/// `--shards 3 --parallel 2` on a Job target: one Indexed Job of 3 pods, 2 at a time, each pod
/// a shard told so by its environment (`JOB_COMPLETION_INDEX` from Kubernetes, the count and
/// the run from the Job), its log followed and marked with its shard; a failed shard fails
/// alone, and the summary says how each ended.
#[test]
fn shards_run_as_one_indexed_job_each_pod_its_slice() {
    require!(KubernetesClient);
    let (remote, app) = apps();
    let _remote = remote.script(
        "walk",
        "batches(1..=9, 2, |b| print(b)); if shard().index == 1 { exit(4) }",
    );
    let output = app.output(&["-t", "k8s", "--shards", "3", "--parallel", "2", "walk"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let id = stderr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("adminsh: k8s: Job "))
        .and_then(|rest| rest.strip_suffix(" from deploy/shop"))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    assert!(
        stderr.ends_with(&format!(
            "adminsh: walk (Job {id}) in 3 shards: 1 did not finish\n  shard 1/3  finished\n  shard 2/3  failed (exit 4)\n  shard 3/3  finished\n"
        )),
        "{stderr}"
    );
    for line in [
        "[shard 1/3] [1, 2]",
        "[shard 1/3] [3]",
        "[shard 2/3] [4, 5]",
        "[shard 2/3] [6]",
        "[shard 3/3] [7, 8]",
        "[shard 3/3] [9]",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line} in {stdout}");
    }
    assert!(stdout.lines().all(|l| l.starts_with("[shard ")), "{stdout}");
    let job = job_file(&app, &id);
    let spec = &job["spec"];
    assert_eq!(
        (
            &spec["completionMode"],
            &spec["completions"],
            &spec["parallelism"],
            &spec["backoffLimitPerIndex"]
        ),
        (&json!("Indexed"), &json!(3), &json!(2), &json!(0))
    );
    let container = &spec["template"]["spec"]["containers"][0];
    // Each pod is a worker: none runs shards of its own.
    assert!(
        !container["args"].as_array().unwrap().iter().any(|a| a
            .as_str()
            .is_some_and(|a| a.starts_with("--shards") || a.starts_with("--parallel"))),
        "{container}"
    );
    let env = container["env"].as_array().unwrap();
    assert!(
        env.contains(&json!({"name": "ADMINSH_SHARDS", "value": "3"})),
        "{env:?}"
    );
    assert!(
        env.contains(&json!({"name": "ADMINSH_SHARD_RUN", "value": id})),
        "{env:?}"
    );
    // One run in --runs, failed as a shard failed; --logs gives each shard's log, marked.
    let runs = text(&app.output(&["-t", "k8s", "--runs"]).stdout);
    let row = runs
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{runs}"));
    assert!(row.contains(" failed "), "{row}");
    let logs = text(&app.output(&["-t", "k8s", "--logs", &id]).stdout);
    let walked: Vec<&str> = logs
        .lines()
        .filter(|l| l.ends_with(']') && l.contains("] ["))
        .collect();
    assert_eq!(
        walked,
        [
            "[shard 1/3] [1, 2]",
            "[shard 1/3] [3]",
            "[shard 2/3] [4, 5]",
            "[shard 2/3] [6]",
            "[shard 3/3] [7, 8]",
            "[shard 3/3] [9]"
        ],
        "{logs}"
    );
}

/// A sharded Job whose pods are gone while adminsh follows it (deleted by someone else, or
/// by the cluster) ends the following with a message saying so, not a wait for ever.
#[test]
fn a_sharded_job_whose_pods_vanish_ends_the_following() {
    require!(KubernetesClient);
    let (remote, app) = apps();
    let child = app.spawn(&["-t", "k8s", "--shards", "2", "waits"]);
    let jobs = app.path().join("bin/jobs");
    wait_until("both shards to wait", || {
        (0..2).all(|i| {
            std::fs::read_dir(&jobs).is_ok_and(|entries| {
                entries.flatten().any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(&format!("-{i}.log"))
                        && std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("waiting"))
                })
            })
        })
    });
    // The Job's record goes: the stand-in lists no pod of it any more.
    let manifest = std::fs::read_dir(&jobs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let id = manifest.file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::remove_file(&manifest).unwrap();
    let output = finish(child, "adminsh to stop following");
    // The pods go on without the Job's record: let them end before their release goes.
    std::fs::write(remote.path().join("go"), "").unwrap();
    wait_until("the pods to end", || {
        (0..2).all(|i| jobs.join(format!("{id}-{i}.exit")).exists())
    });
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.ends_with(&format!("adminsh: Job {id} is gone (was it deleted?)\n")),
        "{stderr}"
    );
}
