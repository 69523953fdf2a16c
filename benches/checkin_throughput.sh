#!/usr/bin/env bash
# Gate throughput through the SQL API: check_in_by_code() (ticket lookup, rules, refusal logging) against
# the bare INSERT it ends in, at 1, 8 and 32 concurrent scanners, plus a run of duplicate scans (every
# scan refused and logged). Scratch database with the real schema and 400k attendees with tickets; the
# API runs log in as an operator (a volunteer on the event's team), the bare INSERT as the administrator.
# Usage: benches/checkin_throughput.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
ADMIN_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=eventos_bench_checkin
BENCH_URL=${ADMIN_URL%/*}/$DB
export PGOPTIONS="-c client_min_messages=warning"
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -n 1)

psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
cargo build --release --quiet
target/release/eventos migrate --database-url "$BENCH_URL" >/dev/null
psql "$BENCH_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
SET session_replication_role = replica;  -- bulk load, as the seed does
INSERT INTO events (slug, name, starts_at, ends_at, time_zone)
VALUES ('bench', 'Bench', now() - interval '1 hour', now() + interval '1 day', 'UTC');
INSERT INTO ticket_types (event_id, name) SELECT id, 'General' FROM events;
INSERT INTO attendees (event_id, first_name, email)
SELECT (SELECT id FROM events), 'A' || g, 'a' || g || '@example.org' FROM generate_series(1, 400000) g;
INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
SELECT a.event_id, a.id, (SELECT id FROM ticket_types), 'T' || lpad(row_number() OVER ()::text, 7, '0') FROM attendees a;
SET session_replication_role = origin;
CREATE TABLE bench_attendees (n bigint PRIMARY KEY, attendee_id uuid NOT NULL, event_id uuid NOT NULL, code text NOT NULL);
INSERT INTO bench_attendees SELECT row_number() OVER (ORDER BY t.code), t.attendee_id, t.event_id, t.code FROM tickets t;
CREATE SEQUENCE bench_seq;
-- The scanners log in as an operator (a volunteer on the team), as real gates do, so row security and
-- the permission check are part of what is measured.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventos_bench_gate') THEN
    CREATE ROLE eventos_bench_gate LOGIN IN ROLE eventos_operator;
  END IF;
END $$;
INSERT INTO profiles (email, full_name, login_role) VALUES ('gate@example.org', 'Gate Scanner', 'eventos_bench_gate');
INSERT INTO event_teams (event_id, member_id, role) SELECT e.id, p.id, 'volunteer' FROM events e, profiles p;
GRANT SELECT ON bench_attendees TO eventos_bench_gate;
GRANT USAGE ON SEQUENCE bench_seq TO eventos_bench_gate;
VACUUM ANALYZE;
SQL
GATE_URL=$(echo "$BENCH_URL" | sed 's#//[^@/]*@#//eventos_bench_gate@#')

cat > /tmp/eventos_api.sql <<'SQL'
WITH k AS (SELECT nextval('bench_seq') AS n)
SELECT r.accepted FROM bench_attendees b JOIN k USING (n), check_in_by_code(b.event_id, b.code, 'Gate ' || (b.n % 8)) r;
SQL
cat > /tmp/eventos_raw.sql <<'SQL'
WITH k AS (SELECT nextval('bench_seq') AS n)
INSERT INTO event_checkins (event_id, attendee_id, gate, check_in_method)
SELECT b.event_id, b.attendee_id, 'Gate ' || (b.n % 8), 'qr_code' FROM bench_attendees b JOIN k USING (n);
SQL
cat > /tmp/eventos_dup.sql <<'SQL'
\set n random(1, 1000)
SELECT r.accepted FROM bench_attendees b, check_in_by_code(b.event_id, b.code, 'Gate 1') r WHERE b.n = :n;
SQL

reset() {
  psql "$BENCH_URL" -v ON_ERROR_STOP=1 -qc "TRUNCATE event_checkins, refused_scans" \
       -c "SELECT setval('bench_seq', 1, false)" -c "CHECKPOINT" >/dev/null
}
run() { # label script clients [url]
  local tps
  tps=$("$PGBENCH" -n -M prepared -f "$2" -c "$3" -j "$(( $3 < 2 ? 1 : 2 ))" -T "$SECONDS_PER_RUN" "${4:-$BENCH_URL}" 2>/dev/null \
        | awk '/^tps = /{printf "%d", $3}')
  printf '%-22s %3s scanners  %6s scans/s\n' "$1" "$3" "$tps"
}

echo "pgbench $("$PGBENCH" --version | awk '{print $3}'), $(nproc) cores, ${SECONDS_PER_RUN}s per run"
for clients in ${CLIENTS:-1 8 32}; do
  reset; run "bare INSERT" /tmp/eventos_raw.sql "$clients"
  reset; run "check_in_by_code" /tmp/eventos_api.sql "$clients" "$GATE_URL"
done
# The same at 8 scanners with a worker announcing batches and keeping the totals (every 10 ms): what the
# flusher costs the gates.
reset
target/release/eventos worker --database-url "$BENCH_URL" >/dev/null 2>&1 &
WORKER=$!
sleep 1
run "check_in_by_code+worker" /tmp/eventos_api.sql 8 "$GATE_URL"
kill "$WORKER"; wait "$WORKER" 2>/dev/null || true
# Duplicates: admit the first 1000, then scan them again and again (all refused, all logged).
reset
psql "$BENCH_URL" -qc "SELECT count(*) FROM bench_attendees b, check_in_by_code(b.event_id, b.code, 'Gate 0') r WHERE b.n <= 1000" >/dev/null
run "duplicate (refused)" /tmp/eventos_dup.sql 8 "$GATE_URL"
[ -n "${KEEP_BENCH_DB:-}" ] || psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP ROLE IF EXISTS eventos_bench_gate"
