#!/bin/bash
# RUSTC_WRAPPER for the smoltcp fuzz target: SanitizerCoverage only in smoltcp (the stack
# under test), tcpcheck-model (the oracle) and the target itself. libFuzzer scans every
# coverage counter after each run; without counters in the harness, proptest, regex and the
# other dependencies, that scan (most of its CPU under perf) shrinks. The oracle is unchanged.
# Usage (from fuzz/): RUSTC_WRAPPER=$PWD/coverage-focus.sh cargo fuzz run --sanitizer none smoltcp
rustc="$1"
shift
crate=""
prev=""
for a in "$@"; do
    if [ "$prev" = "--crate-name" ]; then crate="$a"; fi
    prev="$a"
done
case "$crate" in
    smoltcp | tcpcheck_model) exec "$rustc" "$@" ;;
esac
args=()
for a in "$@"; do
    [ "$a" = "-Cpasses=sancov-module" ] || args+=("$a")
done
exec "$rustc" "${args[@]}"
