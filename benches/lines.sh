#!/usr/bin/env bash
# Lines at native speed: counting the lines of a command's output that match a regex, side by
# side in one run (hyperfine for time, GNU time for peak RSS):
#
#   adminsh   cmd("seq", [N]).grep_count(PATTERN)            (native, no per-line closure)
#   grep -c   seq N | grep -c PATTERN
#   python3   for line in Popen(["seq", N]).stdout: if rx.search(line): n += 1
#   closure   cmd("seq", [N]).each_line(|l| if l.re_match(rx) { n += 1 })   (for reference)
#   floor     seq N > /dev/null                              (the producer alone)
#
# plus count_lines() against seq N | wc -l, for two patterns: a dense one (`7.*7$`, a third of
# the lines) and a rare literal (`12345`).
#
# Run from anywhere:
#   benches/lines.sh                     10 million lines
#   BENCH_LINES=1000000 benches/lines.sh
#   ADMINSH=/path/to/adminsh benches/lines.sh   (a binary built already)
# Needs hyperfine, python3 and GNU time (/usr/bin/time). Prints a Markdown table and writes it
# to benches/lines-results.md.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BENCH_LINES:=10000000}" "${BENCH_RUNS:=5}"

[[ "$BENCH_LINES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LINES must be a positive whole number"
command -v hyperfine >/dev/null || die "hyperfine is missing (apt-get install hyperfine)"
[[ -x /usr/bin/time ]] || die "GNU time is missing (apt-get install time)"
command -v python3 >/dev/null || die "python3 is missing"
PY=$(python3 -c 'import sys; print(sys.executable)')

shipped_binary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/adminsh-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
touch "$TMP/adminsh.toml"
cat > "$TMP/count.py" <<'EOF'
import re, subprocess, sys
search = re.compile(sys.argv[2].encode()).search
p = subprocess.Popen(["seq", sys.argv[1]], stdout=subprocess.PIPE)
n = 0
for line in p.stdout:
    if search(line):
        n += 1
p.wait()
print(n)
EOF

q() { printf '%q' "$1"; }
A=$(q "$ADMINSH") T=$(q "$TMP") P=$(q "$PY") N=$BENCH_LINES

# time_and_rss NAME EXPECTED COMMAND: hyperfine's median and GNU time's peak RSS of one run.
rows=()
time_and_rss() {
    local name=$1 want=$2 command=$3 got rss median
    got=$(bash -c "$command") || die "failed: $command"
    [[ "$got" == "$want" ]] || die "$name printed '$got', expected '$want'"
    rss=$(/usr/bin/time -f %M bash -c "$command > /dev/null" 2>&1 | tail -n 1)
    # Output to a pipe: GNU grep does less work when it sees its output is /dev/null.
    hyperfine -N --warmup 1 --runs "$BENCH_RUNS" --style none --output=pipe \
        --export-json "$TMP/h.json" "bash -c $(q "$command")" >/dev/null 2>&1 ||
        die "hyperfine failed: $command"
    read -r median cpu < <("$PY" -c 'import json,sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f" % (r["median"], r["user"] + r["system"]))' "$TMP/h.json")
    rows+=("$name|$median|$cpu|$rss")
    log "$name: ${median}s (CPU ${cpu}s), peak RSS ${rss} KiB"
}

table="| pattern | runner | wall s (median) | lines/s | CPU s (user+sys, all processes) | peak RSS (biggest process) |
| --- | --- | --- | --- | --- | --- |"
for pattern in '7.*7$' '12345'; do
    want=$(seq "$N" | grep -c -- "$pattern" || true)
    log "pattern $pattern over $N lines: $want match"
    rows=()
    time_and_rss "floor (seq > /dev/null)" "" "seq $N > /dev/null"
    time_and_rss "adminsh grep_count" "$want" \
        "$A -C $T -e $(q "cmd(\"seq\", [\"$N\"]).grep_count(\"${pattern}\")")"
    time_and_rss "grep -c" "$want" "seq $N | grep -c -- $(q "$pattern")"
    time_and_rss "python3 re loop" "$want" "$P -S $T/count.py $N $(q "$pattern")"
    time_and_rss "adminsh each_line closure" "$want" \
        "$A -C $T -e $(q "let rx = regex(\"${pattern}\"); let n = 0; cmd(\"seq\", [\"$N\"]).each_line(|l| { if l.re_match(rx) { n += 1; } }); n")"
    for row in "${rows[@]}"; do
        IFS='|' read -r name median cpu rss <<<"$row"
        rate=$("$PY" -c "print(f'{$N / $median / 1e6:.1f} M')")
        table+="
| \`$pattern\` | $name | $median | $rate | $cpu | $((rss / 1024)) MiB |"
    done
done

rows=()
time_and_rss "adminsh count_lines" "$N" "$A -C $T -e $(q "cmd(\"seq\", [\"$N\"]).count_lines()")"
time_and_rss "wc -l" "$N" "seq $N | wc -l"
for row in "${rows[@]}"; do
    IFS='|' read -r name median cpu rss <<<"$row"
    rate=$("$PY" -c "print(f'{$N / $median / 1e6:.1f} M')")
    table+="
| (all lines) | $name | $median | $rate | $cpu | $((rss / 1024)) MiB |"
done

result="# Lines benchmark ($N lines of \`seq\`, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the end)

$table"
printf '%s\n' "$result" | tee "$BENCH_DIR/lines-results.md"
