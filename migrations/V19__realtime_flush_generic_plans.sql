-- realtime_flush() plans its statements once, not on every flush. With plan_cache_mode left to
-- PostgreSQL, its statements (whose parameters are the batch's transaction range and arrays) were
-- planned again on every call: with 8 gates scanning through the API at about 3,300 a second, planning
-- was 35% of the flushing backend's CPU (perf, 6 s of the worker's backend), and a flush cost 2.2 ms of
-- server CPU; with generic plans, 1.0 ms (12 s of 8 API scanners on a 100,000-attendee event: the
-- worker's backend used 136 ticks instead of 186 while making 1,304 batches instead of 880).
-- The batch views keep plans made for each flush's values, in a function of their own (below).
-- tests/realtime_totals.rs counts the rows one flush reads, views included.
-- (V15's function, restated whole.)

-- The batch views of one flush: their own statement, planned for each flush's values. Its "newest 200
-- of the batch" needs them: planned generically, it walked the event's feed index and filtered on the
-- transaction (450 to 750 ms a flush at 400,000 attendees, and compiled by JIT every time).
CREATE FUNCTION realtime_make_views(touched_events uuid[], touched_batches bigint[], watched uuid[],
                                   c_lo xid8, c_hi xid8, c_late xid8[], r_lo xid8, r_hi xid8, r_late xid8[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
SET plan_cache_mode = auto
SET jit = off
AS $$
BEGIN
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
END
$$;
REVOKE EXECUTE ON FUNCTION realtime_make_views(uuid[], bigint[], uuid[], xid8, xid8, xid8[], xid8, xid8, xid8[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION realtime_flush() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
-- Every read here is an index range by transaction id. On a fresh event day the statistics say the
-- tables are empty, and a plan kept from then would scan them whole on every flush as they grow.
SET enable_seqscan = off
-- Each statement planned once, not on every flush; and never compiled (a flush is small work, but a
-- generic plan's estimates can pass JIT's cost thresholds).
SET plan_cache_mode = force_generic_plan
SET jit = off
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
                 date_trunc('minute', e.check_in_time) AS minute, e.check_in_time AS at,
                 NOT (e.checkout_xid IS NOT NULL AND e.checkout_xid < hi AND NOT e.checkout_xid = ANY (still)) AS present
            FROM public.event_checkins e
           WHERE e.created_xid >= lo AND e.created_xid < hi AND NOT e.created_xid = ANY (skips)
             AND e.session_id IS NULL
          UNION ALL
          SELECT e.event_id, e.attendee_id, coalesce(e.gate, '(no gate)'),
                 date_trunc('minute', e.check_in_time), e.check_in_time,
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
          INSERT INTO public.checkin_gate_totals AS t (event_id, gate, entries, last_at)
          SELECT event_id, gate, count(*), max(at) FROM born GROUP BY event_id, gate
          ON CONFLICT (event_id, gate) DO UPDATE
            SET entries = t.entries + EXCLUDED.entries, last_at = greatest(t.last_at, EXCLUDED.last_at)
        )
        INSERT INTO public.checkin_gate_minutes AS t (event_id, minute, gate, entries)
        SELECT event_id, minute, gate, count(*) FROM born GROUP BY event_id, minute, gate
        ON CONFLICT (event_id, minute, gate) DO UPDATE SET entries = t.entries + EXCLUDED.entries;
      ELSE
        FOR changed IN
          WITH touched AS (
            SELECT event_id, scanned_at, coalesce(gate, '(no gate)') AS gate FROM public.refused_scans
             WHERE created_xid >= lo AND created_xid < hi AND NOT created_xid = ANY (skips)
            UNION ALL
            SELECT event_id, scanned_at, coalesce(gate, '(no gate)') FROM public.refused_scans
             WHERE cardinality(lates) > 0 AND created_xid = ANY (lates)
          ), minutes AS (
            INSERT INTO public.refusal_minutes AS t (event_id, minute, refusals)
            SELECT event_id, date_trunc('minute', scanned_at), count(*) FROM touched GROUP BY 1, 2
            ON CONFLICT (event_id, minute) DO UPDATE SET refusals = t.refusals + EXCLUDED.refusals
          ), gate_minutes AS (
            INSERT INTO public.refusal_gate_minutes AS t (event_id, minute, gate, refusals)
            SELECT event_id, date_trunc('minute', scanned_at), gate, count(*) FROM touched GROUP BY 1, 2, 3
            ON CONFLICT (event_id, minute, gate) DO UPDATE SET refusals = t.refusals + EXCLUDED.refusals
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
    PERFORM public.realtime_make_views(touched_events, touched_batches, watched, c_lo, c_hi, c_late, r_lo, r_hi, r_late);
    -- Each view also goes to the channels of the event's consoles heard from lately, before the batch
    -- hints, so a console has the rows before it hears of the batch (realtime_push()).
    PERFORM public.realtime_push(touched_events, touched_batches);
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

