-- Realtime at any size: check-ins reach consoles in tens of milliseconds whatever else the server is
-- doing, and the check-in totals move with the feed instead of being recounted.
--
-- 1. The flusher no longer waits for the cluster's oldest transaction. It announced only transactions
--    below its snapshot's xmin, so a transaction held open anywhere on the server (another database
--    too) froze every console. Now it announces every transaction that has ended since the last flush:
--    the range [frontier, xmax) of its snapshot minus those still in progress (skip), plus earlier
--    in-progress ones that have ended since (late). Those still open stay pending in the watermark and
--    are announced when they end, exactly once. Batch hints are version 2:
--    {"v":2, "table", "op":"BATCH", "event_id", "from_xid", "to_xid", "skip":[...], "late":[...], "count"}.
-- 2. Rows record the transaction that created them (created_xid) and, for check-ins, the one that checked
--    them out (checkout_xid). Neither changes afterwards, so the flusher applies each ended transaction's effect on the
--    totals once: O(batch), exact, equal to a full recount (checkin_totals_recount() is that recount,
--    used after deletes and compared under concurrency in tests/realtime_totals.rs).
-- 3. The totals live in tables only the flusher writes, so no other transaction's lock can stall it:
--    per event, per gate, per gate and minute, refusals per minute. Registered attendees are kept by a
--    statement trigger on attendees in a table of their own. checkin_summary(event) reads them all for
--    the console in one call.
-- 4. The worker records that it is alive (worker_heartbeat()); a console that sees no worker flushes
--    itself through realtime_flush_for_console() and says what else is missing.

------------------------------------------------------------------------------------------------------
-- Rows remember the transactions behind them.
------------------------------------------------------------------------------------------------------

ALTER TABLE event_checkins ADD COLUMN created_xid XID8, ADD COLUMN checkout_xid XID8;
ALTER TABLE refused_scans ADD COLUMN created_xid XID8;
-- The flusher finds a batch by these; the console's fetch keeps using (event_id, change_xid).
DROP INDEX event_checkins_change_xid_idx;
CREATE INDEX event_checkins_created_xid_idx ON event_checkins (created_xid);
CREATE INDEX event_checkins_checkout_xid_idx ON event_checkins (checkout_xid) WHERE checkout_xid IS NOT NULL;
DROP INDEX refused_scans_change_xid_idx;
CREATE INDEX refused_scans_created_xid_idx ON refused_scans (created_xid);
-- Rows from before this migration (created_xid NULL) are in the totals' starting recount.

ALTER TABLE realtime_watermarks ADD COLUMN pending XID8[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN realtime_watermarks.flushed_below IS
  'the frontier: every transaction below it has been announced, except those in pending';
COMMENT ON COLUMN realtime_watermarks.pending IS
  'transactions below the frontier still open at the last flush: announced when they end';

------------------------------------------------------------------------------------------------------
-- The totals.
------------------------------------------------------------------------------------------------------

-- Entries at the event's doors (session_id NULL): all of them, the attendees' first ones, those present.
CREATE TABLE checkin_totals (
  event_id   UUID PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
  entries    BIGINT NOT NULL DEFAULT 0 CHECK (entries >= 0),
  checked_in BIGINT NOT NULL DEFAULT 0 CHECK (checked_in >= 0),
  -- No CHECK: a batch of check-outs arrives as a negative delta, and a CHECK would test the upsert's
  -- candidate row before it meets the existing one. tests/realtime_totals.rs compares with a recount.
  present    BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE checkin_gate_totals (
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  gate     TEXT NOT NULL,
  entries  BIGINT NOT NULL DEFAULT 0 CHECK (entries >= 0),
  PRIMARY KEY (event_id, gate)
);
-- Entries per gate and minute (date_trunc('minute', check_in_time)): rates and arrivals.
CREATE TABLE checkin_gate_minutes (
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  minute   TIMESTAMPTZ NOT NULL,
  gate     TEXT NOT NULL,
  entries  BIGINT NOT NULL DEFAULT 0 CHECK (entries >= 0),
  PRIMARY KEY (event_id, minute, gate)
);
CREATE TABLE refusal_minutes (
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  minute   TIMESTAMPTZ NOT NULL,
  refusals BIGINT NOT NULL DEFAULT 0 CHECK (refusals >= 0),
  PRIMARY KEY (event_id, minute)
);
-- Registered attendees, kept in the registering transaction (in a table of its own: the flusher never
-- waits on a registration's lock).
CREATE TABLE attendee_totals (
  event_id   UUID PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
  registered BIGINT NOT NULL DEFAULT 0  -- no CHECK, as checkin_totals.present
);
-- Events whose check-ins or refused scans were deleted (an administrator's act): the next flush
-- recounts them.
CREATE TABLE checkin_totals_dirty (
  event_id UUID PRIMARY KEY  -- no foreign key: an event's own deletion lands here too
);
-- When a worker last ran its sweep.
CREATE TABLE worker_heartbeat (
  only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  seen_at  TIMESTAMPTZ NOT NULL
);

DO $$
DECLARE
  t regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['checkin_totals', 'checkin_gate_totals', 'checkin_gate_minutes', 'refusal_minutes',
                           'attendee_totals', 'checkin_totals_dirty', 'worker_heartbeat']::regclass[] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
    PERFORM public.security_owner_policy(t);
  END LOOP;
END
$$;

-- Whether transaction `x` has been announced, by a watermark's frontier and pending list.
CREATE FUNCTION realtime_announced(x xid8, frontier xid8, pending xid8[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN x IS NOT NULL AND x < frontier AND NOT x = ANY (pending);
END
$$;

-- The totals of `p_event` counted from scratch as of the check-in and refusal watermarks: an entry
-- counts once its creation was announced (or it predates the totals), and is present until its
-- check-out is announced. Replaces the event's rows. Called by the flusher, which holds the watermarks.
CREATE FUNCTION checkin_totals_recount(p_event uuid) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  c record;
  r record;
BEGIN
  SELECT flushed_below, pending INTO c FROM public.realtime_watermarks WHERE stream = 'event_checkins';
  SELECT flushed_below, pending INTO r FROM public.realtime_watermarks WHERE stream = 'refused_scans';
  DELETE FROM public.checkin_totals WHERE event_id = p_event;
  DELETE FROM public.checkin_gate_totals WHERE event_id = p_event;
  DELETE FROM public.checkin_gate_minutes WHERE event_id = p_event;
  DELETE FROM public.refusal_minutes WHERE event_id = p_event;
  WITH counted AS (
    SELECT e.attendee_id, coalesce(e.gate, '(no gate)') AS gate, date_trunc('minute', e.check_in_time) AS minute,
           CASE WHEN e.checkout_xid IS NOT NULL
                THEN NOT public.realtime_announced(e.checkout_xid, c.flushed_below, c.pending)
                ELSE e.check_out_time IS NULL END AS present
      FROM public.event_checkins e
     WHERE e.event_id = p_event AND e.session_id IS NULL
       AND (e.created_xid IS NULL OR public.realtime_announced(e.created_xid, c.flushed_below, c.pending))
  ), totals AS (
    INSERT INTO public.checkin_totals (event_id, entries, checked_in, present)
    SELECT p_event, count(*), count(DISTINCT attendee_id), count(*) FILTER (WHERE present) FROM counted
  ), gates AS (
    INSERT INTO public.checkin_gate_totals (event_id, gate, entries)
    SELECT p_event, gate, count(*) FROM counted GROUP BY gate
  )
  INSERT INTO public.checkin_gate_minutes (event_id, minute, gate, entries)
  SELECT p_event, minute, gate, count(*) FROM counted GROUP BY minute, gate;
  INSERT INTO public.refusal_minutes (event_id, minute, refusals)
  SELECT p_event, date_trunc('minute', s.scanned_at), count(*)
    FROM public.refused_scans s
   WHERE s.event_id = p_event
     AND (s.created_xid IS NULL OR public.realtime_announced(s.created_xid, r.flushed_below, r.pending))
   GROUP BY 2;
END
$$;

-- Registered attendees: the statement's net change per event, in the writing transaction.
CREATE FUNCTION attendee_totals_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('attendees') THEN
    PERFORM public.refuse('trigger_relation', 'attendee_totals_count() serves its own tables only');
  END IF;
  -- Each branch names only the transition tables its trigger has.
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.attendee_totals AS t (event_id, registered)
    SELECT event_id, count(*) FROM new_rows WHERE status = 'registered' AND deleted_at IS NULL GROUP BY event_id
    ON CONFLICT (event_id) DO UPDATE SET registered = t.registered + EXCLUDED.registered;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE public.attendee_totals t SET registered = t.registered - d.n
      FROM (SELECT event_id, count(*) AS n FROM old_rows WHERE status = 'registered' AND deleted_at IS NULL
             GROUP BY event_id) d
     WHERE t.event_id = d.event_id;
  ELSE
    INSERT INTO public.attendee_totals AS t (event_id, registered)
    SELECT event_id, sum(n) FROM (
      SELECT event_id, 1 AS n FROM new_rows WHERE status = 'registered' AND deleted_at IS NULL
      UNION ALL
      SELECT event_id, -1 FROM old_rows WHERE status = 'registered' AND deleted_at IS NULL
    ) d
    GROUP BY event_id
    HAVING sum(n) <> 0
    ON CONFLICT (event_id) DO UPDATE SET registered = t.registered + EXCLUDED.registered;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER attendee_totals_insert AFTER INSERT ON attendees REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION attendee_totals_count();
CREATE TRIGGER attendee_totals_update AFTER UPDATE ON attendees REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION attendee_totals_count();
CREATE TRIGGER attendee_totals_delete AFTER DELETE ON attendees REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION attendee_totals_count();

-- Deleted check-ins or refused scans (an administrator's act; operators may not delete): the next flush
-- recounts their events.
CREATE FUNCTION checkin_totals_mark_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_checkins', 'refused_scans') THEN
    PERFORM public.refuse('trigger_relation', 'checkin_totals_mark_dirty() serves its own tables only');
  END IF;
  INSERT INTO public.checkin_totals_dirty (event_id) SELECT DISTINCT event_id FROM old_rows
  ON CONFLICT (event_id) DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER event_checkins_totals_dirty AFTER DELETE ON event_checkins REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION checkin_totals_mark_dirty();
CREATE TRIGGER refused_scans_totals_dirty AFTER DELETE ON refused_scans REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION checkin_totals_mark_dirty();

------------------------------------------------------------------------------------------------------
-- The flusher.
------------------------------------------------------------------------------------------------------

-- Announces every transaction that has ended since the last flush, one NOTIFY per stream and event, and
-- applies the check-ins and refusals they wrote to the totals. A transaction still open is skipped and
-- remembered; it is announced when it ends, so one open transaction anywhere holds back nothing but
-- its own rows. Safe from any number of flushers at once: a stream being flushed elsewhere is skipped.
-- Cheap when nothing happened: it looks without locking or writing, and moves the watermark only when a
-- batch has rows, or once a second to say the stream is watched. Returns the number of hints sent.
-- One batch hint. The console fetches rows whose change_xid is in [from, to) or late: rows of a
-- transaction still open when a range was announced come again when it ends (the console merges by id;
-- the totals count each once).
CREATE FUNCTION realtime_announce(p_stream text, p_event uuid, p_from xid8, p_to xid8, p_late xid8[], p_count bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM pg_notify('eventos_changes', jsonb_build_object(
    'v', 2, 'table', p_stream, 'op', 'BATCH', 'event_id', p_event, 'from_xid', p_from::text, 'to_xid', p_to::text,
    'late', (SELECT coalesce(jsonb_agg(x::text), '[]'::jsonb) FROM unnest(p_late) AS x), 'count', p_count)::text);
END
$$;

CREATE OR REPLACE FUNCTION realtime_flush() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
-- Every read here is an index range by transaction id. On a fresh event day the statistics say the
-- tables are empty, and a plan kept from then would scan them whole on every flush as they grow.
SET enable_seqscan = off
AS $$
DECLARE
  stream_name text;
  mark record;
  snap pg_snapshot;
  lo xid8;
  hi xid8;
  running xid8[];
  skips xid8[];
  lates xid8[];
  still xid8[];
  has_rows boolean;
  changed record;
  sent integer := 0;
  dirty uuid;
BEGIN
  -- A batch is the transactions that ended since the last flush: those in [lo, hi) not still running
  -- (skips), and those pending from before that have ended now (lates, all below lo). Every query reads
  -- the range and the lates apart, so that each uses an xid index, and is written out per stream, so
  -- that its plan is kept (no temporary tables: this runs as the owner in the caller's session).
  FOREACH stream_name IN ARRAY ARRAY['event_checkins', 'refused_scans'] LOOP
    FOR attempt IN 1..2 LOOP
      -- First a look without a lock (no transaction id, no write); then, if there is work, the same
      -- under the stream's lock with a snapshot taken after it.
      IF attempt = 1 THEN
        SELECT w.stream, w.flushed_below, w.pending, w.flushed_at INTO mark
          FROM public.realtime_watermarks w WHERE w.stream = stream_name;
      ELSE
        SELECT w.stream, w.flushed_below, w.pending, w.flushed_at INTO mark
          FROM public.realtime_watermarks w WHERE w.stream = stream_name
           FOR UPDATE SKIP LOCKED;
        EXIT WHEN NOT FOUND;  -- another flusher has it
      END IF;
      snap := pg_current_snapshot();
      lo := mark.flushed_below;
      hi := pg_snapshot_xmax(snap);
      running := ARRAY(SELECT pg_snapshot_xip(snap));
      skips := ARRAY(SELECT x FROM unnest(running) AS x WHERE x >= lo AND x < hi);
      lates := ARRAY(SELECT x FROM unnest(mark.pending) AS x WHERE NOT x = ANY (running));
      still := ARRAY(SELECT x FROM unnest(mark.pending) AS x WHERE x = ANY (running)) || skips;
      IF stream_name = 'event_checkins' THEN
        has_rows := EXISTS (SELECT 1 FROM public.event_checkins
                             WHERE created_xid >= lo AND created_xid < hi AND NOT created_xid = ANY (skips))
                 OR EXISTS (SELECT 1 FROM public.event_checkins
                             WHERE checkout_xid >= lo AND checkout_xid < hi AND NOT checkout_xid = ANY (skips))
                 OR (cardinality(lates) > 0
                     AND (EXISTS (SELECT 1 FROM public.event_checkins WHERE created_xid = ANY (lates))
                          OR EXISTS (SELECT 1 FROM public.event_checkins WHERE checkout_xid = ANY (lates))));
      ELSE
        has_rows := EXISTS (SELECT 1 FROM public.refused_scans
                             WHERE created_xid >= lo AND created_xid < hi AND NOT created_xid = ANY (skips))
                 OR (cardinality(lates) > 0
                     AND EXISTS (SELECT 1 FROM public.refused_scans WHERE created_xid = ANY (lates)));
      END IF;
      EXIT WHEN NOT has_rows AND mark.flushed_at >= now() - interval '1 second';
      CONTINUE WHEN attempt = 1;
      -- The flush's own commit need not wait for the disk: lost in a crash, the watermark and the
      -- totals go back together and the same transactions are announced and counted again.
      PERFORM set_config('synchronous_commit', 'off', true);

      IF stream_name = 'event_checkins' THEN
        FOR changed IN
          WITH touched AS (
            SELECT event_id FROM public.event_checkins
             WHERE created_xid >= lo AND created_xid < hi AND NOT created_xid = ANY (skips)
            UNION ALL
            SELECT event_id FROM public.event_checkins
             WHERE checkout_xid >= lo AND checkout_xid < hi AND NOT checkout_xid = ANY (skips)
            UNION ALL
            SELECT event_id FROM public.event_checkins
             WHERE cardinality(lates) > 0 AND (created_xid = ANY (lates) OR checkout_xid = ANY (lates))
          )
          SELECT event_id, count(*) AS n FROM touched GROUP BY event_id
        LOOP
          PERFORM public.realtime_announce(stream_name, changed.event_id, lo, hi, lates, changed.n);
          sent := sent + 1;
        END LOOP;

        WITH born AS (
          -- Entries at the doors created in the batch: present unless their check-out is announced too.
          SELECT e.event_id, e.attendee_id, coalesce(e.gate, '(no gate)') AS gate,
                 date_trunc('minute', e.check_in_time) AS minute,
                 NOT (e.checkout_xid IS NOT NULL AND e.checkout_xid < hi AND NOT e.checkout_xid = ANY (still)) AS present
            FROM public.event_checkins e
           WHERE e.created_xid >= lo AND e.created_xid < hi AND NOT e.created_xid = ANY (skips)
             AND e.session_id IS NULL
          UNION ALL
          SELECT e.event_id, e.attendee_id, coalesce(e.gate, '(no gate)'),
                 date_trunc('minute', e.check_in_time),
                 NOT (e.checkout_xid IS NOT NULL AND e.checkout_xid < hi AND NOT e.checkout_xid = ANY (still))
            FROM public.event_checkins e
           WHERE cardinality(lates) > 0 AND e.created_xid = ANY (lates) AND e.session_id IS NULL
        ), left_now AS (
          -- Check-outs in the batch of entries counted before it.
          SELECT e.event_id, count(*) AS n
            FROM public.event_checkins e
           WHERE ((e.checkout_xid >= lo AND e.checkout_xid < hi AND NOT e.checkout_xid = ANY (skips))
                  OR (cardinality(lates) > 0 AND e.checkout_xid = ANY (lates)))
             AND e.session_id IS NULL
             AND (e.created_xid IS NULL OR (e.created_xid < lo AND NOT e.created_xid = ANY (mark.pending)))
           GROUP BY e.event_id
        ), newcomers AS (
          -- Attendees whose first counted entry this is: none announced before (nor from before the
          -- totals). Decided here, not at the door, so the gate's insert stays a plain insert.
          SELECT b.event_id, count(DISTINCT b.attendee_id) AS n
            FROM born b
           WHERE NOT EXISTS (SELECT 1 FROM public.event_checkins p  -- an attendee belongs to one event
                              WHERE p.attendee_id = b.attendee_id AND p.session_id IS NULL
                                AND (p.created_xid IS NULL OR (p.created_xid < lo AND NOT p.created_xid = ANY (mark.pending))))
           GROUP BY b.event_id
        ), per_event AS (
          SELECT event_id, sum(entries) AS entries, sum(firsts) AS checked_in, sum(present) AS present FROM (
            SELECT event_id, count(*) AS entries, 0 AS firsts, count(*) FILTER (WHERE present) AS present
              FROM born GROUP BY event_id
            UNION ALL
            SELECT event_id, 0, n, 0 FROM newcomers
            UNION ALL
            SELECT event_id, 0, 0, -n FROM left_now
          ) d GROUP BY event_id
        ), totals AS (
          INSERT INTO public.checkin_totals AS t (event_id, entries, checked_in, present)
          SELECT event_id, entries, checked_in, present FROM per_event
          ON CONFLICT (event_id) DO UPDATE
            SET entries = t.entries + EXCLUDED.entries, checked_in = t.checked_in + EXCLUDED.checked_in,
                present = t.present + EXCLUDED.present
        ), gates AS (
          INSERT INTO public.checkin_gate_totals AS t (event_id, gate, entries)
          SELECT event_id, gate, count(*) FROM born GROUP BY event_id, gate
          ON CONFLICT (event_id, gate) DO UPDATE SET entries = t.entries + EXCLUDED.entries
        )
        INSERT INTO public.checkin_gate_minutes AS t (event_id, minute, gate, entries)
        SELECT event_id, minute, gate, count(*) FROM born GROUP BY event_id, minute, gate
        ON CONFLICT (event_id, minute, gate) DO UPDATE SET entries = t.entries + EXCLUDED.entries;
      ELSE
        FOR changed IN
          WITH touched AS (
            SELECT event_id, scanned_at FROM public.refused_scans
             WHERE created_xid >= lo AND created_xid < hi AND NOT created_xid = ANY (skips)
            UNION ALL
            SELECT event_id, scanned_at FROM public.refused_scans
             WHERE cardinality(lates) > 0 AND created_xid = ANY (lates)
          ), minutes AS (
            INSERT INTO public.refusal_minutes AS t (event_id, minute, refusals)
            SELECT event_id, date_trunc('minute', scanned_at), count(*) FROM touched GROUP BY 1, 2
            ON CONFLICT (event_id, minute) DO UPDATE SET refusals = t.refusals + EXCLUDED.refusals
          )
          SELECT event_id, count(*) AS n FROM touched GROUP BY event_id
        LOOP
          PERFORM public.realtime_announce(stream_name, changed.event_id, lo, hi, lates, changed.n);
          sent := sent + 1;
        END LOOP;
      END IF;

      UPDATE public.realtime_watermarks SET flushed_below = hi, pending = still, flushed_at = now()
       WHERE stream = stream_name;
    END LOOP;
  END LOOP;

  -- Events whose rows were deleted are recounted, holding both watermarks (this flusher may hold them
  -- already; if another flusher has one, the next flush does it).
  IF EXISTS (SELECT 1 FROM public.checkin_totals_dirty)
     AND (SELECT count(*) FROM (SELECT 1 FROM public.realtime_watermarks ORDER BY stream
                                   FOR UPDATE SKIP LOCKED) AS held) = 2 THEN
    FOR dirty IN DELETE FROM public.checkin_totals_dirty RETURNING event_id LOOP
      IF EXISTS (SELECT 1 FROM public.events WHERE id = dirty) THEN
        PERFORM public.checkin_totals_recount(dirty);
      END IF;
    END LOOP;
  END IF;
  RETURN sent;
END
$$;

------------------------------------------------------------------------------------------------------
-- What the console reads.
------------------------------------------------------------------------------------------------------

-- The Check-ins desk's numbers for one event, from the totals: a handful of index reads at any size.
-- Windows are whole minutes: "last 5 minutes" is this minute and the four before it.
CREATE FUNCTION checkin_summary(p_event uuid)
RETURNS TABLE (expected bigint, checked_in bigint, present bigint, gate_names text[], gate_totals bigint[],
               gate_recent bigint[], arrivals bigint[], problems_15_min bigint, as_of timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  this_minute timestamptz := date_trunc('minute', now());
BEGIN
  PERFORM public.require_event(p_event, 'unknown_event', 'no such event');
  RETURN QUERY
  SELECT coalesce((SELECT a.registered FROM public.attendee_totals a WHERE a.event_id = p_event), 0),
         coalesce(t.checked_in, 0), coalesce(t.present, 0),
         coalesce(g.names, '{}'), coalesce(g.totals, '{}'), coalesce(g.recent, '{}'),
         (SELECT array_agg(coalesce(m.n, 0) ORDER BY k)
            FROM generate_series(0, 59) AS k
            LEFT JOIN (SELECT cm.minute, sum(cm.entries)::bigint AS n FROM public.checkin_gate_minutes cm
                        WHERE cm.event_id = p_event AND cm.minute > this_minute - interval '60 minutes'
                        GROUP BY cm.minute) m
              ON m.minute = this_minute - make_interval(mins => 59 - k)),
         coalesce((SELECT sum(r.refusals)::bigint FROM public.refusal_minutes r
                    WHERE r.event_id = p_event AND r.minute > this_minute - interval '15 minutes'), 0),
         now()
    FROM (SELECT 1) AS one
    LEFT JOIN public.checkin_totals t ON t.event_id = p_event
    LEFT JOIN LATERAL (
      SELECT array_agg(gt.gate ORDER BY gt.entries DESC, gt.gate) AS names,
             array_agg(gt.entries ORDER BY gt.entries DESC, gt.gate) AS totals,
             array_agg(coalesce((SELECT sum(cm.entries)::bigint FROM public.checkin_gate_minutes cm
                                  WHERE cm.event_id = p_event AND cm.gate = gt.gate
                                    AND cm.minute > this_minute - interval '5 minutes'), 0)
                       ORDER BY gt.entries DESC, gt.gate) AS recent
        FROM public.checkin_gate_totals gt WHERE gt.event_id = p_event
    ) g ON true;
END
$$;

-- Transactions open for more than two seconds that are writing check-ins (they hold the table's write
-- lock): their rows reach the consoles when they commit. The console's header says so.
CREATE FUNCTION realtime_late_writers() RETURNS TABLE (transactions bigint, oldest_since timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT count(*), min(a.xact_start)
    FROM pg_catalog.pg_locks l
    JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
   WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
     AND l.relation = 'public.event_checkins'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted
     AND a.xact_start < now() - interval '2 seconds' AND l.pid <> pg_backend_pid();
END
$$;

-- A console's flush, for when no worker runs. The flush locks the watermarks until its transaction ends,
-- and the watermarks are every event's: an operator who called realtime_flush() inside a transaction
-- kept open would stall every console. So this does nothing while a worker is alive (with none, an
-- operator can still hold the consoles' own flushing back: docs/security.md says so).
CREATE FUNCTION realtime_flush_for_console() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF (SELECT seen_at FROM public.worker_heartbeat) > clock_timestamp() - interval '10 seconds' THEN
    RETURN 0;
  END IF;
  RETURN public.realtime_flush();
END
$$;

-- The worker's sweep says it is alive; consoles ask when it last did.
CREATE FUNCTION worker_heartbeat() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  INSERT INTO public.worker_heartbeat AS h (only_row, seen_at) VALUES (true, now())
  ON CONFLICT (only_row) DO UPDATE SET seen_at = EXCLUDED.seen_at;
END
$$;
CREATE FUNCTION worker_seen_at() RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN (SELECT seen_at FROM public.worker_heartbeat);
END
$$;

------------------------------------------------------------------------------------------------------
-- The guards record the transactions (restated whole).
------------------------------------------------------------------------------------------------------

-- event_checkins_guard(): created_xid and checkout_xid.
CREATE OR REPLACE FUNCTION public.event_checkins_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a record;
  t record;
  s record;
  actor uuid := public.acting_profile_id();
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_checkins') THEN
    PERFORM public.refuse('trigger_relation', 'event_checkins_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id
       OR NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.check_in_time IS DISTINCT FROM OLD.check_in_time THEN
      -- A session deleted under a check-in sets session_id to NULL (the seed's ON DELETE SET NULL); the
      -- _rules_only trigger has already refused that change to anyone but the rules themselves.
      IF NOT (NEW.session_id IS NULL AND OLD.session_id IS NOT NULL
              AND NEW.event_id = OLD.event_id AND NEW.attendee_id = OLD.attendee_id
              AND NEW.check_in_time = OLD.check_in_time) THEN
        PERFORM public.refuse('checkin_immutable', 'a check-in cannot be moved or back-dated; check out and check in again');
      END IF;
    END IF;
    IF OLD.check_out_time IS NOT NULL AND (NEW.is_present OR NEW.check_out_time IS DISTINCT FROM OLD.check_out_time) THEN
      PERFORM public.refuse('checkout_final', 'a check-out is final; check in again instead');
    END IF;
    IF OLD.is_present AND (NOT NEW.is_present OR NEW.check_out_time IS NOT NULL) THEN
      -- Checking out: one of the two is enough, the database fills in the rest. An operator's check-out
      -- happens when it reaches the database (the clock, not the start of a transaction kept open),
      -- in their own name.
      NEW.is_present := false;
      IF actor IS NOT NULL THEN
        IF NEW.check_out_time IS NOT NULL AND NEW.check_out_time <> now()
           AND abs(extract(epoch FROM NEW.check_out_time - clock_timestamp())) > 60 THEN
          PERFORM public.refuse('checkin_time', 'a check-out is recorded when it reaches the database: leave check_out_time out');
        END IF;
        IF NEW.checked_out_by IS DISTINCT FROM OLD.checked_out_by AND NEW.checked_out_by IS DISTINCT FROM actor THEN
          PERFORM public.refuse('actor_is_the_login', 'a check-out is recorded in the name of the operator logged in');
        END IF;
        NEW.check_out_time := clock_timestamp();
      END IF;
      NEW.check_out_time := coalesce(NEW.check_out_time, clock_timestamp());
      IF NEW.check_out_time < NEW.check_in_time THEN
        PERFORM public.refuse('checkout_before_checkin', 'a check-out cannot come before its check-in');
      END IF;
      NEW.attendance_duration := floor(extract(epoch FROM NEW.check_out_time - NEW.check_in_time) / 60)::integer;
      NEW.checked_out_by := coalesce(actor, NEW.checked_out_by);
      -- The transaction that checked the entry out: the flusher's totals count it once, when it ends.
      NEW.checkout_xid := pg_current_xact_id();
    ELSIF NEW.checked_out_by IS DISTINCT FROM OLD.checked_out_by AND NEW.checked_out_by IS NOT NULL THEN
      PERFORM public.refuse('actor_is_the_login', 'who checked a person out is recorded by checking them out');
    END IF;
    -- What the realtime totals were counted from never changes after the fact.
    NEW.created_xid := OLD.created_xid;
    IF NOT (OLD.is_present AND NOT NEW.is_present) THEN
      NEW.checkout_xid := OLD.checkout_xid;
    END IF;
    RETURN NEW;
  END IF;

  -- INSERT: a new entry is open.
  IF NOT NEW.is_present OR NEW.check_out_time IS NOT NULL THEN
    PERFORM public.refuse('checkin_open', 'a new check-in is open: record the check-out separately');
  END IF;
  NEW.attendance_duration := NULL;
  NEW.checked_out_by := NULL;
  IF actor IS NOT NULL THEN
    -- An operator's check-in happens when it reaches the database, in their own name. (An
    -- administrator with no profile may import history: times and names as given, never in the future.)
    IF NEW.check_in_time <> now() AND abs(extract(epoch FROM NEW.check_in_time - clock_timestamp())) > 60 THEN
      PERFORM public.refuse('checkin_time', 'a check-in is recorded when it reaches the database: leave check_in_time out');
    END IF;
    IF NEW.checked_in_by IS DISTINCT FROM actor AND NEW.checked_in_by IS NOT NULL THEN
      PERFORM public.refuse('actor_is_the_login', 'a check-in is recorded in the name of the operator logged in');
    END IF;
    NEW.check_in_time := clock_timestamp();
    NEW.checked_in_by := actor;
  ELSIF NEW.check_in_time > clock_timestamp() + interval '1 minute' THEN
    PERFORM public.refuse('checkin_future', 'a check-in cannot be in the future');
  END IF;
  -- The realtime feed and totals find rows by the transactions that wrote them: never a client's number.
  NEW.change_xid := pg_current_xact_id();
  NEW.created_xid := NEW.change_xid;
  NEW.checkout_xid := NULL;

  SELECT event_id, status, deleted_at INTO a FROM public.attendees WHERE id = NEW.attendee_id;
  IF NOT FOUND OR a.event_id <> NEW.event_id OR a.deleted_at IS NOT NULL THEN
    PERFORM public.refuse('wrong_event', 'that attendee is not registered for this event');
  END IF;
  IF a.status <> 'registered' THEN
    PERFORM public.refuse('attendee_cancelled', format('the attendee is %s', a.status));
  END IF;

  IF NEW.ticket_id IS NOT NULL THEN
    SELECT event_id, attendee_id, status INTO t FROM public.tickets WHERE id = NEW.ticket_id;
    -- Another event's ticket and one that does not exist read the same: no answer about other events.
    IF NOT FOUND OR t.event_id <> NEW.event_id THEN
      PERFORM public.refuse('wrong_event', 'that ticket is not one of this event''s');
    END IF;
    IF t.attendee_id <> NEW.attendee_id THEN
      PERFORM public.refuse('wrong_attendee', 'the ticket belongs to another attendee');
    END IF;
    IF t.status <> 'valid' THEN
      PERFORM public.refuse('ticket_' || t.status, format('ticket is %s', t.status));
    END IF;
  ELSE
    SELECT id INTO NEW.ticket_id FROM public.tickets
     WHERE attendee_id = NEW.attendee_id AND event_id = NEW.event_id AND status = 'valid'
     ORDER BY created_at LIMIT 1;
    IF NOT FOUND THEN
      PERFORM public.refuse('no_valid_ticket', 'the attendee holds no valid ticket for this event');
    END IF;
  END IF;

  IF NEW.session_id IS NOT NULL THEN
    SELECT event_id, status, title, registration_required INTO s FROM public.sessions WHERE id = NEW.session_id;
    IF NOT FOUND OR s.event_id <> NEW.event_id THEN
      PERFORM public.refuse('wrong_event', 'that session is not part of this event');
    END IF;
    IF s.status IN ('completed', 'cancelled') THEN
      PERFORM public.refuse('session_not_open', format('"%s" is %s', s.title, s.status));
    END IF;
    IF s.registration_required AND NOT EXISTS (
         SELECT 1 FROM public.session_registrations
          WHERE session_id = NEW.session_id AND attendee_id = NEW.attendee_id AND status = 'registered') THEN
      PERFORM public.refuse('not_registered', format('not registered for "%s"', s.title));
    END IF;
  END IF;
  RETURN NEW;
END
$function$;

-- refused_scans_guard(): created_xid.
CREATE OR REPLACE FUNCTION refused_scans_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  actor uuid;
BEGIN
  NEW.change_xid := pg_current_xact_id();
  NEW.created_xid := NEW.change_xid;
  IF current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
    RETURN NEW;
  END IF;
  actor := public.acting_profile_id();
  IF NEW.scanned_by IS NOT NULL AND NEW.scanned_by IS DISTINCT FROM actor THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'actor_is_the_login',
      MESSAGE = 'a refused scan is logged in the name of the operator logged in';
  END IF;
  IF NEW.scanned_at <> now() AND abs(extract(epoch FROM NEW.scanned_at - clock_timestamp())) > 60 THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'checkin_time',
      MESSAGE = 'a scan is logged when it reaches the database: leave scanned_at out';
  END IF;
  NEW.scanned_by := actor;
  NEW.scanned_at := clock_timestamp();
  IF NEW.ticket_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.tickets WHERE id = NEW.ticket_id AND event_id = NEW.event_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'wrong_event', MESSAGE = 'that ticket is not one of this event''s';
  END IF;
  IF NEW.attendee_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.attendees WHERE id = NEW.attendee_id AND event_id = NEW.event_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'wrong_event', MESSAGE = 'that attendee is not one of this event''s';
  END IF;
  IF NEW.session_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.sessions WHERE id = NEW.session_id AND event_id = NEW.event_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'wrong_event', MESSAGE = 'that session is not part of this event';
  END IF;
  IF NEW.conflicting_checkin_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.event_checkins WHERE id = NEW.conflicting_checkin_id AND event_id = NEW.event_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'wrong_event', MESSAGE = 'that check-in is not one of this event''s';
  END IF;
  RETURN NEW;
END
$$;

------------------------------------------------------------------------------------------------------
-- Start: the watermarks move to this moment, the totals are counted once from the rows.
------------------------------------------------------------------------------------------------------

UPDATE realtime_watermarks w
   SET flushed_below = pg_snapshot_xmax(s.snap), pending = ARRAY(SELECT pg_snapshot_xip(s.snap)), flushed_at = now()
  FROM (SELECT pg_current_snapshot() AS snap) s;
SELECT checkin_totals_recount(id) FROM events;
INSERT INTO attendee_totals (event_id, registered)
SELECT e.id, (SELECT count(*) FROM attendees a WHERE a.event_id = e.id AND a.status = 'registered' AND a.deleted_at IS NULL)
  FROM events e;

-- Who may call the new functions (nobody else: default privileges since V8).
GRANT EXECUTE ON FUNCTION checkin_summary(uuid), realtime_late_writers(), worker_seen_at(),
  realtime_flush_for_console() TO eventos_operator;
GRANT EXECUTE ON FUNCTION worker_heartbeat(), worker_seen_at() TO eventos_worker;
