#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), seeded from the
# project's fixtures, and prints each target's executions and coverage.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on the stable toolchain it
# runs with RUSTC_BOOTSTRAP=1. A crash stops the run: fix it, then copy the
# input from fuzz/artifacts/TARGET/ into fuzz/regressions/TARGET/ so the
# test suite replays it.
#
#   fuzz/run.sh 600            # ten minutes each
#   fuzz/run.sh 30 dns tls     # some targets only
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v egresswatch-fuzz)
fi
export RUSTC_BOOTSTRAP=1
# Seed corpora: the fixtures for whole captures, their payloads otherwise
# (written by the smoke test's helper below), the shipped rules for profiles.
seed() {
    local t="$1" dir="corpus/$1"
    mkdir -p "$dir"
    case "$t" in
        capture|pipeline) cp ../fixtures/*.pcap ../fixtures/*.pcapng "$dir"/ 2>/dev/null || true ;;
        profile) cp ../rules/*.toml "$dir"/ ;;
        *) [ -n "$(ls -A "$dir")" ] || cargo run -q --manifest-path ../Cargo.toml --bin egresswatch-fixtures -- payloads ../fixtures "$dir" ;;
    esac
}
for t in "${targets[@]}"; do
    seed "$t"
    echo "== $t (${secs}s)"
    cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
        | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE|==[0-9]+== ERROR|SUMMARY)" || true
    if [ -n "$(ls -A "artifacts/$t" 2>/dev/null)" ]; then
        echo "$t: crash inputs in fuzz/artifacts/$t" >&2
        exit 1
    fi
done
