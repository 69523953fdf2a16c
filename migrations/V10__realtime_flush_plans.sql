-- The flusher's plans hold at any size.
--
-- The worker keeps one connection all day, so PL/pgSQL keeps the plans of realtime_flush() from the
-- first flushes, made when the doors opened on a nearly empty table. The totals' "first counted entry
-- of this attendee?" test was a NOT EXISTS; planned on that empty table it became an anti join that
-- read every earlier entry on every flush (tests/realtime_totals.rs: 15,092 rows read to flush 20
-- check-ins among 5,029), which took a third of the gates' throughput at 8 scanners. It is now a probe
-- per attendee that no statistics can turn into a scan: a LATERAL ... LIMIT 1 (never flattened into a
-- join) whose only indexable condition is the attendee, so it reads that attendee's own entries through
-- event_checkins_attendee_id_idx.
--
-- check_in_by_code() checks the gate's permission in one statement of its own instead of through
-- require_permission() -> has_event_permission() -> member_event_ids(), three nested functions that each
-- save and restore settings on every scan; the same rule (an active member, not deleted, holding
-- check_in_attendees or manage_event), and the same refusal for anyone else. checkin_admit() no longer
-- looks for an open entry at the doors before inserting: the insert's ON CONFLICT finds it.
--
-- A check-in's place is one thing under two names: the seed's `location` and the console's `gate`. A
-- client that followed the seed wrote only `location`, and the console showed "-" for it (in the feed and
-- in the per-gate totals). The check-in guard now fills each from the other, and entries written so far
-- get their gate from their location (their events' totals recounted).

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

CREATE OR REPLACE FUNCTION public.check_in_by_code(p_event uuid, p_code text, p_gate text DEFAULT NULL::text, p_method text DEFAULT 'qr_code'::text, p_session uuid DEFAULT NULL::uuid)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  ticket uuid;
  ticket_event uuid;
  scanned text := btrim(p_code, E' \t\r\n');
BEGIN
  -- The gate's own permission, read here in one statement (the general check is three nested
  -- functions, each switching settings, on every scan); anyone else goes through it for its refusal.
  IF NOT EXISTS (SELECT 1 FROM public.event_teams t JOIN public.profiles p ON p.id = t.member_id
                  WHERE t.event_id = p_event AND p.login_role = session_user AND p.deleted_at IS NULL
                    AND t.status = 'active'
                    AND ('check_in_attendees' = ANY (t.permissions) OR 'manage_event' = ANY (t.permissions))) THEN
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
  SELECT id, event_id INTO ticket, ticket_event FROM public.tickets WHERE code = scanned;
  IF NOT FOUND OR (ticket_event <> p_event AND NOT public.event_visible(ticket_event)) THEN
    RETURN public.checkin_refusal(p_event, p_session, scanned, p_gate, p_method, 'unknown_code', 'unknown ticket code');
  END IF;
  RETURN public.checkin_admit(p_event, p_session, ticket, scanned, p_gate, p_method);
END
$function$;

-- How many people an announcement reaches, counted without listing them. The Announcements desk
-- showed count(*) of announcement_recipients() for every announcement on every read: at 100,000
-- attendees that listed the whole audience for each of them (and compiled it with JIT) and the read took
-- 13 to 20 s (eventos bench, desk reads), past the console's 15 s limit. The whole event's attendees
-- are the count attendee_totals keeps (V9); only a session audience is counted, through its sessions.
-- The same audience as announcement_recipients(), compared in tests/rules.rs. NULL for an announcement
-- the caller may not see.
CREATE FUNCTION announcement_reach(p_announcement uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  a record;
  people bigint := 0;
BEGIN
  SELECT ea.event_id, coalesce(ea.target_audience, 'all') AS audience,
         coalesce(cardinality(ea.target_sessions), 0) > 0 AS by_session, ea.target_sessions
    INTO a FROM public.event_announcements ea WHERE ea.id = p_announcement;
  IF NOT FOUND OR NOT public.event_visible(a.event_id) THEN
    RETURN NULL;
  END IF;
  IF a.audience IN ('all', 'attendees') THEN
    IF a.by_session THEN
      people := people + (
        SELECT count(*) FROM public.attendees at
         WHERE at.id IN (SELECT r.attendee_id FROM public.session_registrations r
                          WHERE r.session_id = ANY (a.target_sessions) AND r.status = 'registered'
                         UNION
                         SELECT c.attendee_id FROM public.event_checkins c
                          WHERE c.session_id = ANY (a.target_sessions) AND c.is_present)
           AND at.event_id = a.event_id AND at.status = 'registered' AND at.deleted_at IS NULL);
    ELSE
      people := people + coalesce((SELECT t.registered FROM public.attendee_totals t WHERE t.event_id = a.event_id), 0);
    END IF;
  END IF;
  IF a.audience IN ('all', 'speakers') THEN
    people := people + (
      SELECT count(*) FROM public.speakers sp
       WHERE sp.event_id = a.event_id AND sp.status <> 'cancelled'
         AND (NOT a.by_session
              OR EXISTS (SELECT 1 FROM public.sessions s WHERE s.speaker_id = sp.id AND s.id = ANY (a.target_sessions))));
  END IF;
  IF a.audience IN ('all', 'sponsors') AND NOT a.by_session THEN
    people := people + (
      SELECT count(*) FROM public.sponsors so
       WHERE so.event_id = a.event_id AND so.status = 'confirmed' AND so.deleted_at IS NULL);
  END IF;
  IF a.audience IN ('all', 'organizers') AND NOT a.by_session THEN
    people := people + (SELECT count(*) FROM public.event_teams t WHERE t.event_id = a.event_id AND t.status = 'active');
  END IF;
  RETURN people;
END
$$;
REVOKE EXECUTE ON FUNCTION announcement_reach(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION announcement_reach(uuid) TO eventos_operator;

CREATE OR REPLACE FUNCTION public.checkin_admit(p_event uuid, p_session uuid, p_ticket uuid, p_code text, p_gate text, p_method text)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  t record;
  s record;
  open_entry record;
  new_id uuid;
  new_time timestamptz;
  result public.checkin_result;
BEGIN
  SELECT tk.id, tk.event_id, tk.status, tk.attendee_id, a.status AS attendee_status,
         btrim(a.first_name || ' ' || a.last_name) AS name, tt.name AS ticket_type
    INTO t
    FROM public.tickets tk JOIN public.attendees a ON a.id = tk.attendee_id JOIN public.ticket_types tt ON tt.id = tk.ticket_type_id
   WHERE tk.id = p_ticket;
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
  -- The place: the seed's schema calls it location, the console gate. A client that writes either one
  -- is shown at that place; each fills the other.
  NEW.gate := coalesce(NEW.gate, NEW.location);
  NEW.location := coalesce(NEW.location, NEW.gate);

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

-- Entries written so far with a location and no gate: a one-off correction by the schema's owner, made
-- with the table's triggers off, so it is not an operator's act in the audit trail and rewrites no
-- row's transaction (a console shows it from its next snapshot). A large event would otherwise write an
-- audit entry a row.
ALTER TABLE event_checkins DISABLE TRIGGER USER;
CREATE TEMPORARY TABLE gate_filled ON COMMIT DROP AS
  WITH filled AS (
    UPDATE event_checkins SET gate = location WHERE gate IS NULL AND location IS NOT NULL RETURNING event_id
  )
  SELECT DISTINCT event_id FROM filled;
ALTER TABLE event_checkins ENABLE TRIGGER USER;
-- Their per-gate totals move from "(no gate)" to the place.
SELECT checkin_totals_recount(event_id) FROM gate_filled;
