#!/bin/sh
# The model bench (model/benches/model.rs) of this tree against an older revision, in one
# run: the old revision is checked out in a temporary worktree and benched first (criterion
# baseline "old"), then this tree (baseline "new"), sharing one target directory so both
# use the same dependencies. Prints new/old of criterion's mean time per connection for
# each profile: below 1 is faster.
#
# Usage: bench/compare-model.sh [OLD_REV]   (default: main)
set -eu
old_rev=${1:-main}
repo=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
cleanup() {
    git -C "$repo" worktree remove --force "$tmp/old" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach -q "$tmp/old" "$old_rev"
export CARGO_TARGET_DIR="$repo/target"
export CRITERION_HOME="$tmp/criterion"
args="--noplot --warm-up-time 2 --measurement-time 10"
(cd "$tmp/old" && cargo bench -q -p tcpcheck-model --bench model -- --save-baseline old $args)
(cd "$repo" && cargo bench -q -p tcpcheck-model --bench model -- --save-baseline new $args)
for profile in rfc9293 linux; do
    dir=$(find "$CRITERION_HOME" -type d -path "*$profile*" -name old | head -n 1)
    dir=${dir%/old}
    old_ns=$(sed -n 's/.*"mean":{[^}]*"point_estimate":\([0-9.e+-]*\).*/\1/p' "$dir/old/estimates.json")
    new_ns=$(sed -n 's/.*"mean":{[^}]*"point_estimate":\([0-9.e+-]*\).*/\1/p' "$dir/new/estimates.json")
    awk -v p="$profile" -v o="$old_ns" -v n="$new_ns" -v r="$old_rev" 'BEGIN {
        printf "model/%s: %s %.1f us, this tree %.1f us per connection: new/old = %.3f\n",
            p, r, o / 1000, n / 1000, n / o
    }'
done
