-- One read per batch, whatever the number of consoles.
--
-- Each console read every batch for itself: the batch's entries, its refused scans, the sessions it
-- touched and the totals, four statements under row security. Twenty consoles on one event, while
-- 8 gates scanned 100 a second, cost the server 47% of a core (`eventos bench`, "Many consoles"). The
-- flusher now makes each announced event's batch once, as every console will read it, into
-- realtime_batch_views, and the hint carries its number; a console reads its batches by number in one
-- call (realtime_batch_views()). Anyone on the event's team sees the same rows (row security on these
-- tables is "any active member"), so one view serves them all; anyone else gets nothing from the call
-- and reads under their own row security, as does a console that missed a view (made by an older
-- flusher, dropped after a minute, or lost in a crash: the table is UNLOGGED, a cache).
--
-- The totals are computed in one place, checkin_summary_of(), for the views and for
-- checkin_summary(). checkin_summary() also says which batch its totals include (as_of_batch), so a
-- console never replaces newer totals with a view's older ones.

CREATE SEQUENCE realtime_batch_seq;

CREATE UNLOGGED TABLE realtime_batch_views (
  event_id        UUID NOT NULL,  -- no foreign key: a cache of a minute, gone with a crash anyway
  batch           BIGINT NOT NULL,
  made_at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  expected        BIGINT NOT NULL,
  checked_in      BIGINT NOT NULL,
  present         BIGINT NOT NULL,
  gate_names      TEXT[] NOT NULL,
  gate_totals     BIGINT[] NOT NULL,
  gate_recent     BIGINT[] NOT NULL,
  arrivals        BIGINT[] NOT NULL,
  problems_15_min BIGINT NOT NULL,
  as_of           TIMESTAMPTZ NOT NULL,
  checkins        JSONB NOT NULL,
  problems        JSONB NOT NULL,
  sessions        UUID[] NOT NULL,
  PRIMARY KEY (event_id, batch)
);
ALTER TABLE realtime_batch_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE realtime_batch_views FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('realtime_batch_views');

-- The Check-ins desk's numbers for one event, from the totals (V9's checkin_summary(), whose body this
-- is): for the views and for checkin_summary(), never called by an operator.
CREATE FUNCTION checkin_summary_of(p_event uuid)
RETURNS TABLE (expected bigint, checked_in bigint, present bigint, gate_names text[], gate_totals bigint[],
               gate_recent bigint[], arrivals bigint[], problems_15_min bigint, as_of timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  this_minute timestamptz := date_trunc('minute', now());
BEGIN
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
REVOKE EXECUTE ON FUNCTION checkin_summary_of(uuid) FROM PUBLIC;

-- The same numbers for a console, and the newest batch they include.
DROP FUNCTION checkin_summary(uuid);
CREATE FUNCTION checkin_summary(p_event uuid)
RETURNS TABLE (expected bigint, checked_in bigint, present bigint, gate_names text[], gate_totals bigint[],
               gate_recent bigint[], arrivals bigint[], problems_15_min bigint, as_of timestamptz,
               as_of_batch bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM public.require_event(p_event, 'unknown_event', 'no such event');
  -- One snapshot for both: the newest view visible is the newest flush the totals include.
  RETURN QUERY
  SELECT s.*, (SELECT max(v.batch) FROM public.realtime_batch_views v WHERE v.event_id = p_event)
    FROM public.checkin_summary_of(p_event) s;
END
$$;
REVOKE EXECUTE ON FUNCTION checkin_summary(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION checkin_summary(uuid) TO eventos_operator;

-- A batch hint names its batch's view (restated whole: one argument more).
DROP FUNCTION realtime_announce(text, uuid, xid8, xid8, xid8[], bigint);
CREATE FUNCTION realtime_announce(p_stream text, p_event uuid, p_from xid8, p_to xid8, p_late xid8[], p_count bigint,
                                  p_batch bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM pg_notify('eventos_changes', jsonb_build_object(
    'v', 2, 'table', p_stream, 'op', 'BATCH', 'event_id', p_event, 'from_xid', p_from::text, 'to_xid', p_to::text,
    'late', (SELECT coalesce(jsonb_agg(x::text), '[]'::jsonb) FROM unnest(p_late) AS x), 'count', p_count,
    'batch', p_batch)::text);
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_announce(text, uuid, xid8, xid8, xid8[], bigint, bigint) FROM PUBLIC;

-- Consoles' feed channels: each console of an event's team registers a channel of its own, a name
-- nobody can guess (122 random bits) and that no other console is told. A name shared by the team would
-- let any member NOTIFY forged batches to every console (anyone may NOTIFY any channel); with one name
-- per console, a member can fool only their own. A console says it is still there with each liveness
-- check (every few seconds); the flusher pushes only to channels heard from in the last 15 seconds, and
-- forgets them after a minute. A change in the team (a member removed, suspended or replaced; a profile
-- deleted or given another login) drops every channel of its events and tells the consoles to register
-- again, so a console of someone who left hears nothing more. UNLOGGED: after a crash the consoles find
-- their channels gone at their next liveness check and register again.
CREATE UNLOGGED TABLE realtime_feed_consoles (
  channel       TEXT PRIMARY KEY,
  event_id      UUID NOT NULL,  -- no foreign key: forgotten within a minute of going quiet
  login_role    NAME NOT NULL,
  registered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  seen_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX realtime_feed_consoles_event_idx ON realtime_feed_consoles (event_id, seen_at);
ALTER TABLE realtime_feed_consoles ENABLE ROW LEVEL SECURITY;
ALTER TABLE realtime_feed_consoles FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('realtime_feed_consoles');

-- A console's channel for the event's batches, its earlier one (if its own) dropped; NULL for anyone
-- outside the event's team (who reads under row security instead). At most 32 per login and event
-- (several screens may share a login; however many there are, pushes stop past 64 kB a flush).
CREATE FUNCTION realtime_feed_channel(p_event uuid, p_previous text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  name text;
BEGIN
  DELETE FROM public.realtime_feed_consoles c WHERE c.channel = p_previous AND c.login_role = session_user;
  IF NOT EXISTS (SELECT 1 FROM public.event_teams t JOIN public.profiles p ON p.id = t.member_id
                  WHERE t.event_id = p_event AND p.login_role = session_user AND p.deleted_at IS NULL
                    AND t.status = 'active') THEN
    RETURN NULL;
  END IF;
  name := 'eventos_feed_' || replace(gen_random_uuid()::text, '-', '');
  INSERT INTO public.realtime_feed_consoles (channel, event_id, login_role) VALUES (name, p_event, session_user);
  DELETE FROM public.realtime_feed_consoles c
   WHERE c.event_id = p_event AND c.login_role = session_user
     AND c.channel NOT IN (SELECT k.channel FROM public.realtime_feed_consoles k
                            WHERE k.event_id = p_event AND k.login_role = session_user
                            ORDER BY k.registered_at DESC, k.channel LIMIT 32);
  RETURN name;
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_feed_channel(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_feed_channel(uuid, text) TO eventos_operator;

-- A console's liveness check: its channel is still registered (false: register again).
CREATE FUNCTION realtime_feed_seen(p_channel text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  UPDATE public.realtime_feed_consoles c SET seen_at = now()
   WHERE c.channel = p_channel AND c.login_role = session_user;
  RETURN FOUND;
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_feed_seen(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_feed_seen(text) TO eventos_operator;

-- A team changed: its events' channels are dropped, and the consoles hear that they must register again.
CREATE FUNCTION realtime_feed_rotate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  changed uuid[];
  event uuid;
BEGIN
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_teams', 'profiles') THEN
    PERFORM public.refuse('trigger_relation', 'realtime_feed_rotate() serves its own tables only');
  END IF;
  -- Each branch names only the transition tables its trigger has.
  IF TG_TABLE_NAME = 'event_teams' THEN
    IF TG_OP = 'DELETE' THEN
      changed := ARRAY(SELECT DISTINCT o.event_id FROM old_rows o);
    ELSE
      changed := ARRAY(SELECT DISTINCT o.event_id FROM old_rows o
                        JOIN new_rows n ON n.id = o.id
                       WHERE (n.event_id, n.member_id, n.status) IS DISTINCT FROM (o.event_id, o.member_id, o.status));
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    changed := ARRAY(SELECT DISTINCT t.event_id FROM public.event_teams t JOIN old_rows o ON o.id = t.member_id);
  ELSE
    changed := ARRAY(SELECT DISTINCT t.event_id FROM public.event_teams t
                       JOIN old_rows o ON o.id = t.member_id
                       JOIN new_rows n ON n.id = o.id
                      WHERE (n.login_role, n.deleted_at) IS DISTINCT FROM (o.login_role, o.deleted_at));
  END IF;
  FOR event IN
    DELETE FROM public.realtime_feed_consoles c WHERE c.event_id = ANY (changed) RETURNING c.event_id
  LOOP
    -- Once per event (pg_notify folds repeats within a transaction).
    PERFORM pg_notify('eventos_changes', jsonb_build_object(
      'v', 1, 'table', 'realtime_feed', 'op', 'ROTATE', 'event_id', event)::text);
  END LOOP;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_feed_rotate() FROM PUBLIC;
CREATE TRIGGER event_teams_feed_rotate_update AFTER UPDATE ON event_teams
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION realtime_feed_rotate();
CREATE TRIGGER event_teams_feed_rotate_delete AFTER DELETE ON event_teams
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION realtime_feed_rotate();
CREATE TRIGGER profiles_feed_rotate_update AFTER UPDATE ON profiles
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION realtime_feed_rotate();
CREATE TRIGGER profiles_feed_rotate_delete AFTER DELETE ON profiles
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION realtime_feed_rotate();

-- The flusher makes the views (restated whole from V10; new: the batch numbers, each stream's range
-- kept, and the views at the end).
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
  -- The events this flush announces, each with its batch number (one per event per flush, both streams).
  touched_events uuid[] := '{}';
  touched_batches bigint[] := '{}';
  -- Those of them watched by a console of their team (their views are made).
  watched uuid[] := '{}';
  batch bigint;
  -- Each stream's batch as announced (NULL: not flushed this time).
  c_lo xid8;
  c_hi xid8;
  c_late xid8[] := '{}';
  r_lo xid8;
  r_hi xid8;
  r_late xid8[] := '{}';
  -- The hints to send, by stream, event and count.
  hint_streams text[] := '{}';
  hint_events uuid[] := '{}';
  hint_counts bigint[] := '{}';
  pushed record;
  channel text;
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
          batch := touched_batches[array_position(touched_events, changed.event_id)];
          IF batch IS NULL THEN
            batch := nextval('public.realtime_batch_seq');
            touched_events := touched_events || changed.event_id;
            touched_batches := touched_batches || batch;
          END IF;
          -- Announced at the end, after the views' own notifications (below).
          hint_streams := hint_streams || stream_name;
          hint_events := hint_events || changed.event_id;
          hint_counts := hint_counts || changed.n;
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
          -- totals). Decided here, not at the door, so the gate's insert stays a plain insert. One probe
          -- of the attendee's own entries (an attendee belongs to one event): LIMIT keeps the LATERAL
          -- from becoming a join, and the xid test is written so that no index but the attendee's fits it.
          SELECT b.event_id, count(DISTINCT b.attendee_id) AS n
            FROM born b
            LEFT JOIN LATERAL (
              SELECT true AS seen FROM public.event_checkins p
               WHERE p.attendee_id = b.attendee_id AND p.session_id IS NULL
                 AND coalesce(p.created_xid < lo AND NOT p.created_xid = ANY (mark.pending), true)
               LIMIT 1) earlier ON true
           WHERE earlier.seen IS NULL
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
          batch := touched_batches[array_position(touched_events, changed.event_id)];
          IF batch IS NULL THEN
            batch := nextval('public.realtime_batch_seq');
            touched_events := touched_events || changed.event_id;
            touched_batches := touched_batches || batch;
          END IF;
          -- Announced at the end, after the views' own notifications (below).
          hint_streams := hint_streams || stream_name;
          hint_events := hint_events || changed.event_id;
          hint_counts := hint_counts || changed.n;
          sent := sent + 1;
        END LOOP;
      END IF;

      IF stream_name = 'event_checkins' THEN
        c_lo := lo; c_hi := hi; c_late := lates;
      ELSE
        r_lo := lo; r_hi := hi; r_late := lates;
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
  -- Each announced event's batch as every console reads it, made once here instead of by each console:
  -- the totals after this flush and the batch's rows (at most a feed's 200 of each, newest first, as
  -- the console's own read of the range would give).
  -- Only for events a console of the team is watching (registered, heard from lately): nobody else
  -- reads them. The others' hints carry no number, and their consoles read the ranges.
  watched := ARRAY(SELECT t.event_id FROM unnest(touched_events) AS t(event_id)
                    WHERE EXISTS (SELECT 1 FROM public.realtime_feed_consoles c
                                   WHERE c.event_id = t.event_id AND c.seen_at > now() - interval '15 seconds'));
  IF cardinality(watched) > 0 THEN
    INSERT INTO public.realtime_batch_views
      (event_id, batch, expected, checked_in, present, gate_names, gate_totals, gate_recent, arrivals,
       problems_15_min, as_of, checkins, problems, sessions)
    SELECT t.event_id, t.batch, s.expected, s.checked_in, s.present, s.gate_names, s.gate_totals,
           s.gate_recent, s.arrivals, s.problems_15_min, s.as_of,
           (SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.at DESC, f.id DESC), '[]'::jsonb) FROM (
              SELECT c.id, c.attendee_id, btrim(a.first_name || ' ' || a.last_name) AS name,
                     tt.name AS ticket_type, c.gate, c.check_in_method AS method, se.title AS session,
                     c.check_in_time AS at, c.check_out_time AS out_at
                FROM public.event_checkins c
                JOIN public.attendees a ON a.id = c.attendee_id
                LEFT JOIN public.tickets tk ON tk.id = c.ticket_id
                LEFT JOIN public.ticket_types tt ON tt.id = tk.ticket_type_id
                LEFT JOIN public.sessions se ON se.id = c.session_id
               WHERE c_lo IS NOT NULL AND c.event_id = t.event_id
                 AND ((c.change_xid >= c_lo AND c.change_xid < c_hi) OR c.change_xid = ANY (c_late))
               ORDER BY c.check_in_time DESC
               LIMIT 200) f),
           (SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.at DESC, f.id DESC), '[]'::jsonb) FROM (
              SELECT r.id, r.scanned_at AS at, r.gate, r.reason_code, r.reason, r.code,
                     first.gate AS first_gate, first.check_in_time AS first_at,
                     btrim(a.first_name || ' ' || a.last_name) AS name
                FROM public.refused_scans r
                LEFT JOIN public.event_checkins first ON first.id = r.conflicting_checkin_id
                LEFT JOIN public.attendees a ON a.id = r.attendee_id
               WHERE r_lo IS NOT NULL AND r.event_id = t.event_id
                 AND ((r.change_xid >= r_lo AND r.change_xid < r_hi) OR r.change_xid = ANY (r_late))
               ORDER BY r.scanned_at DESC
               LIMIT 200) f),
           (SELECT coalesce(array_agg(DISTINCT c.session_id), '{}')
              FROM public.event_checkins c
             WHERE c_lo IS NOT NULL AND c.event_id = t.event_id AND c.session_id IS NOT NULL
               AND ((c.change_xid >= c_lo AND c.change_xid < c_hi) OR c.change_xid = ANY (c_late)))
      FROM unnest(touched_events, touched_batches) AS t(event_id, batch)
      CROSS JOIN LATERAL public.checkin_summary_of(t.event_id) s
     WHERE t.event_id = ANY (watched);
    -- Each view also goes, whole, to the channel of each console of the event heard from lately: a
    -- console that hears it reads nothing. Sent before the batch hints, so a console has the rows before
    -- it hears of the batch. Not when one would not fit a notification, nor when all of them would put
    -- more than 64 kB a flush on the notification queue, nor while that queue is filling (a listener that
    -- stopped reading holds it): the consoles then read the view by number.
    IF pg_notification_queue_usage() < 0.05 THEN
      FOR pushed IN
        SELECT (to_jsonb(v) - 'made_at' || jsonb_build_object('v', 1))::text AS payload,
               ARRAY(SELECT c.channel FROM public.realtime_feed_consoles c
                      WHERE c.event_id = v.event_id AND c.seen_at > now() - interval '15 seconds') AS channels
          FROM public.realtime_batch_views v
          JOIN unnest(touched_events, touched_batches) AS t(event_id, batch)
            ON v.event_id = t.event_id AND v.batch = t.batch
      LOOP
        IF octet_length(pushed.payload) <= 7000
           AND octet_length(pushed.payload) * cardinality(pushed.channels) <= 65536 THEN
          FOREACH channel IN ARRAY pushed.channels LOOP
            PERFORM pg_notify(channel, pushed.payload);
          END LOOP;
        END IF;
      END LOOP;
    END IF;
  END IF;
  FOR i IN 1 .. cardinality(hint_events) LOOP
    batch := CASE WHEN hint_events[i] = ANY (watched)
                  THEN touched_batches[array_position(touched_events, hint_events[i])] END;
    IF hint_streams[i] = 'event_checkins' THEN
      PERFORM public.realtime_announce('event_checkins', hint_events[i], c_lo, c_hi, c_late, hint_counts[i], batch);
    ELSE
      PERFORM public.realtime_announce('refused_scans', hint_events[i], r_lo, r_hi, r_late, hint_counts[i], batch);
    END IF;
  END LOOP;
  RETURN sent;
END
$$;

-- Views older than a minute go (each event's newest stays: it says which batch the totals are at), and
-- consoles not heard from for a minute. Off the flush's path, which it once held up for tens of
-- milliseconds every 64th batch: the worker's sweep calls it every second, and a console that flushes in
-- the worker's place after its flush.
CREATE FUNCTION realtime_prune() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  DELETE FROM public.realtime_batch_views v
   WHERE v.made_at < now() - interval '1 minute'
     AND EXISTS (SELECT 1 FROM public.realtime_batch_views n WHERE n.event_id = v.event_id AND n.batch > v.batch);
  DELETE FROM public.realtime_feed_consoles c WHERE c.seen_at < now() - interval '1 minute';
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_prune() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_prune() TO eventos_worker;

-- A console's flush, for when no worker runs (V9's, restated whole): it prunes too.
CREATE OR REPLACE FUNCTION realtime_flush_for_console() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  sent integer;
BEGIN
  IF (SELECT seen_at FROM public.worker_heartbeat) > clock_timestamp() - interval '10 seconds' THEN
    RETURN 0;
  END IF;
  sent := public.realtime_flush();
  PERFORM public.realtime_prune();
  RETURN sent;
END
$$;

-- A console's batches by number, oldest first. A batch not among the answers was not made or is gone:
-- the console reads its range itself.
CREATE FUNCTION realtime_batch_views(p_event uuid, p_batches bigint[])
RETURNS TABLE (batch bigint, expected bigint, checked_in bigint, present bigint, gate_names text[],
               gate_totals bigint[], gate_recent bigint[], arrivals bigint[], problems_15_min bigint,
               as_of timestamptz, checkins jsonb, problems jsonb, sessions uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  -- The rule of row security on the check-ins, refused scans, attendees, tickets and sessions: any
  -- active member of the event's team. Anyone else gets nothing here.
  IF cardinality(p_batches) > 256
     OR NOT EXISTS (SELECT 1 FROM public.event_teams t JOIN public.profiles p ON p.id = t.member_id
                     WHERE t.event_id = p_event AND p.login_role = session_user AND p.deleted_at IS NULL
                       AND t.status = 'active') THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT v.batch, v.expected, v.checked_in, v.present, v.gate_names, v.gate_totals, v.gate_recent, v.arrivals,
         v.problems_15_min, v.as_of, v.checkins, v.problems, v.sessions
    FROM public.realtime_batch_views v
   WHERE v.event_id = p_event AND v.batch = ANY (p_batches)
   ORDER BY v.batch;
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_batch_views(uuid, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_batch_views(uuid, bigint[]) TO eventos_operator;

-- The gate's scan in two statements: check_in_by_code() reads the gate's permission and the ticket
-- behind the code (its attendee and type) in one, and hands them to checkin_admit_ticket(), which no
-- longer reads the ticket again; checkin_admit() (a check-in by attendee, as at the desk) reads it and
-- does the same. Two statements and a function call fewer a scan (restated whole from V10).
CREATE TYPE checkin_ticket AS (
  id              uuid,
  event_id        uuid,
  status          text,
  attendee_id     uuid,
  attendee_status text,
  name            text,
  ticket_type     text
);

CREATE FUNCTION public.checkin_admit_ticket(p_event uuid, p_session uuid, t public.checkin_ticket, p_code text, p_gate text, p_method text)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  s record;
  open_entry record;
  new_id uuid;
  new_time timestamptz;
  result public.checkin_result;
BEGIN
  IF t.event_id <> p_event THEN
    RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'wrong_event',
                           'ticket is for another event', t.id);
  END IF;
  IF t.status = 'void' THEN
    RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'ticket_void', 'ticket is void', t.id, t.attendee_id);
  END IF;
  IF t.status = 'refunded' THEN
    RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'ticket_refunded', 'ticket was refunded', t.id, t.attendee_id);
  END IF;
  IF t.attendee_status <> 'registered' THEN
    RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'attendee_cancelled',
                           format('%s is %s', t.name, t.attendee_status), t.id, t.attendee_id);
  END IF;

  IF p_session IS NOT NULL THEN
    -- The session row serializes its door, so "present" never passes capacity.
    SELECT id, event_id, title, status, max_attendees, present_count, registration_required INTO s
      FROM public.sessions WHERE id = p_session FOR NO KEY UPDATE;
    IF NOT FOUND OR s.event_id <> p_event THEN
      RETURN public.checkin_refusal(p_event, NULL, p_code, p_gate, p_method, 'wrong_event',
                             'that session is not part of this event', t.id, t.attendee_id);
    END IF;
    IF s.status IN ('completed', 'cancelled') THEN
      RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'session_not_open',
                             format('"%s" is %s', s.title, s.status), t.id, t.attendee_id);
    END IF;
    IF s.registration_required AND NOT EXISTS (
         SELECT 1 FROM public.session_registrations
          WHERE session_id = p_session AND attendee_id = t.attendee_id AND status = 'registered') THEN
      RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'not_registered',
                             format('%s is not registered for "%s"', t.name, s.title), t.id, t.attendee_id);
    END IF;
  END IF;

  -- At the doors the insert below finds an open entry itself (ON CONFLICT), so it is not looked up
  -- first; a session's door must know before its capacity check. Two spellings so each uses its unique
  -- partial index (IS NOT DISTINCT FROM would use neither).
  IF p_session IS NOT NULL THEN
    SELECT id, check_in_time, gate INTO open_entry FROM public.event_checkins
     WHERE session_id = p_session AND attendee_id = t.attendee_id AND is_present;
  END IF;
  IF p_session IS NULL OR NOT FOUND THEN
    IF p_session IS NOT NULL THEN
      IF s.max_attendees IS NOT NULL AND s.present_count >= s.max_attendees THEN
        RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'session_full',
                               format('session is full: %s of %s present', s.present_count, s.max_attendees),
                               t.id, t.attendee_id);
      END IF;
    END IF;
    IF p_session IS NULL THEN
      INSERT INTO public.event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
      VALUES (p_event, t.attendee_id, t.id, p_gate, p_method, left(p_code, 512), p_gate)
      ON CONFLICT (event_id, attendee_id) WHERE is_present AND session_id IS NULL DO NOTHING
      RETURNING id, check_in_time INTO new_id, new_time;
    ELSE
      INSERT INTO public.event_checkins (event_id, attendee_id, session_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
      VALUES (p_event, t.attendee_id, p_session, t.id, p_gate, p_method, left(p_code, 512), p_gate)
      ON CONFLICT (session_id, attendee_id) WHERE is_present AND session_id IS NOT NULL DO NOTHING
      RETURNING id, check_in_time INTO new_id, new_time;
    END IF;
    IF new_id IS NOT NULL THEN
      result.accepted := true;
      result.reason_code := 'accepted';
      result.message := format('%s checked in', t.name);
      result.checkin_id := new_id;
      result.attendee_id := t.attendee_id;
      result.attendee_name := t.name;
      result.ticket_type := t.ticket_type;
      result.checked_in_at := new_time;
      RETURN result;
    END IF;
    -- Another gate admitted the same person a moment ago: their entry is the one that stands.
    IF p_session IS NULL THEN
      SELECT id, check_in_time, gate INTO open_entry FROM public.event_checkins
       WHERE event_id = p_event AND attendee_id = t.attendee_id AND is_present AND session_id IS NULL;
    ELSE
      SELECT id, check_in_time, gate INTO open_entry FROM public.event_checkins
       WHERE session_id = p_session AND attendee_id = t.attendee_id AND is_present;
    END IF;
  END IF;
  RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'already_checked_in',
    format('already checked in at %s%s', public.event_local_time(p_event, open_entry.check_in_time),
           CASE WHEN open_entry.gate IS NOT NULL THEN ' at ' || open_entry.gate ELSE '' END),
    t.id, t.attendee_id, open_entry.id);
END
$function$;

REVOKE EXECUTE ON FUNCTION checkin_admit_ticket(uuid, uuid, checkin_ticket, text, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.checkin_admit(p_event uuid, p_session uuid, p_ticket uuid, p_code text, p_gate text, p_method text)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  t public.checkin_ticket;
BEGIN
  SELECT tk.id, tk.event_id, tk.status, tk.attendee_id, a.status,
         btrim(a.first_name || ' ' || a.last_name), tt.name
    INTO t
    FROM public.tickets tk JOIN public.attendees a ON a.id = tk.attendee_id JOIN public.ticket_types tt ON tt.id = tk.ticket_type_id
   WHERE tk.id = p_ticket;
  RETURN public.checkin_admit_ticket(p_event, p_session, t, p_code, p_gate, p_method);
END
$function$;

CREATE OR REPLACE FUNCTION public.check_in_by_code(p_event uuid, p_code text, p_gate text DEFAULT NULL::text, p_method text DEFAULT 'qr_code'::text, p_session uuid DEFAULT NULL::uuid)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  scanned text := btrim(p_code, E' \t\r\n');
  allowed boolean;
  t public.checkin_ticket;
BEGIN
  -- One statement for the gate's own permission and the ticket behind the code (with its attendee and
  -- type, as admitting needs them); anyone without the permission goes through the general check for
  -- its refusal.
  SELECT may.ok, tk.id, tk.event_id, tk.status, tk.attendee_id, a.status,
         btrim(a.first_name || ' ' || a.last_name), tt.name
    INTO allowed, t.id, t.event_id, t.status, t.attendee_id, t.attendee_status, t.name, t.ticket_type
    FROM (SELECT EXISTS (SELECT 1 FROM public.event_teams m JOIN public.profiles p ON p.id = m.member_id
                          WHERE m.event_id = p_event AND p.login_role = session_user AND p.deleted_at IS NULL
                            AND m.status = 'active'
                            AND ('check_in_attendees' = ANY (m.permissions) OR 'manage_event' = ANY (m.permissions)))
                 AS ok) may
    LEFT JOIN (public.tickets tk
               LEFT JOIN public.attendees a ON a.id = tk.attendee_id
               LEFT JOIN public.ticket_types tt ON tt.id = tk.ticket_type_id)
      ON tk.code = scanned;
  IF NOT allowed THEN
    PERFORM public.require_permission(p_event, 'check_in_attendees');
  END IF;
  IF p_method IS NULL OR p_method NOT IN ('qr_code', 'manual', 'nfc', 'app') THEN
    PERFORM public.refuse('invalid_method', format('check-in method must be qr_code, manual, nfc or app, not %s', coalesce(p_method, 'nothing')));
  END IF;
  IF scanned IS NULL OR scanned = '' THEN
    RETURN public.checkin_refusal(p_event, p_session, coalesce(p_code, ''), p_gate, p_method, 'invalid_code', 'empty scan');
  END IF;
  IF length(scanned) > 128 OR scanned !~ '^[[:graph:]]+$' THEN
    RETURN public.checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'invalid_code',
      CASE WHEN length(scanned) > 128 THEN format('not a ticket code (%s characters)', length(scanned))
           ELSE 'not a ticket code (it holds spaces or control characters)' END);
  END IF;
  IF t.id IS NULL OR (t.event_id <> p_event AND NOT public.event_visible(t.event_id)) THEN
    RETURN public.checkin_refusal(p_event, p_session, scanned, p_gate, p_method, 'unknown_code', 'unknown ticket code');
  END IF;
  RETURN public.checkin_admit_ticket(p_event, p_session, t, scanned, p_gate, p_method);
END
$function$;
