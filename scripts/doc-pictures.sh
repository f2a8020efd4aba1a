#!/usr/bin/env bash
# Regenerates the pictures of the scenario pages: docs/pictures/NAME/ holds the space-time
# diagram and the event-time diagrams of `streamlab run scenarios/NAME.toml --out DIR`.
# tests/it/doc_pictures.rs fails when one is not current: run this script, then commit.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf docs/pictures
for f in scenarios/*.toml; do
  n=$(basename "$f" .toml)
  # exit 1 (the job failed, e.g. jobmanager_no_ha) still writes the report
  target/release/streamlab run "$f" --out "$tmp/$n" -q > /dev/null 2> "$tmp/err" \
    || [ -e "$tmp/$n/report.html" ] || { cat "$tmp/err"; exit 1; }
  mkdir -p "docs/pictures/$n"
  cp "$tmp/$n/space_time.png" "docs/pictures/$n/"
  for e in "$tmp/$n"/event_time_*.png; do
    [ -e "$e" ] && cp "$e" "docs/pictures/$n/"
  done
done
echo "docs/pictures: $(ls docs/pictures | wc -l) scenarios, $(du -sh docs/pictures | cut -f1)"
