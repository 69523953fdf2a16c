-- Realtime hints for the console over LISTEN/NOTIFY on channel 'eventos_changes'.
--
-- Payloads are small versioned JSON carrying identifiers only (NOTIFY bypasses RLS):
--   row:   {"v":1,"table":"event_expenses","op":"UPDATE","id":"<uuid>","event_id":"<uuid>"}
--   bulk:  {"v":1,"table":"attendees","op":"INSERT","event_id":"<uuid>","count":5000}   (reload that table)
--   batch: {"v":1,"table":"event_checkins","op":"BATCH","event_id":"<uuid>",
--           "from_xid":"1234","to_xid":"1300","count":57}  (rows with from_xid <= change_xid < to_xid)
--
-- A transaction that NOTIFYs takes a cluster-wide lock through its commit (DESIGN.md), so the check-in
-- hot path (event_checkins, refused_scans) never NOTIFYs: each row records the transaction that wrote it
-- (change_xid) and realtime_flush(), run by one worker a few times a second, announces every finished
-- transaction's rows in one NOTIFY per event. The other desks' tables change at human speed and NOTIFY
-- from a statement-level trigger: one hint per row, or one bulk hint per event for a large statement.

-- Above this many rows in one statement, one bulk hint per event replaces the per-row hints.
CREATE FUNCTION realtime_row_hint_limit() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT 20 $$;

-- TG_ARGV[0]: the column holding the event id ('event_id', or 'id' for events itself).
CREATE FUNCTION realtime_notify_statement() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  event_col text := TG_ARGV[0];
  rows_sql text;
  total bigint;
  r record;
BEGIN
  rows_sql := CASE TG_OP
    WHEN 'INSERT' THEN format('SELECT id, %1$I AS event_id FROM new_rows', event_col)
    WHEN 'DELETE' THEN format('SELECT id, %1$I AS event_id FROM old_rows', event_col)
    ELSE format('SELECT id, %1$I AS event_id FROM new_rows UNION SELECT id, %1$I FROM old_rows', event_col)
  END;
  EXECUTE format('SELECT count(*) FROM (%s) AS changed', rows_sql) INTO total;
  IF total = 0 THEN
    RETURN NULL;
  END IF;
  IF total <= realtime_row_hint_limit() THEN
    FOR r IN EXECUTE rows_sql LOOP
      PERFORM pg_notify('eventos_changes', jsonb_build_object(
        'v', 1, 'table', TG_TABLE_NAME, 'op', TG_OP, 'id', r.id, 'event_id', r.event_id)::text);
    END LOOP;
  ELSE
    FOR r IN EXECUTE format('SELECT event_id, count(*) AS n FROM (%s) AS changed GROUP BY event_id', rows_sql) LOOP
      PERFORM pg_notify('eventos_changes', jsonb_build_object(
        'v', 1, 'table', TG_TABLE_NAME, 'op', TG_OP, 'event_id', r.event_id, 'count', r.n)::text);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, hence three triggers per table.
CREATE FUNCTION realtime_attach(tbl regclass, event_col text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  name text := (SELECT relname FROM pg_class WHERE oid = tbl);
BEGIN
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION realtime_notify_statement(%L)',
                 name || '_realtime_insert', tbl, event_col);
  EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION realtime_notify_statement(%L)',
                 name || '_realtime_update', tbl, event_col);
  EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION realtime_notify_statement(%L)',
                 name || '_realtime_delete', tbl, event_col);
END
$$;

SELECT realtime_attach('events', 'id');
SELECT realtime_attach('attendees', 'event_id');
SELECT realtime_attach('tickets', 'event_id');
SELECT realtime_attach('sessions', 'event_id');
SELECT realtime_attach('session_registrations', 'event_id');
SELECT realtime_attach('event_waitlists', 'event_id');
SELECT realtime_attach('event_announcements', 'event_id');
SELECT realtime_attach('event_expenses', 'event_id');
SELECT realtime_attach('event_teams', 'event_id');

-- The hot path: an UPDATE (a check-out) records its transaction too, so the notifier sees it.
CREATE FUNCTION set_change_xid() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END
$$;
CREATE TRIGGER event_checkins_change_xid BEFORE UPDATE ON event_checkins
  FOR EACH ROW EXECUTE FUNCTION set_change_xid();
CREATE TRIGGER refused_scans_change_xid BEFORE UPDATE ON refused_scans
  FOR EACH ROW EXECUTE FUNCTION set_change_xid();

-- Every change to a stream's table with change_xid < flushed_below has been announced.
CREATE TABLE realtime_watermarks (
  stream        TEXT PRIMARY KEY CHECK (stream IN ('event_checkins', 'refused_scans')),
  flushed_below XID8 NOT NULL,
  flushed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO realtime_watermarks (stream, flushed_below)
VALUES ('event_checkins', pg_current_xact_id()), ('refused_scans', pg_current_xact_id());

-- Announces the changes of every transaction that has finished since the last flush: one NOTIFY per
-- stream and event. Transactions below the snapshot's xmin have all committed or aborted, so a range
-- [flushed_below, xmin) is complete when read and nothing is announced twice or missed. Safe to run from
-- several workers: a stream being flushed elsewhere is skipped. Returns the number of hints sent.
CREATE FUNCTION realtime_flush() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  mark record;
  changed record;
  sent integer := 0;
BEGIN
  FOR mark IN
    SELECT stream, flushed_below FROM realtime_watermarks
     WHERE flushed_below < horizon
     ORDER BY stream
       FOR UPDATE SKIP LOCKED
  LOOP
    FOR changed IN EXECUTE format(
      'SELECT event_id, count(*) AS n FROM %I WHERE change_xid >= $1 AND change_xid < $2 GROUP BY event_id',
      mark.stream) USING mark.flushed_below, horizon
    LOOP
      PERFORM pg_notify('eventos_changes', jsonb_build_object(
        'v', 1, 'table', mark.stream, 'op', 'BATCH', 'event_id', changed.event_id,
        'from_xid', mark.flushed_below::text, 'to_xid', horizon::text, 'count', changed.n)::text);
      sent := sent + 1;
    END LOOP;
    UPDATE realtime_watermarks SET flushed_below = horizon, flushed_at = now() WHERE stream = mark.stream;
  END LOOP;
  RETURN sent;
END
$$;
