-- The flusher's plans hold at any size.
--
-- The worker keeps one connection all day, so PL/pgSQL keeps the plans of realtime_flush() from the
-- first flushes, made when the doors opened on a nearly empty table. The totals' "first counted entry
-- of this attendee?" test was a NOT EXISTS; planned on that empty table it became an anti join that
-- read every earlier entry on every flush (tests/realtime_totals.rs: 15,092 rows read to flush 20
-- check-ins among 5,029), which took a third of the gates' throughput at 8 scanners. It is now a probe
-- per attendee that no statistics can turn into a scan: a LATERAL ... LIMIT 1 (never flattened into a
-- join) whose only indexable condition is the attendee, so it reads that attendee's own entries through
-- event_checkins_attendee_id_idx. Nothing else changes.

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
