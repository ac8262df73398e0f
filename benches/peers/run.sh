#!/usr/bin/env sh
# tapegrad beside echidna and candle, all in one run, then one table of
# criterion medians and ratios to the hand-written Rust of each workload.
# Every peer's gradients are checked against tapegrad's before timing.
#
#   sh benches/peers/run.sh [extra criterion args]
#
# Default times: 1 s warm-up, 5 s measurement per bench.
set -eu
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if [ "$#" -eq 0 ]; then set -- --warm-up-time 1 --measurement-time 5; fi
cargo bench --bench peers -- "$@"
cargo run --quiet --release --bin table -- "$CARGO_TARGET_DIR/criterion"
