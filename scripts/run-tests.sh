#!/usr/bin/env bash
# Runs the suite on SQLite, then again on PostgreSQL whenever one answers.
# REQUIRE_POSTGRES=1 turns a missing PostgreSQL into a failure (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

echo "== tests on SQLite"
TEST_DATABASE_URL=sqlite "$BIN/pytest" -q -p no:cacheprovider "$@"

if "$BIN/python" - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
then
  echo "== tests on PostgreSQL ($PG_URL)"
  TEST_DATABASE_URL="$PG_URL" "$BIN/pytest" -q -p no:cacheprovider "$@"
elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at $PG_URL" >&2
  exit 1
else
  echo "== PostgreSQL does not answer at $PG_URL: skipped (set REQUIRE_POSTGRES=1 to require it)"
fi
