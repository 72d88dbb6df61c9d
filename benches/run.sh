#!/usr/bin/env bash
# adminsh benchmarks, each measured against its baselines in the same run:
#
#   1. Startup:        adminsh -C DIR -e 1 (the `cargo dist` and the `cargo install` binaries)
#                      vs  bash -c true  vs  python3 -S -c pass   (hyperfine)
#   2. Per-spawn cost: N sequential spawns of /bin/true from an adminsh script (cmd("/bin/true")
#                      and cmd("true") via PATH) vs a bash loop, python3 subprocess.run and a raw
#                      posix_spawn + waitpid loop (benches/spawn_floor.rs, the floor). Each runner
#                      is also timed with 0 spawns, so the per-spawn figure excludes its startup.
#                      adminsh runs in the release root, and once with -C from outside it.
#   3. .read():        cmd("cat", [big]).read() of a 1 GiB file: wall time and peak RSS, vs
#                      cat > /dev/null and python3 subprocess.run(capture_output=True).
#   4. .each_line():   seq 10000000 streamed line by line, each side counting the lines in its
#                      loop's body: lines/s and peak RSS, vs python3
#                      reading a Popen pipe line by line and seq | wc -l.
#   5. The console:    launch to first prompt and idle RSS in a pty (benches/console.py), vs
#                      python3, node and irb.
#
# Run from anywhere:
#   benches/run.sh                  full sizes (a few minutes)
#   BENCH_QUICK=1 benches/run.sh    small sizes (well under a minute)
# Sizes can be set one by one: BENCH_SPAWNS, BENCH_READ_BYTES, BENCH_LINES, plus
# BENCH_SPAWN_RUNS (hyperfine runs per spawn command) and BENCH_RUNS (runs of each
# .read()/.each_line() command; the median time and the highest RSS are reported).
#
# Needs hyperfine, python3 and GNU time (/usr/bin/time). Prints a Markdown table and writes
# it to benches/results.md.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
# Where cargo builds: $CARGO_TARGET_DIR when set (relative to the clone, as cargo reads it).
TARGET=$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")

if [[ -n "${BENCH_QUICK:-}" && "${BENCH_QUICK}" != 0 ]]; then
    QUICK=1
    : "${BENCH_SPAWNS:=200}" "${BENCH_READ_BYTES:=67108864}" "${BENCH_LINES:=1000000}"
    : "${BENCH_SPAWN_RUNS:=3}" "${BENCH_RUNS:=1}"
else
    QUICK=0
    : "${BENCH_SPAWNS:=1000}" "${BENCH_READ_BYTES:=1073741824}" "${BENCH_LINES:=10000000}"
    : "${BENCH_SPAWN_RUNS:=10}" "${BENCH_RUNS:=3}"
fi

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'benches/run.sh: %s\n' "$*" >&2; exit 1; }

for var in BENCH_SPAWNS BENCH_READ_BYTES BENCH_LINES BENCH_SPAWN_RUNS BENCH_RUNS; do
    [[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive whole number, not '${!var}'"
done

# --- Tools -----------------------------------------------------------------------------------

command -v hyperfine >/dev/null ||
    die "hyperfine is missing; install it with: apt-get install hyperfine (or cargo install hyperfine)"
[[ -x /usr/bin/time ]] || die "GNU time is missing; install it with: apt-get install time"
command -v python3 >/dev/null || die "python3 is missing"
# The real interpreter, not a wrapper such as a pyenv shim (a bash script that would add its
# own startup to every python3 figure).
PY=$(python3 -c 'import sys; print(sys.executable)')
BASH_BIN=$(command -v bash)

# --- Build -----------------------------------------------------------------------------------

cd "$ROOT"
# The binary adminsh ships: `cargo dist` (.cargo/config.toml), statically linked.
log "cargo dist"
cargo dist
HOST=$(rustc -vV | sed -n 's/^host: //p')
ADMINSH="$TARGET/$HOST/release/adminsh"
# The binary `cargo install --locked --path .` puts in place (reusing the build above), for start-up.
log "cargo install --locked --path ."
cargo install --quiet --locked --path . --root "$TARGET/bench-install" --force
INSTALLED="$TARGET/bench-install/bin/adminsh"

# The floor program, with the release profile so the library built just above is reused
# (`cargo bench --no-run` would build it all again under the bench profile).
log "cargo build --release --bench spawn_floor"
FLOOR=$(cargo build --release --bench spawn_floor --message-format=json-render-diagnostics |
    "$PY" -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if (msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "spawn_floor"
            and msg.get("executable")):
        print(msg["executable"])
')
[[ -x "$FLOOR" ]] || die "could not find the spawn_floor binary (got '$FLOOR')"

# hyperfine -N splits its command strings like a shell: quote paths that go into them.
q() { printf '%q' "$1"; }
A=$(q "$ADMINSH") I=$(q "$INSTALLED") F=$(q "$FLOOR") B=$(q "$BASH_BIN") P=$(q "$PY")

# --- Scratch release -------------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/adminsh-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
T=$(q "$TMP")
touch "$TMP/adminsh.toml"
mkdir -p "$TMP/out"

cat > "$TMP/spawn_abs.rhai" <<'EOF'
let n = ARGS[0].parse_int();
for i in 0..n { cmd("/bin/true").run(); }
EOF
cat > "$TMP/spawn_path.rhai" <<'EOF'
let n = ARGS[0].parse_int();
for i in 0..n { cmd("true").run(); }
EOF
cat > "$TMP/spawn.sh" <<'EOF'
for i in $(seq "$1"); do /bin/true; done
EOF
cat > "$TMP/spawn.py" <<'EOF'
import subprocess, sys
for _ in range(int(sys.argv[1])):
    subprocess.run(["/bin/true"], check=True)
EOF
cat > "$TMP/read.py" <<'EOF'
import subprocess, sys
r = subprocess.run(["cat", sys.argv[1]], capture_output=True, check=True)
print(len(r.stdout))
EOF
cat > "$TMP/lines.py" <<'EOF'
import subprocess, sys
p = subprocess.Popen(["seq", sys.argv[1]], stdout=subprocess.PIPE)
n = 0
for line in p.stdout:
    n += 1
p.wait()
print(n)
EOF

# --- Sanity checks (fail loudly rather than time something broken) ---------------------------

log "sanity checks"
check() { # expected, command...
    local want=$1 got
    shift
    got=$("$@") || die "failed: $*"
    [[ "$got" == "$want" ]] || die "$* printed '$got', expected '$want'"
}
check 1 "$ADMINSH" -C "$TMP" -e 1
check "" "$ADMINSH" -C "$TMP" "$TMP/spawn_abs.rhai" 3
check "" "$ADMINSH" -C "$TMP" "$TMP/spawn_path.rhai" 3
check 1000 "$ADMINSH" -C "$TMP" -e 'let n = 0; cmd("seq", ["1000"]).each_line(|l| { n += 1; }); n'
"$FLOOR" 3 || die "spawn_floor does not work"

# --- 1. Startup ------------------------------------------------------------------------------

log "startup (hyperfine)"
startup_runs=()
[[ $QUICK == 1 ]] && startup_runs=(--runs 50)
hyperfine -N --warmup 20 "${startup_runs[@]}" --style basic \
    --export-json "$TMP/out/startup.json" \
    -n adminsh "$A -C $T -e 1" \
    -n installed "$I -C $T -e 1" \
    -n bash "$B -c true" \
    -n python3 "$P -S -c pass" >&2

# --- 2. Per-spawn cost -----------------------------------------------------------------------

log "per-spawn cost: $BENCH_SPAWNS spawns of /bin/true (hyperfine)"
# From the release root, as `adminsh SCRIPT` is run in an app; and once from outside it
# (`-C DIR` from elsewhere), where a command's working directory is not adminsh's: posix_spawn
# with a change of directory, which the static build has only because build.rs exports
# posix_spawn_file_actions_addchdir_np for std's run-time lookup.
spawn_cmds=() away_cmds=()
for n in "$BENCH_SPAWNS" 0; do
    spawn_cmds+=(
        -n "floor $n" "$F $n"
        -n "adminsh-abs $n" "$A $T/spawn_abs.rhai $n"
        -n "adminsh-path $n" "$A $T/spawn_path.rhai $n"
        -n "bash $n" "$B $T/spawn.sh $n"
        -n "python3 $n" "$P -S $T/spawn.py $n"
    )
    away_cmds+=(-n "adminsh-away $n" "$A -C $T $T/spawn_abs.rhai $n")
done
(cd "$TMP" && hyperfine -N --warmup 2 --runs "$BENCH_SPAWN_RUNS" --style basic \
    --export-json "$TMP/out/spawn.json" "${spawn_cmds[@]}") >&2
(cd "$ROOT" && hyperfine -N --warmup 2 --runs "$BENCH_SPAWN_RUNS" --style basic \
    --export-json "$TMP/out/spawn_away.json" "${away_cmds[@]}") >&2

# --- Timing with peak RSS (3. and 4.) --------------------------------------------------------

# measure NAME EXPECTED_STDOUT COMMAND...: runs COMMAND $BENCH_RUNS times, appending
# "NAME<TAB>seconds<TAB>peak RSS in KiB" to out/timed.tsv; checks stdout when EXPECTED is set.
measure() {
    local name=$1 want=$2 start end rss i
    shift 2
    for ((i = 0; i < BENCH_RUNS; i++)); do
        start=$(date +%s%N)
        /usr/bin/time -f %M -o "$TMP/out/rss" "$@" > "$TMP/out/stdout" ||
            die "failed: $*"
        end=$(date +%s%N)
        rss=$(tail -n 1 "$TMP/out/rss")
        if [[ -n "$want" && "$(cat "$TMP/out/stdout")" != "$want" ]]; then
            die "$name printed '$(head -c 200 "$TMP/out/stdout")', expected '$want'"
        fi
        printf '%s\t%s\t%s\n' "$name" "$(( end - start ))e-9" "$rss" >> "$TMP/out/timed.tsv"
    done
}

# --- 3. .read() of a big output --------------------------------------------------------------

log "generating $BENCH_READ_BYTES bytes of text"
# Lines of 1023 'a' and a newline; .read() drops the final newline.
READ_LEN=$("$PY" - "$TMP/big" "$BENCH_READ_BYTES" <<'EOF'
import sys
path, size = sys.argv[1], int(sys.argv[2])
block = (b"a" * 1023 + b"\n") * 1024  # 1 MiB
with open(path, "wb") as f:
    left = size
    while left > 0:
        chunk = block[:left]
        f.write(chunk)
        left -= len(chunk)
data_end = chunk if size else b""
print(size - 1 if data_end.endswith(b"\n") else size)
EOF
)
cat "$TMP/big" > /dev/null # into the page cache before anything is timed

log ".read() of $BENCH_READ_BYTES bytes"
measure "read:adminsh" "$READ_LEN" "$ADMINSH" -C "$TMP" -e "cmd(\"cat\", [\"$TMP/big\"]).read().len()"
measure "read:cat" "" cat "$TMP/big"
measure "read:python3" "$BENCH_READ_BYTES" "$PY" -S "$TMP/read.py" "$TMP/big"
rm -f "$TMP/big" "$TMP/out/stdout"

# --- 4. .each_line() over many lines ---------------------------------------------------------

log ".each_line() over $BENCH_LINES lines"
# Each side counts the lines in its loop's body: an empty closure is one rhai skips calling.
measure "lines:adminsh" "$BENCH_LINES" "$ADMINSH" -C "$TMP" -e "let n = 0; cmd(\"seq\", [\"$BENCH_LINES\"]).each_line(|l| { n += 1; }); n"
measure "lines:python3" "$BENCH_LINES" "$PY" -S "$TMP/lines.py" "$BENCH_LINES"
measure "lines:wc" "$BENCH_LINES" "$BASH_BIN" -c 'set -o pipefail; seq "$1" | wc -l' _ "$BENCH_LINES"

# --- 5. The console -------------------------------------------------------------------------

log "console: first prompt and idle RSS"
"$PY" "$BENCH_DIR/console.py" "$ADMINSH" "$([[ $QUICK == 1 ]] && echo 5 || echo 20)" > "$TMP/console.md"

# --- Report ----------------------------------------------------------------------------------

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
src_state=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
    src_state="$src_state + uncommitted changes"
fi

BENCH_DATE=$(date '+%Y-%m-%d %H:%M:%S %Z') \
BENCH_NPROC=$(nproc) \
BENCH_CPU=${cpu:-unknown} \
BENCH_SRC=$src_state \
BENCH_PYTHON="$PY ($("$PY" -c 'import platform; print(platform.python_version())'))" \
BENCH_HYPERFINE=$(hyperfine --version) \
BENCH_SPAWNS=$BENCH_SPAWNS BENCH_READ_BYTES=$BENCH_READ_BYTES BENCH_LINES=$BENCH_LINES \
BENCH_SPAWN_RUNS=$BENCH_SPAWN_RUNS BENCH_RUNS=$BENCH_RUNS BENCH_QUICK=$QUICK \
    "$PY" "$BENCH_DIR/report.py" "$TMP/out" | tee "$BENCH_DIR/results.md"
{ printf '\n## 5. Console: launch to first prompt, idle RSS (in a pty)\n\n'; cat "$TMP/console.md"; } | tee -a "$BENCH_DIR/results.md"
