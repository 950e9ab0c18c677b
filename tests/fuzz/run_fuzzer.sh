#!/bin/sh
# run_fuzzer.sh BINARY CORPUS [SECONDS]: a short libFuzzer run on a copy of the committed corpus.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$2/." "$work/"
exec "$1" -max_total_time="${3:-30}" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 "$work"
