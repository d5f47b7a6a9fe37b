#!/usr/bin/env bash
# Renders a report.html in headless Chromium (Debian's `chromium` package:
# apt-get install chromium) and fails if the page logs any console message or error.
# Also writes a screenshot next to the report (report.png) to look at.
# Usage: scripts/check-report-html.sh [outputs/demo/2021/report.html]
set -euo pipefail
page=$(realpath "${1:-outputs/demo/2021/report.html}")
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 2; }
profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --window-size=1280,4000 --screenshot="${page%.html}.png" "file://$page" 2>"$log" >/dev/null || true
if grep -E "CONSOLE|Uncaught" "$log"; then
  echo "FAIL: $page logged console messages (above)" >&2
  exit 1
fi
[ -s "${page%.html}.png" ] || { echo "FAIL: no screenshot was taken" >&2; cat "$log" >&2; exit 1; }
echo "OK: $page rendered in headless Chromium without console messages; screenshot ${page%.html}.png"
