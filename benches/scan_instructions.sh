#!/usr/bin/env bash
# Instructions a gate's scan costs the server, counted rather than timed: wall-clock runs on a small
# shared machine move 10-20% from one to the next, instruction counts under callgrind by under 1%.
# A private cluster with the real schema and a 20,000-attendee event; then a single-user backend
# (`postgres --single`) under `valgrind --tool=callgrind` runs one prepared scan N times, each its own
# transaction (synchronous_commit off): the count for N=600 less that for N=100, over 500, is one scan
# without the session's start-up. Prints the bare INSERT (the row from the scanned code, as the
# administrator) and check_in_by_code (as a volunteer of the event's team).
# Needs valgrind and PostgreSQL's server programs. Usage: benches/scan_instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)")
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
# The server refuses to run as root: as root, its programs run as the postgres user.
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
DIR=$(mktemp -d /tmp/eventos-scan-instructions.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
trap 'as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
as_server "$BIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
as_server "$BIN/pg_ctl" -D "$DIR/data" -o "-p 5499 -k $DIR -c listen_addresses=''" -l "$DIR/log" -w start >/dev/null
URL="host=$DIR port=5499 user=postgres dbname=postgres"
cargo build --release --quiet
target/release/eventos migrate --database-url "$URL" >/dev/null
target/release/eventos seed --database-url "$URL" --attendees 20000 --slug bench >/dev/null
psql "$URL" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE bench_outside (n bigint PRIMARY KEY, event_id uuid NOT NULL, code text NOT NULL);
CREATE SEQUENCE bench_next;
GRANT SELECT ON bench_outside TO bench_volunteer;
GRANT USAGE ON SEQUENCE bench_next TO bench_volunteer;
INSERT INTO bench_outside
SELECT row_number() OVER (ORDER BY t.code), a.event_id, t.code
  FROM attendees a JOIN tickets t ON t.attendee_id = a.id AND t.status = 'valid'
  JOIN events e ON e.id = a.event_id AND e.slug = 'bench'
 WHERE a.status = 'registered' AND a.deleted_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM event_checkins c WHERE c.attendee_id = a.id AND c.session_id IS NULL AND c.is_present);
ANALYZE;
SQL
as_server "$BIN/pg_ctl" -D "$DIR/data" -w stop >/dev/null

single() { as_server "$BIN/postgres" --single -D "$DIR/data" postgres; }
# One line per statement (single-user mode without -j).
BARE="PREPARE s AS WITH k AS (SELECT nextval('bench_next') AS n) INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, qr_code_scanned, location) SELECT b.event_id, t.attendee_id, t.id, 'Bench gate ' || (b.n % 8), 'qr_code', b.code, 'Bench gate ' || (b.n % 8) FROM bench_outside b JOIN k USING (n) JOIN tickets t ON t.code = b.code"
API="PREPARE s AS WITH k AS (SELECT nextval('bench_next') AS n) SELECT r.accepted FROM bench_outside b JOIN k USING (n), check_in_by_code(b.event_id, b.code, 'Bench gate ' || (b.n % 8)) r"

# Total instructions of a session that scans N times: $1 the way (bare or api), $2 N.
count() {
  printf '%s\n' \
    "DELETE FROM event_checkins WHERE attendee_id IN (SELECT t.attendee_id FROM tickets t JOIN bench_outside b USING (code))" \
    "DELETE FROM refused_scans" "SELECT setval('bench_next', 1, false)" \
    "VACUUM ANALYZE event_checkins" "VACUUM ANALYZE refused_scans" | single >/dev/null 2>&1
  {
    echo "SET synchronous_commit = off"
    if [ "$1" = api ]; then echo "SET SESSION AUTHORIZATION bench_volunteer"; echo "$API"; else echo "$BARE"; fi
    for _ in $(seq "$2"); do echo "EXECUTE s"; done
  } > "$DIR/in.sql"
  as_server valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" \
    "$BIN/postgres" --single -D "$DIR/data" postgres < "$DIR/in.sql" > "$DIR/out.txt" 2>/dev/null
  if [ "$1" = api ] && [ "$(grep -c 'accepted = "t"' "$DIR/out.txt")" != "$2" ]; then
    echo "not every scan was accepted: the figures would not be the door's common case" >&2; exit 1
  fi
  awk '/^summary:/ {print $2}' "$DIR/cg.out"
}

for way in bare api; do
  few=$(count "$way" 100)
  many=$(count "$way" 600)
  echo "$way: $(( (many - few) / 500 )) instructions a scan"
done
