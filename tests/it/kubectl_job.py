#!/usr/bin/python3
"""A stand-in for kubectl against a cluster with one Deployment, for the Job tests.

It records each argv (a JSON line in argv.jsonl beside it) and answers what adminsh asks:
`get deployment` (deployment.json beside it), `create -f -` (the Job is checked against the
Kubernetes object schema with the official Python client's models: a field they do not know,
or of the wrong type, does not survive the round trip, and the Job is refused; then its
container's command runs here as the pod would, its stdout and stderr into one log),
`logs [-f] job/NAME`, `get pods -l ...`, `get jobs -l ...`, `delete job NAME` (SIGTERM to
the container's process, as a pod's deletion sends).
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


def pod(name):
    code = exit_code(name)
    state = {"terminated": {"exitCode": code}} if code is not None else {"running": {}}
    with open(path(name, ".json")) as f:
        job = json.load(f)
    container = job["spec"]["template"]["spec"]["containers"][0]["name"]
    labels = dict(job["spec"]["template"]["metadata"]["labels"])
    labels["batch.kubernetes.io/job-name"] = name
    return {
        "metadata": {"name": name + "-x7k2p", "labels": labels},
        "status": {"containerStatuses": [{"name": container, "state": state}]},
    }


def job_status(name):
    code = exit_code(name)
    with open(path(name, ".started")) as f:
        started = f.read().strip()
    status = {"startTime": started}
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


def check_schema(manifest):
    from kubernetes.client import ApiClient

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
    script = 'base=$1; shift; "$@" > "$base.log" 2>&1 & echo $! > "$base.pid"; wait $!; echo $? > "$base.exit"'
    subprocess.Popen(
        ["sh", "-c", script, "sh", os.path.join(JOBS, name)] + argv,
        cwd=HERE, env=env, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print("job.batch/%s created" % name)


def logs(args):
    follow = "-f" in args
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
    with open(path(name, ".pid")) as f:
        pid = int(f.read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for _ in range(600):
        if exit_code(name) is not None:
            break
        time.sleep(0.05)
    for ext in (".json", ".started", ".log", ".pid", ".exit"):
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
        print(json.dumps({"items": [pod(n) for n in chosen]}))
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
