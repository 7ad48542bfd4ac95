#!/usr/bin/env bash
# The bare-SQL ceiling of an in-database event transport (BENCHMARKS.md, Events): pgbench writing what any such
# transport must per event, nothing else running. 8 clients share a producer script (50 outbox rows per
# transaction) and a consumer script (50 rows taken off the outbox, their processed ids and one effect row each, in
# one statement). events/s = each script's transactions/s x 50.
# Run: INOPSIO_TEST_PG_DURABLE=1 SCRIPTS_TEST_COMMAND="bash Benchmarks/events/ceiling/run.sh" scripts/test
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
URL="$INOPSIO_TEST_DATABASE_URL"
psql "$URL" -q -f "$DIR/setup.sql"
# A backlog first, so the consumers never wait on the producers.
for _ in $(seq 1 40); do psql "$URL" -q -f "$DIR/produce.sql"; done
pgbench "$URL" -n -c 8 -j 2 -T 15 -f "$DIR/produce.sql@1" -f "$DIR/consume.sql@1"
