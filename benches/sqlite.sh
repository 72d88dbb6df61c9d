#!/usr/bin/env bash
# SQLite through std/db against Python's sqlite3 module, on the same files, in one run:
#
#   1. N inserts in one transaction, one statement per row:
#        adminsh  db::transaction(|| for i in 1..=n { db::exec("insert ...", [i, `name ${i}`]) })
#        python3  with con: for i in range(1, n + 1): con.execute("insert ...", (i, f"name {i}"))
#   2. The same N rows as one batch: db::exec_many against executemany (one transaction each).
#   3. Reading them back: db::query of every row against fetchall().
#
# Each side builds its own parameters (the work a script does), and each starts from an empty
# table in a fresh file. Times are hyperfine means of whole processes minus the same process
# doing no rows, divided by N: the per-row cost, start-up left out.
#
# Run from anywhere:   benches/sqlite.sh      (BENCH_ROWS=N, BENCH_RUNS=N)
#   ADMINSH=/path/to/adminsh benches/sqlite.sh   (a binary built already)
# Needs hyperfine and python3. Prints a Markdown table and writes it to benches/sqlite-results.md.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BENCH_ROWS:=100000}" "${BENCH_RUNS:=5}"

[[ "$BENCH_ROWS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive whole number"
command -v hyperfine >/dev/null || die "hyperfine is missing (apt-get install hyperfine)"
PY=$(python3 -c 'import sys; print(sys.executable)')

shipped_binary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/adminsh-sqlitebench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/app" "$TMP/out"
touch "$TMP/app/adminsh.toml"
export DATABASE_URL="sqlite:///$TMP/app.db?mode=rwc"

# Each run starts from an empty table: the file is made again before it.
cat > "$TMP/app/rows.rhai" <<'RHAI'
let n = ARGS[0].parse_int();
db::exec("drop table if exists t");
db::exec("create table t (id integer primary key, name text)");
db::transaction(|| { for i in 1..=n { db::exec("insert into t (id, name) values ($1, $2)", [i, `name ${i}`]); } });
RHAI
cat > "$TMP/app/many.rhai" <<'RHAI'
let n = ARGS[0].parse_int();
db::exec("drop table if exists t");
db::exec("create table t (id integer primary key, name text)");
let sets = [];
for i in 1..=n { sets.push([i, `name ${i}`]); }
db::exec_many("insert into t (id, name) values ($1, $2)", sets);
RHAI
cat > "$TMP/app/read.rhai" <<'RHAI'
let rows = db::query("select id, name from t where id <= $1", [ARGS[0].parse_int()]);
print(rows.len());
RHAI
cat > "$TMP/rows.py" <<'PY'
import sqlite3, sys
n = int(sys.argv[1])
con = sqlite3.connect(sys.argv[2])
con.execute("drop table if exists t")
con.execute("create table t (id integer primary key, name text)")
with con:
    for i in range(1, n + 1):
        con.execute("insert into t (id, name) values (?, ?)", (i, f"name {i}"))
PY
cat > "$TMP/many.py" <<'PY'
import sqlite3, sys
n = int(sys.argv[1])
con = sqlite3.connect(sys.argv[2])
con.execute("drop table if exists t")
con.execute("create table t (id integer primary key, name text)")
with con:
    con.executemany("insert into t (id, name) values (?, ?)", [(i, f"name {i}") for i in range(1, n + 1)])
PY
cat > "$TMP/read.py" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[2])
rows = con.execute("select id, name from t where id <= ?", (int(sys.argv[1]),)).fetchall()
print(len(rows))
PY

q() { printf '%q' "$1"; }
A=$(q "$ADMINSH") D=$(q "$TMP/app") P=$(q "$PY") T=$(q "$TMP") F=$(q "$TMP/app.db")
N=$BENCH_ROWS

log "sanity checks"
"$ADMINSH" -C "$TMP/app" "$TMP/app/many.rhai" 10 >/dev/null
[[ $("$ADMINSH" -C "$TMP/app" "$TMP/app/read.rhai" 10) == 10 ]] || die "adminsh cannot read its rows"
"$PY" "$TMP/many.py" 10 "$TMP/app.db"
[[ $("$PY" "$TMP/read.py" 10 "$TMP/app.db") == 10 ]] || die "python cannot read its rows"

log "inserts (hyperfine, $BENCH_RUNS runs each)"
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/write.json" \
    -n "adminsh rows" "$A -C $D $D/rows.rhai $N" \
    -n "python rows" "$P $T/rows.py $N $F" \
    -n "adminsh rows0" "$A -C $D $D/rows.rhai 0" \
    -n "python rows0" "$P $T/rows.py 0 $F" \
    -n "adminsh many" "$A -C $D $D/many.rhai $N" \
    -n "python many" "$P $T/many.py $N $F" \
    -n "adminsh many0" "$A -C $D $D/many.rhai 0" \
    -n "python many0" "$P $T/many.py 0 $F" >&2

log "reads (hyperfine, $BENCH_RUNS runs each)"
"$ADMINSH" -C "$TMP/app" "$TMP/app/many.rhai" "$N" >/dev/null
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/read.json" \
    -n "adminsh read" "$A -C $D $D/read.rhai $N" \
    -n "python read" "$P $T/read.py $N $F" \
    -n "adminsh read0" "$A -C $D $D/read.rhai 0" \
    -n "python read0" "$P $T/read.py 0 $F" >&2

"$PY" - "$TMP/out" "$N" "$ADMINSH" "$PY" > "$BENCH_DIR/sqlite-results.md" <<'PY'
import json, subprocess, sys
out, n, binary, py = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mean = {}
for name in ("write", "read"):
    mean.update({r["command"]: r["mean"] for r in json.load(open(f"{out}/{name}.json"))["results"]})
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
version = subprocess.run([py, "-c", "import sqlite3, sys; print(sys.version.split()[0], sqlite3.sqlite_version)"], capture_output=True, text=True).stdout.split()
print("# SQLite benchmarks (benches/sqlite.sh)\n")
print(f"- adminsh {rev} (`cargo dist`, SQLite bundled by rusqlite); Python {version[0]} with SQLite {version[1]}")
print(f"- {n:,} rows; hyperfine means; per row = (time - time for 0 rows) / N\n")
print("| Work | adminsh (ms) | python3 (ms) | adminsh per row (µs) | python3 per row (µs) | ratio |")
print("|---|---|---|---|---|---|")
for key, label in (("rows", "inserts, one `db::exec` / `execute` a row, one transaction"), ("many", "inserts, `db::exec_many` / `executemany`"), ("read", "`db::query` / `fetchall()` of every row")):
    a = (mean[f"adminsh {key}"] - mean[f"adminsh {key}0"]) / n * 1e6
    p = (mean[f"python {key}"] - mean[f"python {key}0"]) / n * 1e6
    print(f"| {label} | {mean[f'adminsh {key}'] * 1000:.0f} | {mean[f'python {key}'] * 1000:.0f} | {a:.2f} | {p:.2f} | {a / p:.2f}x |")
PY
cat "$BENCH_DIR/sqlite-results.md"
