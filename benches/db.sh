#!/usr/bin/env bash
# std/db benchmarks: adminsh against Python with psycopg 3 and psql, on the same throwaway
# PostgreSQL server, in one run:
#
#   1. 10,000 single-row updates in one transaction (db::exec per row, psycopg's execute per
#      row, psql reading a file of 10,000 update statements between BEGIN and COMMIT).
#   2. 1,000 single-row updates, each autocommitted.
#   2b. 10,000 inserts as one batch: db::exec_many against psycopg's executemany (both in one
#      transaction; both pipeline), and the same 10,000 updates as (1) in a dry run, where every
#      statement also runs the dry run's checks, and again with each value written into the
#      statement's text (each statement then read by PostgreSQL's grammar, none remembered).
#   3. Streaming 1,000,000 rows: db::each vs psycopg's server-side cursor: rows/s and peak RSS.
#   3b. Reading 1,000,000 rows into memory: db::query vs psycopg's fetchall (tuples, its
#      default, and dicts, as a script reading columns by name would): time and peak RSS.
#   4. A backfill of 1,000,000 rows in batches of 1,000 by keyset: db::batches in a step
#      (the cursor saved in the checkpoint after each batch), with exactly_once (the cursor
#      written in each batch's transaction), outside a step (nothing saved), against a
#      hand-written psycopg keyset loop doing the same batches: rows/s and peak RSS. The step's
#      walk again as 1, 2 and 4 shards (`--shards N`: N worker processes, each its slice of the
#      key, its own connection and checkpoint): rows/s of the whole, and the peak RSS of one
#      process (the coordinator's or a worker's, whichever is larger).
#   5. Startup of `adminsh -e 1` (the database connects on first use, so it pays nothing), and
#      the binary's size.
#
# Run from anywhere:   benches/db.sh          (BENCH_RUNS=N runs each, the median reported;
#                      ADMINSH=path times a binary built already)
# Needs: PostgreSQL's server binaries (initdb, pg_ctl), psql, python3 with venv (psycopg[binary]
# is installed into a scratch virtualenv), hyperfine and GNU time. Prints a Markdown table and
# writes it to benches/db-results.md.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BENCH_RUNS:=3}" "${BENCH_TX_ROWS:=10000}" "${BENCH_AUTO_ROWS:=1000}" "${BENCH_EACH_ROWS:=1000000}"
: "${BENCH_BACKFILL_ROWS:=1000000}"

command -v hyperfine >/dev/null || die "hyperfine is missing: apt-get install hyperfine"
[[ -x /usr/bin/time ]] || die "GNU time is missing: apt-get install time"
command -v psql >/dev/null || die "psql is missing: apt-get install postgresql-client"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$PGBIN/initdb" ]] || die "PostgreSQL's server is missing: apt-get install postgresql"
PY=$(python3 -c 'import sys; print(sys.executable)')

shipped_binary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/adminsh-dbbench.XXXXXX")
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) == 0 ]]; then
    as_pg=(runuser -u postgres --)
    chown postgres "$TMP"
fi
cleanup() {
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

log "a PostgreSQL cluster on 127.0.0.1:$PORT"
"${as_pg[@]}" "$PGBIN/initdb" -D "$TMP/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/pg.log" -w start \
    -o "-c port=$PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$TMP -c fsync=off" >/dev/null
URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
export DATABASE_URL=$URL
psql -X -q "$URL" -c "create table t (id integer primary key, v integer not null default 0);
    insert into t (id) select generate_series(1, $BENCH_TX_ROWS);
    create table m (id integer primary key, name text);
    create table b (id integer primary key, v integer not null default 0);
    insert into b (id) select generate_series(1, $BENCH_BACKFILL_ROWS);"
psql -X -q "$URL" -c "vacuum analyze b"

log "psycopg 3 in a scratch virtualenv"
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install -q "psycopg[binary]" || die "cannot install psycopg[binary]"
VPY="$TMP/venv/bin/python"

mkdir -p "$TMP/app" "$TMP/out"
touch "$TMP/app/adminsh.toml"
cat > "$TMP/app/tx.rhai" <<'EOF'
let n = ARGS[0].parse_int();
db::transaction(|| { for i in 1..=n { db::exec("update t set v = v + 1 where id = $1", [i]); } });
EOF
# The same updates with the value in the statement's text: every statement a text not seen
# before, so each is read by PostgreSQL's grammar (the dry run's checks) before it is sent.
cat > "$TMP/app/tx_text.rhai" <<'EOF'
let n = ARGS[0].parse_int();
db::transaction(|| { for i in 1..=n { db::exec("update t set v = v + 1 where id = " + i); } });
EOF
cat > "$TMP/app/auto.rhai" <<'EOF'
let n = ARGS[0].parse_int();
for i in 1..=n { db::exec("update t set v = v + 1 where id = $1", [i]); }
EOF
cat > "$TMP/app/many.rhai" <<'EOF'
let n = ARGS[0].parse_int();
let sets = [];
for i in 1..=n { sets.push([i, `name ${i}`]); }
db::exec("delete from m");
db::exec_many("insert into m (id, name) values ($1, $2)", sets);
EOF
cat > "$TMP/many.py" <<'EOF'
import os, sys, psycopg
n = int(sys.argv[1])
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    with conn.transaction():
        conn.execute("delete from m")
        with conn.cursor() as cur:
            cur.executemany("insert into m (id, name) values (%s, %s)", [(i, f"name {i}") for i in range(1, n + 1)])
EOF
cat > "$TMP/app/each.rhai" <<'EOF'
let n = 0;
db::each("select g, 'row ' || g as name from generate_series(1, $1) g", [ARGS[0].parse_int()], |row| { n += 1; });
print(n);
EOF
cat > "$TMP/app/query.rhai" <<'EOF'
let rows = db::query("select g, 'row ' || g as name from generate_series(1, $1) g", [ARGS[0].parse_int()]);
print(rows.len());
EOF
for factory in tuple dict; do
    cat > "$TMP/query_$factory.py" <<EOF
import os, sys, psycopg
from psycopg.rows import dict_row, tuple_row
with psycopg.connect(os.environ["DATABASE_URL"], row_factory=${factory}_row) as conn:
    rows = conn.execute("select g, 'row ' || g as name from generate_series(1, %s) g", (int(sys.argv[1]),)).fetchall()
print(len(rows))
EOF
done
cat > "$TMP/tx.py" <<'EOF'
import os, sys, psycopg
n = int(sys.argv[1])
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    with conn.transaction():
        for i in range(1, n + 1):
            conn.execute("update t set v = v + 1 where id = %s", (i,))
EOF
cat > "$TMP/auto.py" <<'EOF'
import os, sys, psycopg
n = int(sys.argv[1])
with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
    for i in range(1, n + 1):
        conn.execute("update t set v = v + 1 where id = %s", (i,))
EOF
cat > "$TMP/each.py" <<'EOF'
import os, sys, psycopg
n = 0
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    with conn.cursor(name="rows") as cur:
        cur.itersize = 1000
        cur.execute("select g, 'row ' || g as name from generate_series(1, %s) g", (int(sys.argv[1]),))
        for row in cur:
            n += 1
print(n)
EOF
for how in step once bare; do
    case $how in
        step) head='step("backfill", || {'; opts=''; tail='});' ;;
        once) head='step("backfill", || {'; opts=', exactly_once: true'; tail='});' ;;
        bare) head=''; opts=''; tail='' ;;
    esac
    cat > "$TMP/app/backfill_$how.rhai" <<EOF
$head
db::batches(#{table: "b", size: 1000$opts}, |rows| {
    db::exec("update b set v = v + 1 where id >= \$1 and id <= \$2", [rows[0].id, rows[rows.len() - 1].id]);
});
$tail
EOF
done
cat > "$TMP/backfill.py" <<'EOF'
import os, psycopg
last, n = 0, 0
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    while True:
        with conn.transaction():
            rows = conn.execute("select * from b where id > %s order by id limit 1000", (last,)).fetchall()
            if not rows:
                break
            conn.execute("update b set v = v + 1 where id >= %s and id <= %s", (rows[0][0], rows[-1][0]))
        last, n = rows[-1][0], n + len(rows)
print(n)
EOF
{ echo "BEGIN;"; for ((i = 1; i <= BENCH_TX_ROWS; i++)); do echo "update t set v = v + 1 where id = $i;"; done; echo "COMMIT;"; } > "$TMP/tx.sql"
for ((i = 1; i <= BENCH_AUTO_ROWS; i++)); do echo "update t set v = v + 1 where id = $i;"; done > "$TMP/auto.sql"

q() { printf '%q' "$1"; }
A=$(q "$ADMINSH") D=$(q "$TMP/app") V=$(q "$VPY") T=$(q "$TMP")

log "sanity checks"
[[ $("$ADMINSH" -C "$TMP/app" -e 'db::scalar("select count(*) from t")') == "$BENCH_TX_ROWS" ]] || die "adminsh cannot read the table"
[[ $("$VPY" "$TMP/each.py" 10) == 10 ]] || die "psycopg does not work"
[[ $("$ADMINSH" -C "$TMP/app" "$TMP/app/each.rhai" 10) == 10 ]] || die "db::each does not work"

log "updates (hyperfine, $BENCH_RUNS runs each)"
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/updates.json" \
    -n "adminsh tx" "$A -C $D $D/tx.rhai $BENCH_TX_ROWS" \
    -n "psycopg tx" "$V $T/tx.py $BENCH_TX_ROWS" \
    -n "psql tx" "psql -X -q -f $T/tx.sql $(q "$URL")" \
    -n "adminsh auto" "$A -C $D $D/auto.rhai $BENCH_AUTO_ROWS" \
    -n "psycopg auto" "$V $T/auto.py $BENCH_AUTO_ROWS" \
    -n "psql auto" "psql -X -q -f $T/auto.sql $(q "$URL")" \
    -n "adminsh 0" "$A -C $D $D/auto.rhai 0" \
    -n "psycopg 0" "$V $T/auto.py 0" \
    -n "psql 0" "psql -X -q -c select $(q "$URL")" >&2

log "exec_many and the dry run (hyperfine, $BENCH_RUNS runs each)"
hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style basic --export-json "$TMP/out/many.json" \
    -n "adminsh many" "$A -C $D $D/many.rhai $BENCH_TX_ROWS" \
    -n "psycopg many" "$V $T/many.py $BENCH_TX_ROWS" \
    -n "adminsh many0" "$A -C $D $D/many.rhai 0" \
    -n "psycopg many0" "$V $T/many.py 0" \
    -n "adminsh dry" "$A -C $D --dry-run $D/tx.rhai $BENCH_TX_ROWS" \
    -n "adminsh dry0" "$A -C $D --dry-run $D/tx.rhai 0" \
    -n "adminsh dry text" "$A -C $D --dry-run $D/tx_text.rhai $BENCH_TX_ROWS" >&2

# `measure FILE WHO CMD...`: runs CMD once under GNU time and appends WHO, its wall time (ns)
# and its peak RSS (KiB) to $TMP/out/FILE.tsv; its stdout is left in $TMP/out/stdout.
measure() {
    local file=$1 who=$2 start end
    shift 2
    start=$(date +%s%N)
    /usr/bin/time -f %M -o "$TMP/out/rss" "$@" > "$TMP/out/stdout" 2> "$TMP/out/stderr" || die "$who: $(cat "$TMP/out/stderr")"
    end=$(date +%s%N)
    printf '%s\t%s\t%s\n' "$who" "$(( end - start ))" "$(tail -n 1 "$TMP/out/rss")" >> "$TMP/out/$file.tsv"
}

log "db::each over $BENCH_EACH_ROWS rows"
for ((i = 0; i < BENCH_RUNS; i++)); do
    measure each adminsh "$ADMINSH" -C "$TMP/app" "$TMP/app/each.rhai" "$BENCH_EACH_ROWS"
    [[ $(cat "$TMP/out/stdout") == "$BENCH_EACH_ROWS" ]] || die "adminsh walked $(cat "$TMP/out/stdout") rows"
    measure each psycopg "$VPY" "$TMP/each.py" "$BENCH_EACH_ROWS"
    [[ $(cat "$TMP/out/stdout") == "$BENCH_EACH_ROWS" ]] || die "psycopg walked $(cat "$TMP/out/stdout") rows"
done

log "db::query of $BENCH_EACH_ROWS rows"
for ((i = 0; i < BENCH_RUNS; i++)); do
    for who in adminsh tuple dict; do
        if [[ $who == adminsh ]]; then
            measure query adminsh "$ADMINSH" -C "$TMP/app" "$TMP/app/query.rhai" "$BENCH_EACH_ROWS"
        else
            measure query "$who" "$VPY" "$TMP/query_$who.py" "$BENCH_EACH_ROWS"
        fi
        [[ $(cat "$TMP/out/stdout") == "$BENCH_EACH_ROWS" ]] || die "$who read $(cat "$TMP/out/stdout") rows"
    done
done

log "backfill of $BENCH_BACKFILL_ROWS rows"
for ((i = 0; i < BENCH_RUNS; i++)); do
    for who in step once bare psycopg shards1 shards2 shards4; do
        case $who in
            psycopg) measure backfill "$who" "$VPY" "$TMP/backfill.py" ;;
            shards*) measure backfill "$who" "$ADMINSH" -C "$TMP/app" --shards "${who#shards}" "$TMP/app/backfill_step.rhai" ;;
            *) measure backfill "$who" "$ADMINSH" -C "$TMP/app" "$TMP/app/backfill_$who.rhai" ;;
        esac
    done
done
[[ $(psql -X -q -t -A "$URL" -c "select count(*) from b where v <> $(( 7 * BENCH_RUNS ))") == 0 ]] || die "a backfill missed rows, or did one twice"

log "startup (hyperfine)"
hyperfine -N --warmup 20 --runs 200 --style basic --export-json "$TMP/out/startup.json" \
    -n adminsh "$A -C $D -e 1" -n bash "bash -c true" >&2

"$PY" - "$TMP/out" "$ADMINSH" "$BENCH_TX_ROWS" "$BENCH_AUTO_ROWS" "$BENCH_EACH_ROWS" "$BENCH_BACKFILL_ROWS" > "$BENCH_DIR/db-results.md" <<'EOF'
import json, os, statistics, subprocess, sys
out, binary, tx, auto, each, backfill = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
mean = {r["command"]: r["mean"] for r in json.load(open(f"{out}/updates.json"))["results"]}
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print("# std/db benchmarks (benches/db.sh)\n")
print(f"- adminsh {rev} (`cargo dist`), psycopg 3 (`psycopg[binary]`), psql; one PostgreSQL 15 on 127.0.0.1, fsync off")
print(f"- `nproc` = {os.cpu_count()}; means of the hyperfine runs. Per statement = (time - time for 0 statements) / N.\n")
print("| Workload | Runner | Total (ms) | Per statement (µs) | vs psycopg |")
print("|---|---|---|---|---|")
for label, n, key in ((f"{tx:,} updates, one transaction", tx, "tx"), (f"{auto:,} updates, autocommitted", auto, "auto")):
    per = {w: (mean[f"{w} {key}"] - mean[f"{w} 0"]) / n * 1e6 for w in ("adminsh", "psycopg", "psql")}
    for w in ("adminsh", "psycopg", "psql"):
        print(f"| {label} | {w} | {mean[f'{w} {key}'] * 1000:.0f} | {per[w]:.1f} | {per[w] / per['psycopg']:.2f}x |")
many = {r["command"]: r["mean"] for r in json.load(open(f"{out}/many.json"))["results"]}
per = {w: (many[f"{w} many"] - many[f"{w} many0"]) / tx * 1e6 for w in ("adminsh", "psycopg")}
for w in ("adminsh", "psycopg"):
    print(f"| {tx:,} inserts, `exec_many` / `executemany` | {w} | {many[f'{w} many'] * 1000:.0f} | {per[w]:.1f} | {per[w] / per['psycopg']:.2f}x |")
tx_psycopg = (mean["psycopg tx"] - mean["psycopg 0"]) / tx * 1e6
dry = (many["adminsh dry"] - many["adminsh dry0"]) / tx * 1e6
print(f"| {tx:,} updates, one transaction, `--dry-run` | adminsh | {many['adminsh dry'] * 1000:.0f} | {dry:.1f} | {dry / tx_psycopg:.2f}x |")
dry_text = (many["adminsh dry text"] - many["adminsh dry0"]) / tx * 1e6
print(f"| {tx:,} updates, one transaction, `--dry-run`, each value in the statement's text | adminsh | {many['adminsh dry text'] * 1000:.0f} | {dry_text:.1f} | {dry_text / tx_psycopg:.2f}x |")
rows = {}
for line in open(f"{out}/each.tsv"):
    who, ns, rss = line.split("\t")
    rows.setdefault(who, []).append((int(ns), int(rss)))
print(f"\n| db::each over {each:,} rows | Median (s) | Rows/s | Peak RSS (MiB) |")
print("|---|---|---|---|")
for who, label in (("adminsh", "adminsh `db::each` (cursor, 1,000 rows a fetch)"), ("psycopg", "psycopg server-side cursor (itersize 1,000)")):
    t = statistics.median(ns for ns, _ in rows[who]) / 1e9
    print(f"| {label} | {t:.2f} | {each / t:,.0f} | {max(r for _, r in rows[who]) / 1024:.1f} |")
rows = {}
for line in open(f"{out}/query.tsv"):
    who, ns, rss = line.split("\t")
    rows.setdefault(who, []).append((int(ns), int(rss)))
t0 = statistics.median(ns for ns, _ in rows["tuple"]) / 1e9
m0 = max(r for _, r in rows["tuple"])
print(f"\n| db::query of {each:,} rows (two columns), all in memory | Median (s) | vs fetchall (time) | Peak RSS (MiB) | vs fetchall (RSS) |")
print("|---|---|---|---|---|")
for who, label in (("adminsh", "adminsh `db::query`"), ("tuple", "psycopg `fetchall()` (tuples, the default)"), ("dict", "psycopg `fetchall()` with `dict_row`")):
    t = statistics.median(ns for ns, _ in rows[who]) / 1e9
    m = max(r for _, r in rows[who])
    print(f"| {label} | {t:.2f} | {t / t0:.2f}x | {m / 1024:.1f} | {m / m0:.2f}x |")
rows = {}
for line in open(f"{out}/backfill.tsv"):
    who, ns, rss = line.split("\t")
    rows.setdefault(who, []).append((int(ns), int(rss)))
base = statistics.median(ns for ns, _ in rows["psycopg"]) / 1e9
print(f"\n| Backfill of {backfill:,} rows, batches of 1,000 by keyset | Median (s) | Rows/s | vs psycopg (time) | Peak RSS (MiB) |")
print("|---|---|---|---|---|")
for who, label in (
    ("step", "adminsh `db::batches` in a step (cursor saved to the checkpoint per batch)"),
    ("once", "adminsh `db::batches` with `exactly_once` (cursor in the batch's transaction)"),
    ("bare", "adminsh `db::batches` outside a step (nothing saved)"),
    ("psycopg", "psycopg keyset loop, a transaction per batch"),
    ("shards1", "adminsh `--shards 1`, the step's walk (cursor saved per batch)"),
    ("shards2", "adminsh `--shards 2`"),
    ("shards4", "adminsh `--shards 4`"),
):
    t = statistics.median(ns for ns, _ in rows[who]) / 1e9
    print(f"| {label} | {t:.2f} | {backfill / t:,.0f} | {t / base:.2f}x | {max(r for _, r in rows[who]) / 1024:.1f} |")
s = {r["command"]: r for r in json.load(open(f"{out}/startup.json"))["results"]}
a, b = s["adminsh"]["mean"], s["bash"]["mean"]
print(f"\nStartup: `adminsh -e 1` {a * 1000:.2f} ms, `bash -c true` {b * 1000:.2f} ms ({a / b:.2f}x). Binary: {os.path.getsize(binary) / 2**20:.1f} MiB.")
EOF
cat "$BENCH_DIR/db-results.md"
