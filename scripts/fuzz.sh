#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for FUZZ_SECONDS each, one after another,
# and prints a table of executions and findings per target. `make fuzz` / `make fuzz-smoke`.
#
#   scripts/fuzz.sh [TARGET...]
#
# FUZZ_SECONDS     time per target (default 60)
# FUZZ_MIN_EXECS   fail a target that ran fewer executions (default 0; `make fuzz`: 10 million)
# FUZZ_RUNS        also stop a target after this many executions (default: no limit), so a
#                  fast target does not use all of FUZZ_SECONDS once it has run enough
# FUZZ_SANITIZER   none (default) or address; see below
# FUZZ_TARGET_DIR  build directory (default ~/.cache/groundskeeper/fuzz-target)
#
# How this runs on the stable toolchain: libFuzzer's coverage instrumentation
# (`-Cpasses=sancov-module` and the `-Cllvm-args=-sanitizer-coverage-*` flags cargo-fuzz
# passes) is stable, and libfuzzer-sys builds libFuzzer itself from C++ source, so with
# `--sanitizer none` nothing needs nightly. AddressSanitizer (`-Zsanitizer=address`) is a
# nightly flag: FUZZ_SANITIZER=address sets RUSTC_BOOTSTRAP=1 to allow it on stable. The
# default is none because our crates forbid `unsafe` (ASan would only watch dependencies),
# ASan halves the execution rate, and the findings we look for are panics, hangs and
# runaway memory, which libFuzzer catches without it.
#
# Builds go to their own target directory: the instrumentation flags differ from the main
# build's, and sharing CARGO_TARGET_DIR would rebuild everything on both sides.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
min_execs=${FUZZ_MIN_EXECS:-0}
runs=()
if [ -n "${FUZZ_RUNS:-}" ]; then
    runs=(-runs="$FUZZ_RUNS")
fi
sanitizer=${FUZZ_SANITIZER:-none}
target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/groundskeeper/fuzz-target}
export CARGO_TARGET_DIR=$target_dir
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

# CI installs what it needs itself: cargo-fuzz from crates.io when it is not there yet.
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

cd fuzz
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# The machine is shared: fuzz in the background of whoever else is building. One build of
# every target (they share their dependencies), then each runs from it.
nice -n 10 cargo fuzz build -s "$sanitizer" --target-dir "$target_dir" 2>&1 |
    { grep -v '^ *Compiling ' || true; }

python3 seed.py corpus >/dev/null
mkdir -p logs
failed=0
printf '%-30s %12s %10s %8s  %s\n' target executions "exec/s" corpus result
for target in "${targets[@]}"; do
    log=logs/$target.log
    status=0
    nice -n 10 cargo fuzz run -s "$sanitizer" --target-dir "$target_dir" "$target" \
        "corpus/$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${runs[@]}" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(find "corpus/$target" -type f | wc -l)
    result=ok
    if [ "$status" -ne 0 ]; then
        result="FAILED (exit $status; see fuzz/$log and fuzz/artifacts/$target/)"
        failed=1
    elif [ "${execs:-0}" -lt "$min_execs" ]; then
        result="too few executions (< $min_execs): raise FUZZ_SECONDS"
        failed=1
    fi
    printf '%-30s %12s %10s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
done
exit "$failed"
