//! Kubernetes Jobs, for a kubectl target with `job = true`: a script (or `-e`) runs in a pod
//! of its own, made from the Deployment's pod template, not inside a web pod that a deploy
//! replaces and whose memory it shares with live traffic. The Job is the run: its name is the
//! run's id, its pod's log the run's output, its container's exit code the run's. Pure
//! functions: the Job manifest and the exact kubectl argvs.

use serde_json::{Value, json};

use crate::options::Shards;
use crate::release::{Kubectl, Target};
use crate::shard::{COUNT_VAR, RUN_VAR};

/// How long a finished Job (and its pod, and so its log) is kept: a day.
pub(crate) const TTL_SECONDS: u64 = 86_400;
/// How long `kubectl logs` waits for the Job's pod to run (an image to pull, a node to scale).
pub(crate) const POD_RUNNING_TIMEOUT: &str = "10m";
/// The label every Job adminsh makes carries.
pub(crate) const MANAGED: &str = "app.kubernetes.io/managed-by=adminsh";

/// What one Job runs, and for whom.
pub(crate) struct Run<'a> {
    /// The run's id: the Job's name.
    pub id: &'a str,
    /// The adminsh argv in the container, after the program (the forwarded argv).
    pub argv: &'a [String],
    /// The script's name (or `eval`), for a label.
    pub script: &'a str,
    /// Who started it, for a label.
    pub user: &'a str,
    /// What it runs, said whole (secrets masked), for an annotation.
    pub what: &'a str,
    /// `--shards N --parallel P`: an Indexed Job of N pods, P at a time, each a shard.
    pub shards: Option<Shards>,
}

/// The Job for `run` on `target`, made from `deployment` (as `kubectl get -o json` gives it):
/// its pod template, the container `container` names (or the first) with its command
/// replaced by adminsh and the run's argv, the others left out (a sidecar would keep the pod
/// running), no probes or ports (it serves nothing), `restartPolicy: Never`,
/// `backoffLimit: 0` (a failed admin process is not retried), a TTL after it finishes, and
/// labels of its own (the Deployment's would put the pod behind its Services).
pub(crate) fn manifest(
    deployment: &Value,
    target: &Target,
    k: &Kubectl,
    run: &Run<'_>,
) -> anyhow::Result<Value> {
    let deployment_name = deployment["metadata"]["name"].as_str().unwrap_or("?");
    let template = &deployment["spec"]["template"];
    let mut container = chosen_container(template, deployment_name, k)?.clone();
    if let Some(fields) = container.as_object_mut() {
        for key in [
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "ports",
            "lifecycle",
            "stdin",
            "stdinOnce",
            "tty",
        ] {
            fields.remove(key);
        }
        fields.insert("command".into(), json!([target.program]));
        fields.insert("args".into(), json!(container_args(target, run.argv)));
        if let Some(shards) = run.shards {
            shard_env(fields, shards, run.id);
        }
    }
    let mut spec = template["spec"].clone();
    spec["containers"] = json!([container]);
    spec["restartPolicy"] = json!("Never");
    let labels = json!({
        "app.kubernetes.io/managed-by": "adminsh",
        "adminsh/run": run.id,
        "adminsh/script": label_value(run.script),
        "adminsh/user": label_value(run.user),
    });
    let mut pod_metadata = json!({ "labels": labels });
    if let Some(annotations) = template["metadata"].get("annotations") {
        pod_metadata["annotations"] = annotations.clone();
    }
    let mut metadata = json!({
        "name": run.id,
        "labels": labels,
        "annotations": {
            "adminsh/what": run.what,
            "adminsh/deployment": deployment_name,
        },
    });
    if let Some(namespace) = &k.namespace {
        metadata["namespace"] = json!(namespace);
    }
    let mut job_spec = json!({
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": TTL_SECONDS,
        "template": {
            "metadata": pod_metadata,
            "spec": spec,
        },
    });
    if let Some(shards) = run.shards {
        indexed(&mut job_spec, shards);
    }
    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": job_spec,
    }))
}

/// The container of the pod template that runs the app: the one `k.container` names, or the
/// first.
fn chosen_container<'v>(
    template: &'v Value,
    deployment_name: &str,
    k: &Kubectl,
) -> anyhow::Result<&'v Value> {
    let Some(containers) = template["spec"]["containers"].as_array() else {
        anyhow::bail!("deployment {deployment_name} has no containers in its pod template");
    };
    match &k.container {
        Some(name) => containers
            .iter()
            .find(|c| c["name"].as_str() == Some(name.as_str()))
            .ok_or_else(|| {
                let names: Vec<&str> = containers
                    .iter()
                    .filter_map(|c| c["name"].as_str())
                    .collect();
                anyhow::anyhow!(
                    "deployment {deployment_name} has no container `{name}` (its containers: {})",
                    names.join(", ")
                )
            }),
        None => containers
            .first()
            .ok_or_else(|| anyhow::anyhow!("deployment {deployment_name} has no containers")),
    }
}

/// Tells the container which sharded run it is one shard of, and of how many; Kubernetes
/// gives each pod its index (`JOB_COMPLETION_INDEX`).
fn shard_env(container: &mut serde_json::Map<String, Value>, shards: Shards, id: &str) {
    let mut env = container
        .get("env")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    env.retain(|v| v["name"] != COUNT_VAR && v["name"] != RUN_VAR);
    env.push(json!({"name": COUNT_VAR, "value": shards.count.to_string()}));
    env.push(json!({"name": RUN_VAR, "value": id}));
    container.insert("env".into(), json!(env));
}

/// Makes the Job an Indexed Job of `shards.count` pods, `shards.parallel` at a time (all
/// unless said). A failed shard fails only its index, not the Job's other pods
/// (`backoffLimitPerIndex: 0` in place of `backoffLimit`); a pod the cluster took away (a node
/// drained: `DisruptionTarget`) is not a failure, and its shard starts again in a new pod,
/// resuming its walk.
fn indexed(spec: &mut Value, shards: Shards) {
    if let Some(fields) = spec.as_object_mut() {
        fields.remove("backoffLimit");
    }
    spec["completionMode"] = json!("Indexed");
    spec["completions"] = json!(shards.count);
    spec["parallelism"] = json!(shards.parallel.unwrap_or(shards.count).min(shards.count));
    spec["backoffLimitPerIndex"] = json!(0);
    spec["podFailurePolicy"] = json!({
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
        ]
    });
}

/// `[-C DIR] ARGV...`: adminsh's arguments in the container (no shell, no payload: the
/// container's `args` are an argv already).
pub(crate) fn container_args(target: &Target, argv: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(dir) = &target.dir {
        let dir = if dir.starts_with('-') {
            format!("./{dir}")
        } else {
            dir.clone()
        };
        args.extend(["-C".to_owned(), dir]);
    }
    args.extend(argv.iter().cloned());
    args
}

/// A label value: at most 63 of `[A-Za-z0-9._-]`, starting and ending with a letter or digit.
fn label_value(text: &str) -> String {
    let value: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    value
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// `kubectl [--context C] VERB... [-n NS]`.
fn kubectl(k: &Kubectl, verb: &[&str]) -> Vec<String> {
    let mut argv = vec!["kubectl".to_owned()];
    if let Some(context) = &k.context {
        argv.extend(["--context".to_owned(), context.clone()]);
    }
    argv.extend(verb.iter().map(|w| (*w).to_owned()));
    if let Some(namespace) = &k.namespace {
        argv.extend(["-n".to_owned(), namespace.clone()]);
    }
    argv
}

/// Reads the Deployment the Job is made from.
pub(crate) fn get_deployment(k: &Kubectl) -> Vec<String> {
    let name = k.deployment().unwrap_or_default();
    kubectl(k, &["get", "deployment", name, "-o", "json"])
}

/// Creates the Job from the manifest on stdin.
pub(crate) fn create(k: &Kubectl) -> Vec<String> {
    kubectl(k, &["create", "-f", "-"])
}

/// The Job's log (its pod's stdout and stderr); with `follow`, as it grows, waiting for the
/// pod to run.
pub(crate) fn logs(k: &Kubectl, id: &str, follow: bool) -> Vec<String> {
    let job = format!("job/{id}");
    let timeout = format!("--pod-running-timeout={POD_RUNNING_TIMEOUT}");
    if follow {
        kubectl(k, &["logs", "-f", &timeout, &job])
    } else {
        kubectl(k, &["logs", &job])
    }
}

/// The log of one pod (a shard's, of an Indexed Job), followed until it ends when `follow`.
pub(crate) fn pod_logs(k: &Kubectl, pod: &str, follow: bool) -> Vec<String> {
    let timeout = format!("--pod-running-timeout={POD_RUNNING_TIMEOUT}");
    let pod = format!("pod/{pod}");
    let mut verb = vec!["logs"];
    if follow {
        verb.extend(["-f", &timeout]);
    }
    verb.push(&pod);
    if let Some(container) = &k.container {
        verb.extend(["-c", container]);
    }
    kubectl(k, &verb)
}

/// The exit code of each index of an Indexed Job of `count` (`None` while it runs): 0 once
/// one of its pods succeeded, else the exit code of its last pod to fail while none runs.
pub(crate) fn index_exit_codes(
    pods: &Value,
    container: Option<&str>,
    count: u32,
) -> Vec<Option<i32>> {
    let mut codes = vec![None; count as usize];
    let mut running = vec![false; count as usize];
    for pod in pods["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            .as_str()
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|i| *i < codes.len());
        let Some(index) = index else { continue };
        match exit_code(&json!({ "items": [pod] }), container) {
            Some(0) => codes[index] = Some(0),
            Some(code) if codes[index] != Some(0) => codes[index] = Some(code),
            Some(_) => {}
            None => running[index] = true,
        }
    }
    codes
        .into_iter()
        .zip(running)
        .map(|(code, running)| {
            if running && code != Some(0) {
                None
            } else {
                code
            }
        })
        .collect()
}

/// The Job's pods, as JSON: their containers' states say the exit code.
pub(crate) fn pods(k: &Kubectl, id: &str) -> Vec<String> {
    let selector = format!("batch.kubernetes.io/job-name={id}");
    kubectl(k, &["get", "pods", "-l", &selector, "-o", "json"])
}

/// Every Job adminsh made (in the target's namespace), as JSON.
pub(crate) fn jobs(k: &Kubectl) -> Vec<String> {
    kubectl(k, &["get", "jobs", "-l", MANAGED, "-o", "json"])
}

/// Deletes the Job: its pod gets SIGTERM, then SIGKILL after its grace period.
pub(crate) fn delete(k: &Kubectl, id: &str) -> Vec<String> {
    kubectl(k, &["delete", "job", id])
}

/// Every pod of the Jobs adminsh made, as JSON.
pub(crate) fn all_pods(k: &Kubectl) -> Vec<String> {
    kubectl(k, &["get", "pods", "-l", MANAGED, "-o", "json"])
}

/// The exit code of the run's container in `pods` (`kubectl get pods -o json`), once it has
/// terminated.
pub(crate) fn exit_code(pods: &Value, container: Option<&str>) -> Option<i32> {
    pods["items"].as_array()?.iter().find_map(|pod| {
        let statuses = pod["status"]["containerStatuses"].as_array()?;
        let status = match container {
            Some(name) => statuses.iter().find(|s| s["name"].as_str() == Some(name))?,
            None => statuses.first()?,
        };
        let code = status["state"]["terminated"]["exitCode"].as_i64()?;
        i32::try_from(code).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::Via;

    fn target() -> (Target, Kubectl) {
        let k = Kubectl {
            resource: "deploy/shop".into(),
            namespace: Some("shop".into()),
            container: Some("web".into()),
            context: Some("prod-eu".into()),
            job: true,
        };
        let target = Target {
            dir: Some("/app".into()),
            program: "/usr/local/bin/adminsh".into(),
            stage: None,
            via: Via::Kubectl(k.clone()),
        };
        (target, k)
    }

    pub(crate) fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": "shop", "labels": {"app": "shop"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "shop"}},
                "template": {
                    "metadata": {
                        "labels": {"app": "shop", "tier": "web"},
                        "annotations": {"vault.hashicorp.com/agent-inject": "true"}
                    },
                    "spec": {
                        "serviceAccountName": "shop",
                        "imagePullSecrets": [{"name": "registry"}],
                        "volumes": [{"name": "config", "configMap": {"name": "shop-config"}}],
                        "containers": [
                            {"name": "proxy", "image": "envoy:1.30"},
                            {
                                "name": "web",
                                "image": "registry.example/shop:4f2c9e1",
                                "command": ["gunicorn"],
                                "args": ["shop.wsgi"],
                                "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
                                "envFrom": [{"configMapRef": {"name": "shop-env"}}],
                                "volumeMounts": [{"name": "config", "mountPath": "/app/config"}],
                                "ports": [{"containerPort": 8000}],
                                "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                                "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                                "resources": {"limits": {"memory": "512Mi"}}
                            }
                        ]
                    }
                }
            }
        })
    }

    #[test]
    fn the_job_is_the_deployments_pod_running_adminsh_once() {
        let (target, k) = target();
        let argv = [
            "--announce=k8s".to_owned(),
            "--".into(),
            "backfill".into(),
            "2026-11".into(),
        ];
        let run = Run {
            id: "backfill-20261125-023000-a3f2",
            argv: &argv,
            script: "db/backfill",
            user: "ana@laptop",
            what: "scripts/db/backfill.rhai 2026-11",
            shards: None,
        };
        let job = manifest(&deployment(), &target, &k, &run).unwrap();
        let labels = json!({
            "app.kubernetes.io/managed-by": "adminsh",
            "adminsh/run": "backfill-20261125-023000-a3f2",
            "adminsh/script": "db_backfill",
            "adminsh/user": "ana_laptop",
        });
        assert_eq!(
            job,
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": "backfill-20261125-023000-a3f2",
                    "namespace": "shop",
                    "labels": labels,
                    "annotations": {
                        "adminsh/what": "scripts/db/backfill.rhai 2026-11",
                        "adminsh/deployment": "shop",
                    },
                },
                "spec": {
                    "backoffLimit": 0,
                    "ttlSecondsAfterFinished": 86_400,
                    "template": {
                        "metadata": {
                            "labels": labels,
                            "annotations": {"vault.hashicorp.com/agent-inject": "true"},
                        },
                        "spec": {
                            "serviceAccountName": "shop",
                            "imagePullSecrets": [{"name": "registry"}],
                            "volumes": [{"name": "config", "configMap": {"name": "shop-config"}}],
                            "restartPolicy": "Never",
                            "containers": [{
                                "name": "web",
                                "image": "registry.example/shop:4f2c9e1",
                                "command": ["/usr/local/bin/adminsh"],
                                "args": ["-C", "/app", "--announce=k8s", "--", "backfill", "2026-11"],
                                "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
                                "envFrom": [{"configMapRef": {"name": "shop-env"}}],
                                "volumeMounts": [{"name": "config", "mountPath": "/app/config"}],
                                "resources": {"limits": {"memory": "512Mi"}},
                            }],
                        },
                    },
                },
            })
        );
        // Without `container`, the first one; a container that is not there is named.
        let first = Kubectl {
            container: None,
            ..k.clone()
        };
        let job = manifest(&deployment(), &target, &first, &run).unwrap();
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["image"],
            "envoy:1.30"
        );
        let missing = Kubectl {
            container: Some("worker".into()),
            ..k
        };
        assert_eq!(
            manifest(&deployment(), &target, &missing, &run)
                .unwrap_err()
                .to_string(),
            "deployment shop has no container `worker` (its containers: proxy, web)"
        );
    }

    #[test]
    fn shards_make_an_indexed_job_whose_failed_index_fails_alone() {
        let (target, k) = target();
        let argv = ["--".to_owned(), "backfill".into()];
        let run = Run {
            id: "backfill-1",
            argv: &argv,
            script: "backfill",
            user: "ana",
            what: "backfill",
            shards: Some(Shards {
                count: 8,
                parallel: Some(3),
            }),
        };
        let job = manifest(&deployment(), &target, &k, &run).unwrap();
        let spec = &job["spec"];
        assert_eq!(spec["completionMode"], "Indexed");
        assert_eq!(spec["completions"], 8);
        assert_eq!(spec["parallelism"], 3);
        assert_eq!(spec["backoffLimitPerIndex"], 0);
        assert_eq!(spec.get("backoffLimit"), None);
        assert_eq!(
            spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["type"],
            "DisruptionTarget"
        );
        let env = &spec["template"]["spec"]["containers"][0]["env"];
        assert_eq!(
            env,
            &json!([
                {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
                {"name": "ADMINSH_SHARDS", "value": "8"},
                {"name": "ADMINSH_SHARD_RUN", "value": "backfill-1"}
            ])
        );
        // More parallelism than shards is the shards' count.
        let run = Run {
            shards: Some(Shards {
                count: 2,
                parallel: Some(5),
            }),
            ..run
        };
        let job = manifest(&deployment(), &target, &k, &run).unwrap();
        assert_eq!(job["spec"]["parallelism"], 2);
    }

    #[test]
    fn each_index_ends_with_its_pod_that_succeeded_or_its_last_failure() {
        let pod = |index: &str, state: Value| {
            json!({
                "metadata": {"annotations": {"batch.kubernetes.io/job-completion-index": index}},
                "status": {"containerStatuses": [{"name": "web", "state": state}]}
            })
        };
        let done = |code: i32| json!({"terminated": {"exitCode": code}});
        let pods = json!({"items": [
            pod("0", done(0)),
            pod("1", done(1)),
            pod("2", done(137)),
            pod("2", json!({"running": {}})),
            pod("3", done(0)),
            pod("3", done(2)),
            pod("9", done(0)),
        ]});
        assert_eq!(
            index_exit_codes(&pods, Some("web"), 5),
            [Some(0), Some(1), None, Some(0), None]
        );
    }

    #[test]
    fn the_kubectl_argvs() {
        let (_, k) = target();
        assert_eq!(
            get_deployment(&k),
            [
                "kubectl",
                "--context",
                "prod-eu",
                "get",
                "deployment",
                "shop",
                "-o",
                "json",
                "-n",
                "shop"
            ]
        );
        assert_eq!(
            create(&k),
            [
                "kubectl",
                "--context",
                "prod-eu",
                "create",
                "-f",
                "-",
                "-n",
                "shop"
            ]
        );
        assert_eq!(
            logs(&k, "x-1", true),
            [
                "kubectl",
                "--context",
                "prod-eu",
                "logs",
                "-f",
                "--pod-running-timeout=10m",
                "job/x-1",
                "-n",
                "shop"
            ]
        );
        let bare = Kubectl {
            resource: "deploy/shop".into(),
            namespace: None,
            container: None,
            context: None,
            job: true,
        };
        assert_eq!(logs(&bare, "x-1", false), ["kubectl", "logs", "job/x-1"]);
        assert_eq!(
            pods(&bare, "x-1"),
            [
                "kubectl",
                "get",
                "pods",
                "-l",
                "batch.kubernetes.io/job-name=x-1",
                "-o",
                "json"
            ]
        );
        assert_eq!(
            jobs(&bare),
            [
                "kubectl",
                "get",
                "jobs",
                "-l",
                "app.kubernetes.io/managed-by=adminsh",
                "-o",
                "json"
            ]
        );
    }

    #[test]
    fn the_exit_code_is_the_terminated_containers() {
        let pods = json!({"items": [{"status": {"containerStatuses": [
            {"name": "web", "state": {"terminated": {"exitCode": 3}}}
        ]}}]});
        assert_eq!(exit_code(&pods, Some("web")), Some(3));
        assert_eq!(exit_code(&pods, None), Some(3));
        assert_eq!(exit_code(&pods, Some("other")), None);
        let running = json!({"items": [{"status": {"containerStatuses": [
            {"name": "web", "state": {"running": {}}}
        ]}}]});
        assert_eq!(exit_code(&running, Some("web")), None);
        assert_eq!(label_value("-db/backfill-"), "db_backfill");
    }
}
