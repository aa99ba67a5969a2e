#!/usr/bin/env bash
# Fuzz the API with schemathesis from its own OpenAPI document, against a `make run`-like
# instance (SQLite, the demo, gunicorn with config/gunicorn.conf.py) on a loopback port.
# Usage: scripts/fuzz.sh [PORT] [MAX_EXAMPLES]   (see the README's "Hostile input" section)
# FUZZ_POSTGRES=postgresql://postgres@127.0.0.1:5432 runs it on a fresh PostgreSQL database there;
# FUZZ_AS="EMAIL ..." runs only those demo roles ("-" for anonymous).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-18310}"
EXAMPLES="${2:-25}"
WORK="$(mktemp -d)"
export DATABASE_URL="sqlite:///$WORK/fuzz.sqlite" FLASK_APP=wsgi:app LOG_LEVEL=ERROR ACCESS_LOG=/dev/null
DROP=()
if [ -n "${FUZZ_POSTGRES:-}" ]; then
  NAME="fuzz_$$"
  psql "$FUZZ_POSTGRES/postgres" -qc "CREATE DATABASE $NAME"
  export DATABASE_URL="$FUZZ_POSTGRES/$NAME"
  DROP=(psql "$FUZZ_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)")
fi
# The fuzzer sends thousands of requests from one address: limits would answer 429 to most.
export TOKEN_RATE_LIMIT="1000000 per minute" REGISTER_RATE_LIMIT="1000000 per minute"
.venv/bin/flask db upgrade >/dev/null
.venv/bin/flask reference load >/dev/null
.venv/bin/flask demo load >/dev/null
PORT="$PORT" .venv/bin/gunicorn -c config/gunicorn.conf.py wsgi:app &
SERVER=$!
trap 'kill $SERVER; wait $SERVER; rm -rf "$WORK"; [ ${#DROP[@]} -eq 0 ] || "${DROP[@]}"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
token() {
  curl -sf "http://127.0.0.1:$PORT/api/v1/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"silk-road-demo\"}" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
status=0
for who in ${FUZZ_AS:-- buyer@demo.example hangzhou-tea@demo.example broker@demo.example operator@demo.example}; do
  [ "$who" = "-" ] && who=""
  header=()
  [ -n "$who" ] && header=(-H "Authorization: Bearer $(token "$who")")
  echo "== schemathesis as ${who:-anonymous}"
  .venv/bin/schemathesis --config-file config/schemathesis.toml run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --phases examples,fuzzing,stateful --checks all -n "$EXAMPLES" --seed 16 \
    --exclude-path /api/v1/auth/tokens/current "${header[@]}" || status=1
done
exit $status
