#!/bin/sh
# The model bench (model/benches/model.rs) of this tree against an older revision, in one
# run: the old revision is checked out in a temporary worktree, and the two are benched in
# turn, ROUNDS times each (a shared machine's load comes and goes), sharing one target
# directory so both use the same dependencies. Prints, per profile, the best of the
# rounds' mean time per connection on each side and new/old: below 1 is faster.
#
# Usage: bench/compare-model.sh [OLD_REV] [ROUNDS]   (defaults: main, 3)
set -eu
old_rev=${1:-main}
rounds=${2:-3}
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
args="--noplot --warm-up-time 2 --measurement-time 5"

# The mean of a saved baseline, in ns: criterion's estimates.json, "mean" → "point_estimate".
mean_ns() {
    grep -o '"mean":{"confidence_interval":{[^}]*},"point_estimate":[0-9.e+-]*' "$1" |
        sed 's/.*://'
}

# Both trees build the bench to the same file (the shared target directory gives them one
# name), and cargo judges freshness by the mtimes of the building tree's own sources: the
# tree built second can look fresh and reuse the other's binary, and the run would compare
# one revision with itself. So each side is built once, with its sources touched so cargo
# rebuilds, and its binary copied away; the rounds then run the two copies.
build() {
    find "$1/model/src" "$1/model/benches" -name '*.rs' -exec touch {} +
    (cd "$1" && cargo bench -q -p tcpcheck-model --bench model --no-run --message-format=json) |
        grep -o '"executable":"[^"]*"' | sed 's/.*:"//; s/"$//' | tail -n 1
}
cp "$(build "$tmp/old")" "$tmp/old.bin"
cp "$(build "$repo")" "$tmp/new.bin"
if cmp -s "$tmp/old.bin" "$tmp/new.bin"; then
    echo "note: the two bench binaries are identical (no model change between the trees?)" >&2
fi
r=1
while [ "$r" -le "$rounds" ]; do
    (cd "$tmp/old" && "$tmp/old.bin" --bench --save-baseline "old$r" $args) >/dev/null
    (cd "$repo" && "$tmp/new.bin" --bench --save-baseline "new$r" $args) >/dev/null
    r=$((r + 1))
done
for profile in rfc9293 linux; do
    dir=$(find "$CRITERION_HOME" -type d -name old1 -path "*$profile*" | head -n 1)
    dir=${dir%/old1}
    old_ns=$(for b in "$dir"/old*/estimates.json; do mean_ns "$b"; done | sort -g | head -n 1)
    new_ns=$(for b in "$dir"/new*/estimates.json; do mean_ns "$b"; done | sort -g | head -n 1)
    awk -v p="$profile" -v o="$old_ns" -v n="$new_ns" -v r="$old_rev" -v k="$rounds" 'BEGIN {
        printf "model/%s (best of %d): %s %.2f us, this tree %.2f us per connection: new/old = %.3f\n",
            p, k, r, o / 1000, n / 1000, n / o
    }'
done
