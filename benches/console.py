#!/usr/bin/env python3
"""Console start-up: time from launch to the first prompt, and RSS at an idle prompt, for the
adminsh console against the REPLs a user would otherwise open (python3, node, irb), each in a
real pseudo-terminal, measured in the same run.

    benches/console.py ADMINSH [RUNS]      prints a Markdown table
"""

import os
import pty
import select
import signal
import statistics
import sys
import tempfile
import time


def first_prompt(argv, prompt, cwd, env):
    """Launches argv in a pty; returns (seconds to the prompt, RSS KiB at the idle prompt)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    start = time.perf_counter()
    seen = b""
    elapsed = None
    while time.perf_counter() - start < 10:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        # Line editors (irb's reline) ask the terminal where the cursor is: answer as one would.
        if b"\x1b[6n" in chunk:
            os.write(fd, b"\x1b[1;1R")
        if prompt in seen:
            elapsed = time.perf_counter() - start
            break
    time.sleep(0.2)  # idle at the prompt
    rss = None
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    if elapsed is None:
        raise SystemExit(f"{argv[0]} never showed {prompt!r}; it printed {seen[-300:]!r}")
    return elapsed, rss


def main():
    adminsh = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    app = tempfile.mkdtemp(prefix="adminsh-console-bench-")
    open(os.path.join(app, "adminsh.toml"), "w").write('name = "bench"\n')
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": app,
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "XDG_STATE_HOME": os.path.join(app, "state"),
    }
    candidates = [("adminsh", [adminsh], b"bench (development)>")]
    candidates.append(("python3", [sys.executable, "-q"], b">>> "))
    for name, argv, prompt in [("node", ["node"], b"> "), ("irb", ["irb", "--noecho"], b"irb(main)")]:
        if any(os.access(os.path.join(d, argv[0]), os.X_OK) for d in env["PATH"].split(":")):
            candidates.append((name, argv, prompt))
    rows = []
    for name, argv, prompt in candidates:
        times, rsss = [], []
        for _ in range(runs):
            t, rss = first_prompt(argv, prompt, app, env)
            times.append(t * 1000)
            rsss.append(rss or 0)
        rows.append((name, statistics.median(times), statistics.median(rsss) / 1024))
    base = rows[0][1]
    print(f"| REPL | first prompt (ms, median of {runs}) | vs adminsh | idle RSS (MiB) |")
    print("|---|---|---|---|")
    for name, ms, rss in rows:
        print(f"| {name} | {ms:.1f} | {ms / base:.1f}x | {rss:.1f} |")
    print()
    print("Targets: adminsh first prompt < 10 ms, idle RSS < 15 MiB.")


if __name__ == "__main__":
    main()
