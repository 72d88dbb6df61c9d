#!/usr/bin/python3
"""A stand-in for kubectl against a cluster with one Deployment, for the Job tests.

It records each argv (a JSON line in argv.jsonl beside it) and answers what adminsh asks:
`get deployment` (deployment.json beside it), `create -f -` (the Job is checked against the
Kubernetes object schema with the official Python client's models: a field they do not know,
or of the wrong type, does not survive the round trip, and the Job is refused; then its
container's command runs here as the pod would, its stdout and stderr into one log),
`logs [-f] job/NAME`, `get pods -l ...`, `get jobs -l ...`, `delete job NAME` (SIGTERM to
the container's process, as a pod's deletion sends).

An Indexed Job (`completionMode: Indexed`) runs one pod per index, each with
`JOB_COMPLETION_INDEX` as Kubernetes sets it, all at once (this stand-in does not hold to
`parallelism`); `logs -f pod/NAME` follows one pod's log. The fields newer than the Python
client's models (`backoffLimitPerIndex`, `podFailurePolicy`) are checked by hand against the
API's rules, the rest of the Job by the models.
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS = os.path.join(HERE, "jobs")


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def path(name, ext):
    return os.path.join(JOBS, name + ext)


def exists(name):
    return os.path.exists(path(name, ".json"))


def exit_code(name):
    try:
        with open(path(name, ".exit")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def indexed(name):
    with open(path(name, ".json")) as f:
        spec = json.load(f)["spec"]
    return spec.get("completions", 1) if spec.get("completionMode") == "Indexed" else None


def pods_of(name):
    count = indexed(name)
    if count is None:
        return [pod(name)]
    return [pod("%s-%d" % (name, i), job=name, index=i) for i in range(count)]


def pod(name, job=None, index=None):
    code = exit_code(name)
    state = {"terminated": {"exitCode": code}} if code is not None else {"running": {}}
    with open(path(job or name, ".json")) as f:
        manifest = json.load(f)
    container = manifest["spec"]["template"]["spec"]["containers"][0]["name"]
    labels = dict(manifest["spec"]["template"]["metadata"]["labels"])
    labels["batch.kubernetes.io/job-name"] = job or name
    metadata = {"name": name + "-x7k2p", "labels": labels}
    if index is not None:
        labels["batch.kubernetes.io/job-completion-index"] = str(index)
        metadata["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
    return {
        "metadata": metadata,
        "status": {"containerStatuses": [{"name": container, "state": state}]},
    }


def job_status(name):
    with open(path(name, ".started")) as f:
        started = f.read().strip()
    status = {"startTime": started}
    count = indexed(name)
    if count is not None:
        codes = [exit_code("%s-%d" % (name, i)) for i in range(count)]
        for key, n in (("active", codes.count(None)), ("succeeded", codes.count(0)),
                       ("failed", len([c for c in codes if c not in (None, 0)]))):
            if n:
                status[key] = n
        return status
    code = exit_code(name)
    if code is None:
        status["active"] = 1
    elif code == 0:
        status["succeeded"] = 1
        status["completionTime"] = "2026-11-25T02:31:00Z"
    else:
        status["failed"] = 1
        status["conditions"] = [
            {"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-25T02:31:00Z"}
        ]
    return status


def names():
    if not os.path.isdir(JOBS):
        return []
    return sorted(n[: -len(".json")] for n in os.listdir(JOBS) if n.endswith(".json"))


def check_newer_fields(spec):
    """Takes out and checks the Job fields newer than the client's models, as the API would."""
    per_index = spec.pop("backoffLimitPerIndex", None)
    policy = spec.pop("podFailurePolicy", None)
    indexed = spec.get("completionMode") == "Indexed"
    if indexed and not isinstance(spec.get("completions"), int):
        fail("error: spec.completions: Required value: when completionMode is Indexed")
    if per_index is not None:
        if not indexed:
            fail("error: spec.backoffLimitPerIndex: requires completionMode Indexed")
        if not isinstance(per_index, int) or per_index < 0:
            fail("error: spec.backoffLimitPerIndex: must be a non-negative integer")
        if "backoffLimit" in spec:
            fail("error: spec.backoffLimit: set beside backoffLimitPerIndex, it fails the whole Job")
    if policy is not None:
        if spec["template"]["spec"].get("restartPolicy") != "Never":
            fail("error: spec.podFailurePolicy: requires restartPolicy Never")
        rules = policy.get("rules")
        if not isinstance(rules, list) or set(policy) != {"rules"}:
            fail("error: spec.podFailurePolicy: rules must be a list")
        for rule in rules:
            if rule.get("action") not in ("FailJob", "FailIndex", "Ignore", "Count"):
                fail("error: spec.podFailurePolicy.rules.action: %r" % rule.get("action"))
            conditions = rule.get("onPodConditions", [])
            if not all(isinstance(c, dict) and isinstance(c.get("type"), str)
                       and set(c) <= {"type", "status"} for c in conditions):
                fail("error: spec.podFailurePolicy.rules.onPodConditions: %r" % conditions)
            if set(rule) - {"action", "onPodConditions", "onExitCodes"}:
                fail("error: spec.podFailurePolicy.rules: unknown field in %r" % rule)


def check_schema(manifest):
    from kubernetes.client import ApiClient

    manifest = json.loads(json.dumps(manifest))
    check_newer_fields(manifest["spec"])

    class Response:
        data = json.dumps(manifest)

    client = ApiClient()
    job = client.deserialize(Response(), "V1Job")
    back = client.sanitize_for_serialization(job)
    if back != manifest:
        fail("error: the Job is not a valid batch/v1 Job:\n  sent: %s\n  read: %s"
             % (json.dumps(manifest, sort_keys=True), json.dumps(back, sort_keys=True)))


def create():
    manifest = json.load(sys.stdin)
    check_schema(manifest)
    name = manifest["metadata"]["name"]
    os.makedirs(JOBS, exist_ok=True)
    if exists(name):
        fail('Error from server (AlreadyExists): jobs.batch "%s" already exists' % name)
    with open(path(name, ".json"), "w") as f:
        json.dump(manifest, f)
    with open(path(name, ".started"), "w") as f:
        f.write("2026-11-25T02:30:%02dZ\n" % (len(names()) % 60))
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    argv = container.get("command", []) + container.get("args", [])
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": HERE}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
    count = indexed(name)
    if count is None:
        start(name, argv, env)
    else:
        for i in range(count):
            start("%s-%d" % (name, i), argv, dict(env, JOB_COMPLETION_INDEX=str(i)))
    print("job.batch/%s created" % name)


def start(base, argv, env):
    script = 'base=$1; shift; "$@" > "$base.log" 2>&1 & echo $! > "$base.pid"; wait $!; echo $? > "$base.exit"'
    subprocess.Popen(
        ["sh", "-c", script, "sh", os.path.join(JOBS, base)] + argv,
        cwd=HERE, env=env, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def logs(args):
    follow = "-f" in args
    pods = [a for a in args if a.startswith("pod/")]
    if pods:
        # pod/NAME-INDEX-x7k2p: that index's log.
        name = pods[0][len("pod/"):-len("-x7k2p")]
        for _ in range(200):
            if os.path.exists(path(name, ".pid")):
                break
            time.sleep(0.05)
        else:
            fail('error: pods "%s" not found' % pods[0][len("pod/"):])
    else:
        name = [a for a in args if a.startswith("job/")][0][len("job/"):]
        if not exists(name):
            fail('error: jobs.batch "%s" not found' % name)
    done = 0
    while True:
        ended = exit_code(name) is not None
        try:
            with open(path(name, ".log"), "rb") as f:
                f.seek(done)
                chunk = f.read()
        except OSError:
            chunk = b""
        if chunk:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            done += len(chunk)
        if not follow or ended:
            return
        time.sleep(0.05)


def delete(name):
    if not exists(name):
        fail('Error from server (NotFound): jobs.batch "%s" not found' % name)
    count = indexed(name)
    bases = [name] if count is None else ["%s-%d" % (name, i) for i in range(count)]
    for base in bases:
        with open(path(base, ".pid")) as f:
            pid = int(f.read().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for base in bases:
        for _ in range(600):
            if exit_code(base) is not None:
                break
            time.sleep(0.05)
        for ext in (".log", ".pid", ".exit"):
            try:
                os.remove(path(base, ext))
            except OSError:
                pass
    for ext in (".json", ".started"):
        try:
            os.remove(path(name, ext))
        except OSError:
            pass
    print('job.batch "%s" deleted' % name)


def main():
    argv = sys.argv[1:]
    with open(os.path.join(HERE, "argv.jsonl"), "a") as f:
        f.write(json.dumps(argv) + "\n")
    words = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--context", "-n"):
            i += 2
            continue
        words.append(argv[i])
        i += 1
    if words[:2] == ["get", "deployment"]:
        with open(os.path.join(HERE, "deployment.json")) as f:
            sys.stdout.write(f.read())
    elif words[:3] == ["create", "-f", "-"]:
        create()
    elif words[:1] == ["logs"]:
        logs(words[1:])
    elif words[:2] == ["get", "pods"]:
        selector = words[words.index("-l") + 1]
        key, value = selector.split("=", 1)
        chosen = [n for n in names() if key != "batch.kubernetes.io/job-name" or n == value]
        print(json.dumps({"items": [p for n in chosen for p in pods_of(n)]}))
    elif words[:2] == ["get", "jobs"]:
        items = []
        for n in names():
            with open(path(n, ".json")) as f:
                job = json.load(f)
            job["status"] = job_status(n)
            items.append(job)
        print(json.dumps({"items": items}))
    elif words[:2] == ["delete", "job"]:
        delete(words[2])
    else:
        fail("kubectl stand-in: no answer for %s" % argv)


main()
