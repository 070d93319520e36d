#!/usr/bin/env bash
# The browser tests of the web wallet and the support console (web/tests):
# Debian's Chromium driven by playwright-core under Node's own test runner,
# against `tessera demo` on a free loopback port with a fresh data
# directory. Installs what a fresh machine lacks (the chromium package, a
# Chinese font, web/tests' npm packages); downloads no browser of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Chinese text needs a font that has it, or the screenshots show boxes.
if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)

tessera="${CARGO_TARGET_DIR:-target}/debug/tessera"
cargo build -q -p tessera-cli

work=$(mktemp -d)
RUST_LOG=warn "$tessera" demo --listen 127.0.0.1:0 --data-dir "$work/data" \
  >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
base=""
for _ in $(seq 1 150); do
  # The key lines come after the address; wait for the last of them.
  if grep -q '^  console ' "$work/demo.out" 2>/dev/null; then
    base=$(sed -n 's/^tessera demo listening on //p' "$work/demo.out")
    break
  fi
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "tessera demo did not start:"
  tail -n 20 "$work/demo.err"
  exit 1
fi
field() { sed -n "s/^  $1 *//p" "$work/demo.out" | head -n 1; }
user=$(field 'demo user')
TESSERA_BASE="$base" \
TESSERA_SUPPORT_KEY=$(field 'support key') \
TESSERA_OPERATOR_KEY=$(field 'operator key') \
TESSERA_MERCHANT_KEY=$(field 'merchant key' | cut -d' ' -f1) \
TESSERA_DEMO_PHONE=$(sed -n 's/.*phone \([0-9]*\),.*/\1/p' <<<"$user") \
TESSERA_DEMO_PASSWORD=$(sed -n 's/.*password \([^,]*\),.*/\1/p' <<<"$user") \
TESSERA_DEMO_NAME=$(sed -n 's/.*real name \([^ ]*\).*/\1/p' <<<"$user") \
TESSERA_FAILING_CARD=$(awk '$1 == "not_participating" { print $2 }' "$work/demo.out") \
TESSERA_APPROVE_CARD=$(awk '$1 == "approve" && $2 != "(credit)" { print $2 }' "$work/demo.out") \
TESSERA_OTP_CARD=$(awk '$1 == "otp" { print $2 }' "$work/demo.out") \
TESSERA_DECLINED_CARD=$(awk '$1 == "do_not_honor" { print $2 }' "$work/demo.out") \
TESSERA_CREDIT_CARD=$(awk '$1 == "approve" && $2 == "(credit)" { print $3 }' "$work/demo.out") \
  node --test --test-reporter=spec web/tests/
