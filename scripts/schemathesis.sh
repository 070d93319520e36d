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
# a merchant and an issuer key made with `tessera admin create-key`, and
# two people signed up through the API (scripts/schemathesis_hooks.py picks
# the credential each operation needs and keeps them alive for the whole
# run). Reports go to target/schemathesis/.
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
# Every generated request comes from 127.0.0.1: lift the per-address budget
# so that sign-up, sign-in and SMS codes are exercised, not mostly refused.
TESSERA_LIMITS__PUBLIC_PER_ADDRESS_PER_MINUTE=1000000 \
  RUST_LOG=warn "$tessera" serve --listen 127.0.0.1:0 --data-dir "$data" \
  >"$work/serve.out" 2>"$out/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
base=""
for _ in $(seq 1 150); do
  base=$(sed -n 's/^tessera listening on //p' "$work/serve.out" 2>/dev/null || true)
  if [ -n "$base" ] || ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "tessera serve did not start:" >&2
  tail -n 20 "$out/serve.log" >&2
  exit 1
fi

# Each key is made with --json: {"id", "key", ...}.
key() {
  local role=$1
  shift
  "$tessera" admin create-key --role "$role" --label schemathesis --data-dir "$data" --json "$@"
}
field() { "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
operator=$(key operator)
# Merchant and issuer keys act only for their owners: a merchant id, and
# an issuer code of the BIN table.
merchant=$(key merchant --merchant SCHEMATHESIS)
issuer=$(key issuer --issuer CCB)
TESSERA_OPERATOR_KEY=$(field key <<<"$operator")
TESSERA_MERCHANT_KEY=$(field key <<<"$merchant")
TESSERA_ISSUER_KEY=$(field key <<<"$issuer")
# The keys above must outlive the run: a revocation Schemathesis sends for
# one of them revokes this spare key instead (scripts/schemathesis_hooks.py).
TESSERA_KEEP_KEY_IDS="$(field id <<<"$operator"),$(field id <<<"$merchant"),$(field id <<<"$issuer")"
TESSERA_SPARE_KEY_ID=$(key support | field id)
# Two people, signed up (with the code the sandbox phone received) and
# signed in through the API itself: the first makes every call; sign-outs
# end the second's session, so that the first's lasts the whole run.
sign_up() {
  "$venv/bin/python" - "$base" "$TESSERA_OPERATOR_KEY" "$1" "$2" <<'PY'
import json, re, sys, urllib.request
base, operator_key, phone, id_number = sys.argv[1:5]
def call(path, body=None, key=None):
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = "Bearer " + key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.load(response)
account = {"phone": phone, "password": "schemathesis-1234"}
call("/v1/sms-codes", {"phone": phone, "purpose": "sign_up"})
text = call("/v1/sandbox/sms?phone=" + phone, key=operator_key)["data"][0]["body"]
code = re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)
call("/v1/users", dict(account, real_name="张三", id_number=id_number, sms_code=code))
print(call("/v1/sessions", account)["token"])
PY
}
TESSERA_USER_TOKEN=$(sign_up 13800138000 11010519491231002X)
TESSERA_SPARE_USER_TOKEN=$(sign_up 13800138001 110105199003070017)
export TESSERA_KEEP_KEY_IDS TESSERA_SPARE_KEY_ID TESSERA_SPARE_USER_TOKEN
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
