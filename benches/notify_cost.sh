#!/usr/bin/env bash
# What NOTIFY costs the check-in write path (issue: "keep it off the check-in write path, or show by
# measurement that it costs less than 20% there").
#
# Builds a scratch database with the real schema (eventos migrate), 400k attendees, then runs pgbench:
# one check-in INSERT per transaction into event_checkins, at 1, 8 and 32 writers, in three variants:
#   shipped    the schema as migrated: no NOTIFY on event_checkins (realtime_flush() batches instead)
#   per-row    plus an AFTER INSERT FOR EACH ROW trigger calling pg_notify with the row's ids
#   flusher    shipped, with realtime_flush() running 4 times a second beside the writers
# Usage: benches/notify_cost.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
ADMIN_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=eventos_bench_notify
BENCH_URL=${ADMIN_URL%/*}/$DB
export PGOPTIONS="-c client_min_messages=warning"
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -n 1)

psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
cargo run --release --quiet -- migrate --database-url "$BENCH_URL" >/dev/null
psql "$BENCH_URL" -q <<'SQL'
INSERT INTO events (slug, name, starts_at, ends_at, time_zone)
VALUES ('bench', 'Bench', now() - interval '1 hour', now() + interval '1 day', 'UTC');
INSERT INTO attendees (event_id, first_name, email)
SELECT (SELECT id FROM events), 'A' || g, 'a' || g || '@example.org' FROM generate_series(1, 400000) g;
CREATE TABLE bench_attendees (n bigint PRIMARY KEY, attendee_id uuid NOT NULL, event_id uuid NOT NULL);
INSERT INTO bench_attendees SELECT row_number() OVER (), id, event_id FROM attendees;
CREATE SEQUENCE bench_seq;
CREATE FUNCTION bench_per_row_notify() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  PERFORM pg_notify('eventos_changes', jsonb_build_object('v', 1, 'table', TG_TABLE_NAME, 'op', TG_OP,
                    'id', NEW.id, 'event_id', NEW.event_id)::text);
  RETURN NULL;
END $$;
VACUUM ANALYZE;
SQL

cat > /tmp/eventos_checkin.sql <<'SQL'
WITH k AS (SELECT nextval('bench_seq') AS n)
INSERT INTO event_checkins (event_id, attendee_id, gate, check_in_method)
SELECT b.event_id, b.attendee_id, 'Gate ' || (b.n % 8), 'qr_code' FROM bench_attendees b JOIN k USING (n);
SQL

reset() {
  psql "$BENCH_URL" -v ON_ERROR_STOP=1 -qc "TRUNCATE event_checkins CASCADE" -c "SELECT setval('bench_seq', 1, false)" \
       -c "UPDATE realtime_watermarks SET flushed_below = pg_current_xact_id()" -c "CHECKPOINT" >/dev/null
}

run() { # variant clients
  local tps
  tps=$("$PGBENCH" -n -M prepared -f /tmp/eventos_checkin.sql -c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" \
        -T "$SECONDS_PER_RUN" "$BENCH_URL" 2>/dev/null | awk '/^tps = /{printf "%d", $3}')
  printf '%-8s %3s writers  %6s tps\n' "$1" "$2" "$tps"
}

echo "pgbench $("$PGBENCH" --version | awk '{print $3}'), $(nproc) cores, ${SECONDS_PER_RUN}s per run"
for clients in 1 8 32; do
  reset; run shipped "$clients"
  psql "$BENCH_URL" -qc "CREATE TRIGGER bench_notify AFTER INSERT ON event_checkins FOR EACH ROW EXECUTE FUNCTION bench_per_row_notify()"
  reset; run per-row "$clients"
  psql "$BENCH_URL" -qc "DROP TRIGGER bench_notify ON event_checkins"
  reset
  ( end=$((SECONDS + SECONDS_PER_RUN + 2)); while [ $SECONDS -lt $end ]; do
      psql "$BENCH_URL" -Atqc "SELECT realtime_flush()" >/dev/null; sleep 0.25; done ) &
  flusher=$!
  run flusher "$clients"
  wait "$flusher"
done
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
