#!/usr/bin/env bash
# The API against its own OpenAPI document: Schemathesis (from PyPI, in a
# virtualenv under target/) generates requests for every operation of a
# running `tessera serve`'s /openapi.json, valid and invalid, and fails on
# any 5xx and on any response whose status code, content type or body the
# document does not describe.
#
#   scripts/schemathesis.sh [SECONDS]
#
# SECONDS is Schemathesis' time budget (150 by default). Uses the debug
# binary (building it when missing), a fresh data directory, an operator,
# a merchant and an issuer key made with `tessera admin create-key`, and a
# user signed up through the API (scripts/schemathesis_hooks.py picks the
# credential each operation needs). Reports go to target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${1:-150}"
version="4.32.5"
venv=target/schemathesis-venv
out=target/schemathesis
mkdir -p target "$out"

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==${version}"
fi

tessera="${CARGO_TARGET_DIR:-target}/debug/tessera"
[ -x "$tessera" ] || cargo build -q -p tessera-cli

work=$(mktemp -d)
data="$work/data"
RUST_LOG=warn "$tessera" serve --listen 127.0.0.1:0 --data-dir "$data" \
  >"$work/serve.out" 2>"$out/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
base=""
for _ in $(seq 1 150); do
  base=$(sed -n 's/^tessera listening on //p' "$work/serve.out")
  if [ -n "$base" ] || ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "tessera serve did not start:" >&2
  tail -n 20 "$out/serve.log" >&2
  exit 1
fi

key() { "$tessera" admin create-key --role "$1" --label schemathesis --data-dir "$data"; }
TESSERA_OPERATOR_KEY=$(key operator)
TESSERA_MERCHANT_KEY=$(key merchant)
TESSERA_ISSUER_KEY=$(key issuer)
# A user, signed up and signed in through the API itself.
TESSERA_USER_TOKEN=$("$venv/bin/python" - "$base" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)
account = {"phone": "13800138000", "password": "schemathesis-1234"}
post("/v1/users", dict(account, real_name="张三", id_number="11010519491231002X"))
print(post("/v1/sessions", account)["token"])
PY
)
export TESSERA_OPERATOR_KEY TESSERA_MERCHANT_KEY TESSERA_ISSUER_KEY TESSERA_USER_TOKEN

set +e
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts "$venv/bin/st" run "$base/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$budget" --workers 1 --seed 1 --request-timeout 10 \
  --suppress-health-check all --output-sanitize true --generation-database none \
  --report junit --report-dir "$out"
status=$?
set -e
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
if grep -q "panicked" "$out/serve.log"; then
  echo "the server panicked (target/schemathesis/serve.log):" >&2
  grep -m 5 "panicked" "$out/serve.log" >&2
  status=1
fi
exit "$status"
