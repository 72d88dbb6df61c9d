"""Turns the raw measurements of benches/run.sh into the Markdown results table.

Usage (run.sh does this): report.py OUT_DIR, with OUT_DIR holding startup.json and
spawn.json (hyperfine --export-json) and timed.tsv (name, seconds, peak RSS in KiB), and the
run's details in BENCH_* environment variables. Writes Markdown to stdout.
"""

import json
import os
import statistics
import sys
from collections import defaultdict

MIB = 1024 * 1024
env = os.environ


def hyperfine(path):
    """{command name: (mean s, stddev s)} from a hyperfine JSON export."""
    with open(path) as f:
        results = json.load(f)["results"]
    return {r["command"]: (r["mean"], r["stddev"] or 0.0) for r in results}


def timed(path):
    """{name: (median s, max peak RSS bytes, runs)} from timed.tsv."""
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            name, seconds, rss_kib = line.rstrip("\n").split("\t")
            runs[name].append((float(seconds), int(rss_kib) * 1024))
    return {
        name: (statistics.median(s for s, _ in rs), max(r for _, r in rs), len(rs))
        for name, rs in runs.items()
    }


def verdict(ok):
    return "**yes**" if ok else "**NO**"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    # A "|" inside a cell (even in a code span) would end the cell: GFM wants it escaped.
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def main():
    out_dir = sys.argv[1]
    startup = hyperfine(os.path.join(out_dir, "startup.json"))
    spawn = hyperfine(os.path.join(out_dir, "spawn.json"))
    spawn.update(hyperfine(os.path.join(out_dir, "spawn_away.json")))
    timings = timed(os.path.join(out_dir, "timed.tsv"))
    spawns = int(env["BENCH_SPAWNS"])
    read_bytes = int(env["BENCH_READ_BYTES"])
    lines = int(env["BENCH_LINES"])

    doc = ["# adminsh benchmarks", ""]
    doc += [
        f"- Date: {env['BENCH_DATE']}",
        f"- CPU: {env['BENCH_CPU']} (nproc = {env['BENCH_NPROC']})",
        f"- adminsh: {env['BENCH_SRC']} (release build)",
        f"- python3: {env['BENCH_PYTHON']}; {env['BENCH_HYPERFINE']}",
        f"- Sizes: {spawns} spawns ({env['BENCH_SPAWN_RUNS']} runs each), "
        f"{read_bytes} bytes for .read(), {lines} lines for .each_line() "
        f"({env['BENCH_RUNS']} run(s) each: median time, highest RSS)"
        + (" — **quick run (BENCH_QUICK=1)**" if env.get("BENCH_QUICK") == "1" else ""),
        "",
    ]

    # 1. Startup
    bash_mean = startup["bash"][0]
    rows = []
    for name, label in [
        ("adminsh", "`adminsh -C DIR -e 1` (`cargo dist`)"),
        ("installed", "`adminsh -C DIR -e 1` (`cargo install --locked --path .`)"),
        ("bash", "`bash -c true`"),
        ("python3", "`python3 -S -c pass`"),
    ]:
        mean, sd = startup[name]
        ratio = mean / bash_mean
        target = f"<= 1.25x: {verdict(ratio <= 1.25)}" if name in ("adminsh", "installed") else ""
        rows.append([label, f"{mean * 1e3:.2f} ± {sd * 1e3:.2f}", f"{ratio:.2f}x", target])
    doc += ["## 1. Startup (hyperfine -N, warmup 20)", ""]
    doc += [table(["Command", "Mean (ms)", "vs bash", "Target"], rows), ""]

    # 2. Per-spawn cost
    def per_spawn(name):
        total, sd = spawn[f"{name} {spawns}"]
        base = spawn[f"{name} 0"][0]
        return total, sd, base, (total - base) / spawns

    floor = per_spawn("floor")[3]
    rows = []
    for name, label in [
        ("adminsh-abs", '`adminsh`: `cmd("/bin/true").run()`'),
        ("adminsh-path", '`adminsh`: `cmd("true").run()` (PATH)'),
        ("adminsh-away", '`adminsh -C DIR` from outside the release: `cmd("/bin/true").run()`'),
        ("bash", "bash: `for i in $(seq N); do /bin/true; done`"),
        ("python3", 'python3: `subprocess.run(["/bin/true"])`'),
        ("floor", "floor: `posix_spawn` + `waitpid` (spawn_floor)"),
    ]:
        total, sd, base, each = per_spawn(name)
        ratio = each / floor
        target = (f"<= 1.10x: {verdict(ratio <= 1.10)}"
                  if name in ("adminsh-abs", "adminsh-path") else "")
        rows.append([
            label, f"{total * 1e3:.1f} ± {sd * 1e3:.1f}", f"{base * 1e3:.1f}",
            f"{each * 1e6:.0f}", f"{total / spawns * 1e6:.0f}", f"{ratio:.2f}x", target,
        ])
    doc += [f"## 2. Per-spawn cost ({spawns} sequential spawns of /bin/true)", ""]
    doc += [
        "µs/spawn is (time for N spawns − time for 0 spawns) / N, so the runner's own startup "
        "is left out; wall/N includes it. The runners run in the scratch release's root, as "
        "`adminsh SCRIPT` runs in an app; the `-C DIR` row runs from outside it, where each "
        "command's directory is not adminsh's (`posix_spawn` with a change of directory, "
        "which the static build finds because `build.rs` exports it). adminsh runs with "
        "stdout and stderr not a terminal "
        "(as under cron or CI). Means of the hyperfine runs; a large ± means the machine was "
        "busy, so rerun before trusting a ratio.",
        "",
    ]
    doc += [table(
        ["Runner", f"N={spawns} (ms)", "N=0 (ms)", "µs/spawn", "wall/N (µs)", "vs floor",
         "Target"], rows), ""]

    # 3. .read()
    rows = []
    for name, label in [
        ("read:adminsh", '`adminsh -e \'cmd("cat", [big]).read().len()\'`'),
        ("read:cat", "`cat big > /dev/null`"),
        ("read:python3", '`subprocess.run(["cat", big], capture_output=True)`'),
    ]:
        seconds, rss, _ = timings[name]
        ratio = rss / read_bytes
        target = f"<= 1.1x: {verdict(ratio <= 1.1)}" if name == "read:adminsh" else ""
        rows.append([
            label, f"{seconds:.2f}", f"{read_bytes / MIB / seconds:.0f}",
            f"{rss / MIB:.1f}", f"{ratio:.2f}x", target,
        ])
    doc += [f"## 3. `.read()` of {read_bytes / MIB:.0f} MiB", ""]
    doc += [table(["Command", "Wall (s)", "MiB/s", "Peak RSS (MiB)", "RSS / output",
                   "Target"], rows), ""]

    # 4. .each_line()
    rows = []
    for name, label in [
        ("lines:adminsh", '`cmd("seq", [N]).each_line(|l| { n += 1; })`'),
        ("lines:python3", "python3: `for line in Popen([\"seq\", N]).stdout: n += 1`"),
        ("lines:wc", "`seq N | wc -l`"),
    ]:
        seconds, rss, _ = timings[name]
        target = f"< 20 MB: {verdict(rss < 20e6)}" if name == "lines:adminsh" else ""
        rows.append([
            label, f"{seconds:.2f}", f"{lines / seconds / 1e6:.2f}", f"{rss / MIB:.1f}", target,
        ])
    doc += [f"## 4. `.each_line()` over {lines} lines", ""]
    doc += [table(["Command", "Wall (s)", "M lines/s", "Peak RSS (MiB)", "Target"], rows)]
    doc += ["", "(Peak RSS of a pipeline is that of its largest process, as GNU time reports.)"]

    print("\n".join(doc))


if __name__ == "__main__":
    main()
