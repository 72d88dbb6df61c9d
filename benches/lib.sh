# Sourced by the bench scripts (db.sh, sqlite.sh, mysql.sh, lines.sh): where the clone and
# cargo's builds are, how a bench says what it does and stops, and the binary adminsh ships.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
# Where cargo builds: $CARGO_TARGET_DIR when set (relative to the clone, as cargo reads it).
TARGET=$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")
BENCH_NAME="benches/$(basename "${BASH_SOURCE[1]}")"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }

# Sets ADMINSH to the binary `cargo dist` builds (for the host named explicitly in
# .cargo/config.toml, so under $TARGET/<host>/release), unless ADMINSH names one built already.
# Leaves the working directory at the clone's root.
shipped_binary() {
    cd "$ROOT"
    if [[ -z "${ADMINSH:-}" ]]; then
        log "cargo dist"
        cargo dist
        ADMINSH="$TARGET/$(rustc -vV | sed -n 's/^host: //p')/release/adminsh"
    fi
}
