#!/usr/bin/env bash
# MySQL/MariaDB benchmarks: adminsh against Python with PyMySQL (pure Python, the usual
# choice), on the same throwaway MariaDB server on 127.0.0.1, in one run:
#
#   1. 10,000 inserts as one batch: db::exec_many against cursor.executemany (both in one
#      transaction; PyMySQL sends an INSERT of one row of placeholders as statements of many
#      rows, and so does adminsh).
#   2. 10,000 single-row inserts, one statement each, in one transaction: db::exec per row
#      against cursor.execute per row.
#   3. Reading the 10,000 rows back: db::query against fetchall().
#
# Run from anywhere:   benches/mysql.sh       (BENCH_ROWS=N, BENCH_RUNS=N; ADMINSH=path times a
#                      binary built already)
# Needs: mariadb-server (mariadb-install-db, mariadbd), python3 with venv (PyMySQL is installed
# into a scratch virtualenv), hyperfine. Prints a Markdown table and writes it to
# benches/mysql-results.md.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BENCH_ROWS:=10000}" "${BENCH_RUNS:=5}"

[[ "$BENCH_ROWS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive whole number"
command -v hyperfine >/dev/null || die "hyperfine is missing: apt-get install hyperfine"
command -v mariadb-install-db >/dev/null || die "MariaDB is missing: apt-get install mariadb-server"
SERVER=$(ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -n 1)
[[ -n "$SERVER" ]] || die "mariadbd is missing: apt-get install mariadb-server"
PY=$(python3 -c 'import sys; print(sys.executable)')

shipped_binary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/adminsh-mysqlbench.XXXXXX")
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    [[ -f "$TMP/pid" ]] && kill "$(cat "$TMP/pid")" 2>/dev/null || true
    sleep 1
    rm -rf "$TMP"
}
trap cleanup EXIT

log "a MariaDB server on 127.0.0.1:$PORT"
mariadb-install-db --no-defaults --user=root --skip-test-db --auth-root-authentication-method=socket \
    --datadir="$TMP/data" >/dev/null 2>&1 || die "mariadb-install-db failed"
"$SERVER" --no-defaults --user=root --bind-address=127.0.0.1 --datadir="$TMP/data" --port="$PORT" \
    --socket="$TMP/sock" --pid-file="$TMP/pid" --log-error="$TMP/err.log" --skip-log-bin \
    --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 </dev/null >/dev/null 2>&1 &
for _ in $(seq 100); do [[ -S "$TMP/sock" ]] && break; sleep 0.1; done
[[ -S "$TMP/sock" ]] || die "the server did not start: $(cat "$TMP/err.log")"
mariadb --no-defaults -uroot -S "$TMP/sock" -e "create database app; create user 'app'@'127.0.0.1' identified by 'pw';
    grant all on *.* to 'app'@'127.0.0.1'; create table app.m (id integer primary key, name varchar(50));"
URL="mysql://app:pw@127.0.0.1:$PORT/app"
export DATABASE_URL=$URL MYSQL_PORT=$PORT

log "PyMySQL in a scratch virtualenv"
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install -q PyMySQL || die "cannot install PyMySQL"
VPY="$TMP/venv/bin/python"

mkdir -p "$TMP/app" "$TMP/out"
touch "$TMP/app/adminsh.toml"
cat > "$TMP/app/many.rhai" <<'EOF'
let n = ARGS[0].parse_int();
let sets = [];
for i in 1..=n { sets.push([i, `name ${i}`]); }
db::transaction(|| {
    db::exec("delete from m");
    db::exec_many("insert into m (id, name) values ($1, $2)", sets);
});
EOF
cat > "$TMP/app/each.rhai" <<'EOF'
let n = ARGS[0].parse_int();
db::transaction(|| {
    db::exec("delete from m");
    for i in 1..=n { db::exec("insert into m (id, name) values ($1, $2)", [i, `name ${i}`]); }
});
EOF
cat > "$TMP/app/read.rhai" <<'EOF'
let rows = db::query("select id, name from m");
print(rows.len());
EOF
cat > "$TMP/bench.py" <<'EOF'
import os, sys, pymysql
what, n = sys.argv[1], int(sys.argv[2])
conn = pymysql.connect(host="127.0.0.1", port=int(os.environ["MYSQL_PORT"]), user="app", password="pw", database="app")
with conn.cursor() as cur:
    if what == "read":
        cur.execute("select id, name from m")
        print(len(cur.fetchall()))
    else:
        cur.execute("delete from m")
        if what == "many":
            cur.executemany("insert into m (id, name) values (%s, %s)", [(i, f"name {i}") for i in range(1, n + 1)])
        else:
            for i in range(1, n + 1):
                cur.execute("insert into m (id, name) values (%s, %s)", (i, f"name {i}"))
        conn.commit()
EOF

q() { printf '%q' "$1"; }
A=$(q "$ADMINSH") D=$(q "$TMP/app") V=$(q "$VPY") T=$(q "$TMP")

log "sanity checks"
"$ADMINSH" -C "$TMP/app" "$TMP/app/many.rhai" 10
[[ $("$ADMINSH" -C "$TMP/app" "$TMP/app/read.rhai") == 10 ]] || die "adminsh did not insert 10 rows"
"$VPY" "$TMP/bench.py" many 10
[[ $("$VPY" "$TMP/bench.py" read 0) == 10 ]] || die "PyMySQL did not insert 10 rows"

log "hyperfine, $BENCH_RUNS runs each"
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/all.json" \
    -n "adminsh many" "$A -C $D $D/many.rhai $BENCH_ROWS" \
    -n "pymysql many" "$V $T/bench.py many $BENCH_ROWS" \
    -n "adminsh many0" "$A -C $D $D/many.rhai 0" \
    -n "pymysql many0" "$V $T/bench.py many 0" \
    -n "adminsh each" "$A -C $D $D/each.rhai $BENCH_ROWS" \
    -n "pymysql each" "$V $T/bench.py each $BENCH_ROWS" \
    -n "adminsh each0" "$A -C $D $D/each.rhai 0" \
    -n "pymysql each0" "$V $T/bench.py each 0" >&2
# Reading needs the rows there: put them back, then read.
"$ADMINSH" -C "$TMP/app" "$TMP/app/many.rhai" "$BENCH_ROWS"
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/read.json" \
    -n "adminsh read" "$A -C $D $D/read.rhai" \
    -n "pymysql read" "$V $T/bench.py read 0" >&2

VERSION=$(mariadb --no-defaults -uroot -S "$TMP/sock" -N -B -e "select version()")
PYMYSQL=$("$VPY" -c 'import pymysql; print(pymysql.__version__)')
"$PY" - "$TMP/out" "$BENCH_ROWS" "$VERSION" "$PYMYSQL" > "$BENCH_DIR/mysql-results.md" <<'EOF'
import json, os, subprocess, sys
out, n, version, pymysql = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mean = {r["command"]: r["mean"] for f in ("all", "read") for r in json.load(open(f"{out}/{f}.json"))["results"]}
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print("# MySQL benchmarks (benches/mysql.sh)\n")
print(f"- adminsh {rev} (`cargo dist`), PyMySQL {pymysql}; one MariaDB {version} on 127.0.0.1")
print(f"- `nproc` = {os.cpu_count()}; hyperfine means; per row = (time - time for 0 rows) / N\n")
print("| Work | adminsh (ms) | PyMySQL (ms) | adminsh per row (µs) | PyMySQL per row (µs) | ratio |")
print("|---|---|---|---|---|---|")
for label, key in ((f"{n:,} inserts, `db::exec_many` / `executemany`, one transaction", "many"),
                   (f"{n:,} inserts, one `db::exec` / `execute` a row, one transaction", "each")):
    a = (mean[f"adminsh {key}"] - mean[f"adminsh {key}0"]) / n * 1e6
    p = (mean[f"pymysql {key}"] - mean[f"pymysql {key}0"]) / n * 1e6
    print(f"| {label} | {mean[f'adminsh {key}'] * 1000:.0f} | {mean[f'pymysql {key}'] * 1000:.0f} | {a:.1f} | {p:.1f} | {a / p:.2f}x |")
a, p = mean["adminsh read"], mean["pymysql read"]
print(f"| `db::query` / `fetchall()` of the {n:,} rows (whole processes) | {a * 1000:.0f} | {p * 1000:.0f} | | | {a / p:.2f}x |")
EOF
cat "$BENCH_DIR/mysql-results.md"
