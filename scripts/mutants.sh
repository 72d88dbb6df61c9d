#!/usr/bin/env bash
# Mutation testing of adminsh's safety-critical modules with cargo-mutants: each mutant (a `==`
# turned into `!=`, a guard made to return `Ok(())`, ...) is built and the tests that exercise
# its module are run; a mutant no test notices is a promise nothing holds.
#
# The files are listed in .cargo/mutants.toml. This script runs them one group at a time, each
# group with the tests that exercise it (the lib's unit tests and the modules of the `it`
# integration binary named below), so a mutant costs one incremental build and a short run,
# not the whole suite.
#
# Usage:
#   scripts/mutants.sh                       every group, every mutant
#   scripts/mutants.sh --in-diff BASE        only mutants on lines changed since git ref BASE
#   scripts/mutants.sh --group db --group audit   only these groups (repeatable)
#   scripts/mutants.sh --budget 900          stop starting work after 900 seconds
#   scripts/mutants.sh --list                the mutants, without building anything
#   scripts/mutants.sh --tests 'db::sql'     other test filters than the group's own
#   scripts/mutants.sh --re 'in reserved$'   the mutants whose name matches, not the group's
#   scripts/mutants.sh --lib-only            only the unit tests: quicker, and catches less
#   scripts/mutants.sh ... -- ARGS           ARGS go to cargo mutants (e.g. -F 'reserved')
#
# Survivors that are kept on purpose are listed in .cargo/mutants-accepted.txt, one a line with
# its reason; they are not tested. Exit status: 0 when every tested mutant was caught (a mutant
# whose tests hang until the timeout counts as caught), 1 when one was missed, 2 on a usage
# error. A budget that runs out leaves the rest untested and says so, without failing. Each
# group's results are in target/mutants-out/<group>/mutants.out.
#
# Builds go to $CARGO_TARGET_DIR/mutants (target/mutants by default): apart from the ordinary
# build, so a mutated binary never replaces the one the ordinary tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# group; files (a regex on the mutant's name, which starts with its path); test filters
# (names of unit tests and `it` tests; a test runs when its name contains one of them).
groups=(
  "secrets;^src/(release/(redactor|secrets)|sink)\\.rs:;release::redactor release::secrets secrets::"
  "db;^src/db/(sql|pg_grammar|conn|cancel)\\.rs:;db::"
  "imports;^src/host/modules\\.rs:;host::modules import module"
  "files;^src/(host/file_tree/|host/file_io/|state/files\\.rs|small_file\\.rs);files:: file_io:: file_tree:: attack_files:: links:: special_files:: state::files small_file::"
  "audit;^src/(audit/mod|log)\\.rs:;closed_pipes:: audit full_disk:: logging_goes_to_stderr pause::a_paused ui::a_backfill"
  "interrupt;^src/interrupt\\.rs:;interrupt"
  "runs;^src/(runs/|state/lock\\.rs);runs:: detach:: pause:: ui:: state::lock lock"
  "backfills;^src/(host/(db/ledger|db/batches|batches|pace)|shard|sharding/mod|state/shards)\\.rs:;batches:: db::sqlite pause:: host::pace host::batches host::db::batches host::db::ledger shard:: shards:: state::shards jobs::shards"
)

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

base=""
budget=0
list=false
tests=""
only=""
targets=(--lib --test it)
chosen=()
passed=()
while (($#)); do
  case $1 in
    --in-diff) base=${2:?--in-diff needs a git ref}; shift 2 ;;
    --group) chosen+=("${2:?--group needs a name}"); shift 2 ;;
    --budget) budget=${2:?--budget needs seconds}; shift 2 ;;
    --list) list=true; shift ;;
    --tests) tests=${2:?--tests needs test filters}; shift 2 ;;
    --re) only=${2:?--re needs a regex}; shift 2 ;;
    --lib-only) targets=(--lib); shift ;;
    --) shift; passed=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "mutants.sh: unknown argument $1" >&2; usage ;;
  esac
done

command -v cargo-mutants >/dev/null || {
  echo "mutants.sh: cargo-mutants is not installed: cargo install --locked cargo-mutants" >&2
  exit 2
}

ordinary="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$ordinary/mutants"
# The first time, start from a copy of the ordinary build: the dependencies are built already
# and cargo reuses them, so the unmutated baseline costs one build of adminsh, not of the world.
if [[ ! -d $CARGO_TARGET_DIR ]]; then
  mkdir -p "$CARGO_TARGET_DIR"
  for dir in "$ordinary"/*/; do
    case $(basename "$dir") in
      mutants | mutants-out | release) ;;
      *) cp -a --reflink=auto "$dir" "$CARGO_TARGET_DIR/" ;;
    esac
  done
fi
out_root="$ordinary/mutants-out"
mkdir -p "$out_root"

# The accepted survivors, as --exclude-re: each line's name with its line and column left out,
# so a line moved by an edit above it still matches.
# (cargo-mutants 27 does not filter its "delete field" mutants by name, so a missed mutant is
# also looked up in the list before it counts.)
quote() { printf '%s' "$1" | sed 's/[][\\.^$*+?(){}|]/\\&/g'; }
accepted=()
accepted_names=()
if [[ -f .cargo/mutants-accepted.txt ]]; then
  while IFS= read -r line; do
    [[ -z ${line// } || $line == \#* ]] && continue
    name=${line%%  #*}
    name=${name%"${name##*[![:space:]]}"}
    accepted_names+=("$name")
    accepted+=(--exclude-re "^$(quote "${name%%: *}"):[0-9]+:[0-9]+: $(quote "${name#*: }")\$")
  done < .cargo/mutants-accepted.txt
fi

# The missed mutants in $1 that the list does not accept.
unaccepted() {
  [[ -f $1 ]] || return 0
  while IFS= read -r missed; do
    local bare
    bare=$(sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /' <<< "$missed")
    if [[ " ${accepted_names[*]/%/|} " != *" $bare|"* ]]; then
      printf '%s\n' "$missed"
    fi
  done < "$1"
}

diff_args=()
if [[ -n $base ]]; then
  diff_file="$out_root/in-diff.patch"
  git diff "$(git merge-base "$base" HEAD)" -- src > "$diff_file"
  if [[ ! -s $diff_file ]]; then
    echo "mutants.sh: nothing under src/ changed since $base"
    exit 0
  fi
  diff_args=(--in-diff "$diff_file")
fi

start=$SECONDS
status=0
summary=()
for entry in "${groups[@]}"; do
  IFS=';' read -r name files filters <<< "$entry"
  filters=${tests:-$filters}
  files=${only:-$files}
  if ((${#chosen[@]})) && [[ " ${chosen[*]} " != *" $name "* ]]; then
    continue
  fi
  common=(--re "$files" "${accepted[@]}" "${diff_args[@]}")
  # cargo-mutants 27 applies no name filter to its "delete field" mutants (there are two, in
  # conn.rs): other groups leave that file out by name.
  if [[ $name != db ]]; then
    common+=(--exclude src/db/conn.rs)
  fi
  if $list; then
    cargo mutants --list "${common[@]}" "${passed[@]}"
    continue
  fi
  count=$(cargo mutants --list "${common[@]}" "${passed[@]}" | wc -l)
  if ((count == 0)); then
    summary+=("$name: no mutants")
    continue
  fi
  bound=()
  if ((budget > 0)); then
    left=$((budget - (SECONDS - start)))
    if ((left <= 0)); then
      summary+=("$name: $count mutants NOT TESTED: the budget of ${budget}s was spent")
      continue
    fi
    bound=(timeout --signal=INT --kill-after=60 "$left")
  fi
  echo "== $name: $count mutants, tests matching: $filters"
  read -ra names <<< "$filters"
  rc=0
  "${bound[@]}" cargo mutants --jobs 1 --no-shuffle --output "$out_root/$name" \
    "${common[@]}" "${passed[@]}" -- "${targets[@]}" -- "${names[@]}" || rc=$?
  outcome="$out_root/$name/mutants.out"
  counts=""
  for kind in caught missed timeout unviable; do
    counts+=" $kind $(wc -l < "$outcome/$kind.txt" 2>/dev/null || echo 0)"
  done
  missed=$(unaccepted "$outcome/missed.txt")
  case $rc in
    0 | 2 | 3) summary+=("$name: $count mutants:$counts") ;;
    124) summary+=("$name: $count mutants:$counts, the rest NOT TESTED: the budget was spent") ;;
    *) summary+=("$name: cargo mutants failed ($rc), see $outcome/debug.log"); status=1 ;;
  esac
  if [[ -n $missed ]]; then
    summary+=("  missed, and not in .cargo/mutants-accepted.txt:" "  ${missed//$'\n'/$'\n'  }")
    status=1
  fi
done

if ! $list; then
  echo "== mutants, $((SECONDS - start))s"
  printf '%s\n' "${summary[@]}"
fi
exit "$status"
