-- Gate watch: every gate's rate, last scan and refusal share, and an alert when a gate that was
-- scanning goes silent while the others still scan (a scanner down, a queue blocked) or when its
-- refusals jump (a wrong ticket batch, a broken scanner). Thresholds are per event; an operator
-- acknowledges an alert (audited). All of it is kept as the totals are: the flusher keeps each gate's
-- last entry and its refusals per minute, the worker's sweep judges every live event once a second
-- (gate_watch_sweep()), and a console reads a few kept rows (gate_watch()), never a recount.

------------------------------------------------------------------------------------------------------
-- What the flusher keeps per gate.
------------------------------------------------------------------------------------------------------

-- When the gate last let someone in (the newest entry announced).
ALTER TABLE checkin_gate_totals ADD COLUMN last_at TIMESTAMPTZ;
-- Refused scans per gate and minute, as checkin_gate_minutes keeps entries.
CREATE TABLE refusal_gate_minutes (
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  minute   TIMESTAMPTZ NOT NULL,
  gate     TEXT NOT NULL,
  refusals BIGINT NOT NULL DEFAULT 0 CHECK (refusals >= 0),
  PRIMARY KEY (event_id, minute, gate)
);
ALTER TABLE refusal_gate_minutes ENABLE ROW LEVEL SECURITY;
ALTER TABLE refusal_gate_minutes FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('refusal_gate_minutes');

------------------------------------------------------------------------------------------------------
-- Thresholds, one row per event (made with the event; the defaults are the columns' own).
------------------------------------------------------------------------------------------------------

CREATE TABLE gate_watch_settings (
  event_id          UUID PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
  -- A gate is silent when it has let nobody in for this long...
  silent_after      INTERVAL NOT NULL DEFAULT interval '3 minutes'
                    CHECK (silent_after >= interval '1 minute' AND silent_after <= interval '2 hours'),
  -- ...after letting in at least this many a minute over the ten minutes before, while the other
  -- gates still let people in (a lull at every gate is no alert).
  busy_per_minute   NUMERIC(6,2) NOT NULL DEFAULT 2 CHECK (busy_per_minute > 0 AND busy_per_minute <= 1000),
  -- Rates and refusal shares are over this window.
  watch_window      INTERVAL NOT NULL DEFAULT interval '5 minutes'
                    CHECK (watch_window >= interval '1 minute' AND watch_window <= interval '1 hour'),
  -- Refusals are an alert from this share of a gate's scans in the window, with at least this many
  -- scans (so three bad codes in a quiet minute are not one); the alert clears below half the share.
  refusal_percent   NUMERIC(5,2) NOT NULL DEFAULT 25 CHECK (refusal_percent > 0 AND refusal_percent <= 100),
  refusal_min_scans INTEGER NOT NULL DEFAULT 12 CHECK (refusal_min_scans >= 1 AND refusal_min_scans <= 100000),
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE gate_watch_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE gate_watch_settings FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('gate_watch_settings');
CREATE TRIGGER gate_watch_settings_updated_at BEFORE UPDATE ON gate_watch_settings
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
INSERT INTO gate_watch_settings (event_id) SELECT id FROM events;

CREATE FUNCTION gate_watch_settings_made() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  -- Owner-rights code acts only for its own table (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME <> 'events' THEN
    PERFORM public.refuse('trigger_relation', 'gate_watch_settings_made() serves events only');
  END IF;
  INSERT INTO public.gate_watch_settings (event_id) VALUES (NEW.id) ON CONFLICT (event_id) DO NOTHING;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION gate_watch_settings_made() FROM PUBLIC;
CREATE TRIGGER events_gate_watch_settings AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION gate_watch_settings_made();

-- An organizer sets the event's thresholds (NULL keeps one as it is).
CREATE FUNCTION set_gate_watch(p_event uuid, p_silent_minutes integer DEFAULT NULL,
                               p_busy_per_minute numeric DEFAULT NULL, p_refusal_percent numeric DEFAULT NULL,
                               p_refusal_min_scans integer DEFAULT NULL, p_window_minutes integer DEFAULT NULL)
RETURNS gate_watch_settings
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s public.gate_watch_settings;
BEGIN
  PERFORM public.require_permission(p_event, 'manage_event');
  IF p_silent_minutes IS NOT NULL AND (p_silent_minutes < 1 OR p_silent_minutes > 120) THEN
    PERFORM public.refuse('gate_watch_range', format('a gate is silent after 1 to 120 minutes, not %s', p_silent_minutes));
  END IF;
  IF p_window_minutes IS NOT NULL AND (p_window_minutes < 1 OR p_window_minutes > 60) THEN
    PERFORM public.refuse('gate_watch_range', format('the window is 1 to 60 minutes, not %s', p_window_minutes));
  END IF;
  IF p_busy_per_minute IS NOT NULL AND (p_busy_per_minute <= 0 OR p_busy_per_minute > 1000) THEN
    PERFORM public.refuse('gate_watch_range', format('a busy gate lets in more than 0 and at most 1,000 a minute, not %s', p_busy_per_minute));
  END IF;
  IF p_refusal_percent IS NOT NULL AND (p_refusal_percent <= 0 OR p_refusal_percent > 100) THEN
    PERFORM public.refuse('gate_watch_range', format('the refusal share is more than 0 and at most 100 percent, not %s', p_refusal_percent));
  END IF;
  IF p_refusal_min_scans IS NOT NULL AND (p_refusal_min_scans < 1 OR p_refusal_min_scans > 100000) THEN
    PERFORM public.refuse('gate_watch_range', format('the scans a refusal share needs are 1 to 100,000, not %s', p_refusal_min_scans));
  END IF;
  UPDATE public.gate_watch_settings
     SET silent_after = coalesce(make_interval(mins => p_silent_minutes), silent_after),
         busy_per_minute = coalesce(p_busy_per_minute, busy_per_minute),
         refusal_percent = coalesce(p_refusal_percent, refusal_percent),
         refusal_min_scans = coalesce(p_refusal_min_scans, refusal_min_scans),
         watch_window = coalesce(make_interval(mins => p_window_minutes), watch_window)
   WHERE event_id = p_event
  RETURNING * INTO s;
  RETURN s;
END
$$;
REVOKE EXECUTE ON FUNCTION set_gate_watch(uuid, integer, numeric, numeric, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_gate_watch(uuid, integer, numeric, numeric, integer, integer) TO eventos_operator;

------------------------------------------------------------------------------------------------------
-- Alerts: raised and cleared by the sweep, acknowledged by an operator. At most one open alert per
-- gate and kind.
------------------------------------------------------------------------------------------------------

CREATE TABLE gate_alerts (
  id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  gate            TEXT NOT NULL CHECK (length(gate) <= 100),
  kind            TEXT NOT NULL CHECK (kind IN ('silent', 'refusals')),
  -- What the sweep saw, in a sentence, when it raised the alert.
  detail          TEXT NOT NULL,
  raised_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  cleared_at      TIMESTAMPTZ CHECK (cleared_at >= raised_at),
  acknowledged_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  acknowledged_at TIMESTAMPTZ CHECK (acknowledged_at >= raised_at)
);
CREATE UNIQUE INDEX gate_alerts_one_open ON gate_alerts (event_id, gate, kind) WHERE cleared_at IS NULL;
CREATE INDEX gate_alerts_event_raised_idx ON gate_alerts (event_id, raised_at DESC);
CREATE INDEX gate_alerts_acknowledged_by_idx ON gate_alerts (acknowledged_by);
ALTER TABLE gate_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE gate_alerts FORCE ROW LEVEL SECURITY;
-- Any active member of the event's team reads them, as the check-ins; only the owner's code writes.
SELECT security_owner_policy('gate_alerts');
CREATE POLICY gate_alerts_read ON gate_alerts FOR SELECT TO eventos_operator
  USING (event_id = ANY ((SELECT public.member_event_ids(NULL))::uuid[]));
GRANT SELECT ON gate_alerts TO eventos_operator;
SELECT realtime_attach('gate_alerts', 'event_id');

-- The sweep: for every event on now, raises the alerts its thresholds call for and clears those that
-- no longer hold. Safe to run from any number of workers and consoles at once (one open alert per gate
-- and kind). Returns how many it raised.
CREATE FUNCTION gate_watch_sweep() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  raised integer := 0;
  n integer;
  this_minute timestamptz := date_trunc('minute', now());
BEGIN
  -- Events that ended or stopped: nothing of theirs stays open.
  UPDATE public.gate_alerts a SET cleared_at = greatest(a.raised_at, least(now(), e.ends_at))
    FROM public.events e
   WHERE a.cleared_at IS NULL AND e.id = a.event_id
     AND (now() > e.ends_at OR e.deleted_at IS NOT NULL OR e.status IN ('cancelled', 'completed', 'archived'));

  -- A silent gate scanned again.
  UPDATE public.gate_alerts a SET cleared_at = now()
    FROM public.checkin_gate_totals g
   WHERE a.cleared_at IS NULL AND a.kind = 'silent'
     AND g.event_id = a.event_id AND g.gate = a.gate AND g.last_at > a.raised_at;

  -- Silent gates: nobody let in for silent_after, after at least busy_per_minute over the ten minutes
  -- before its last entry, while the event's other gates still let people in (within silent_after).
  WITH live AS (
    SELECT e.id, e.time_zone, s.silent_after, s.busy_per_minute
      FROM public.events e JOIN public.gate_watch_settings s ON s.event_id = e.id
     WHERE e.deleted_at IS NULL AND e.status NOT IN ('cancelled', 'completed', 'archived')
       AND now() BETWEEN e.starts_at AND e.ends_at
  ), quiet AS (
    SELECT l.id AS event_id, l.time_zone, g.gate, g.last_at, l.silent_after,
           (SELECT coalesce(sum(m.entries), 0) FROM public.checkin_gate_minutes m
             WHERE m.event_id = l.id AND m.gate = g.gate
               AND m.minute >= date_trunc('minute', g.last_at) - interval '10 minutes'
               AND m.minute <= g.last_at) AS before,
           (SELECT coalesce(sum(m.entries), 0) FROM public.checkin_gate_minutes m
             WHERE m.event_id = l.id AND m.gate <> g.gate
               AND m.minute >= date_trunc('minute', now() - l.silent_after)) AS others_since,
           l.busy_per_minute
      FROM live l JOIN public.checkin_gate_totals g ON g.event_id = l.id
     WHERE g.last_at < now() - l.silent_after AND g.gate <> '(no gate)'
  )
  INSERT INTO public.gate_alerts (event_id, gate, kind, detail)
  SELECT q.event_id, q.gate, 'silent',
         format('%s has let nobody in since %s (%s in the 10 minutes before; the other gates %s in the last %s minutes)',
                q.gate, to_char(q.last_at AT TIME ZONE q.time_zone, 'HH24:MI'), q.before, q.others_since,
                extract(epoch FROM q.silent_after)::integer / 60)
    FROM quiet q
   WHERE q.before >= q.busy_per_minute * 10 AND q.others_since >= 1
  ON CONFLICT (event_id, gate, kind) WHERE cleared_at IS NULL DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  raised := raised + n;

  -- Refusals: each gate's share of refused scans over the window.
  WITH live AS (
    SELECT e.id, s.watch_window, s.refusal_percent, s.refusal_min_scans
      FROM public.events e JOIN public.gate_watch_settings s ON s.event_id = e.id
     WHERE e.deleted_at IS NULL AND e.status NOT IN ('cancelled', 'completed', 'archived')
       AND now() BETWEEN e.starts_at AND e.ends_at
  ), scans AS (
    SELECT l.id AS event_id, x.gate, sum(x.entries) AS entries, sum(x.refusals) AS refusals,
           l.watch_window, l.refusal_percent, l.refusal_min_scans
      FROM live l
      JOIN LATERAL (
        SELECT m.gate, m.entries, 0::bigint AS refusals FROM public.checkin_gate_minutes m
         WHERE m.event_id = l.id AND m.minute > this_minute - l.watch_window
        UNION ALL
        SELECT r.gate, 0, r.refusals FROM public.refusal_gate_minutes r
         WHERE r.event_id = l.id AND r.minute > this_minute - l.watch_window
      ) x ON true
     GROUP BY l.id, x.gate, l.watch_window, l.refusal_percent, l.refusal_min_scans
  ), cleared AS (
    UPDATE public.gate_alerts a SET cleared_at = now()
      FROM live l
     WHERE a.cleared_at IS NULL AND a.kind = 'refusals' AND a.event_id = l.id
       AND NOT EXISTS (SELECT 1 FROM scans s
                        WHERE s.event_id = a.event_id AND s.gate = a.gate
                          AND s.refusals * 100 >= (s.entries + s.refusals) * s.refusal_percent / 2
                          AND s.entries + s.refusals > 0)
  )
  INSERT INTO public.gate_alerts (event_id, gate, kind, detail)
  SELECT s.event_id, s.gate, 'refusals',
         format('%s refused %s of its last %s scans (%s%%) in %s minutes', s.gate, s.refusals,
                s.entries + s.refusals, round(s.refusals * 100.0 / (s.entries + s.refusals)),
                extract(epoch FROM s.watch_window)::integer / 60)
    FROM scans s
   WHERE s.entries + s.refusals >= s.refusal_min_scans
     AND s.refusals * 100 >= (s.entries + s.refusals) * s.refusal_percent
     AND s.gate <> '(no gate)'
  ON CONFLICT (event_id, gate, kind) WHERE cleared_at IS NULL DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN raised + n;
END
$$;
REVOKE EXECUTE ON FUNCTION gate_watch_sweep() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gate_watch_sweep() TO eventos_worker;

-- Every gate of the event as the Check-ins desk shows it: entries in all, when it last let someone in,
-- its entries and refusals over the event's window and the refusal share, with the thresholds the
-- sweep judges by. For an active member of the event's team (anyone else gets nothing), read from the
-- kept rows only.
CREATE FUNCTION gate_watch(p_event uuid)
RETURNS TABLE (gate text, entries bigint, last_at timestamptz, window_entries bigint, window_refusals bigint,
               refusal_percent integer, window_minutes integer, silent_minutes integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s public.gate_watch_settings;
  this_minute timestamptz := date_trunc('minute', now());
BEGIN
  IF NOT (p_event = ANY (public.member_event_ids()) OR public.is_administrator()) THEN
    RETURN;
  END IF;
  SELECT * INTO s FROM public.gate_watch_settings w WHERE w.event_id = p_event;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH recent AS (
    SELECT m.gate, sum(m.entries) AS entries, 0::numeric AS refusals FROM public.checkin_gate_minutes m
     WHERE m.event_id = p_event AND m.minute > this_minute - s.watch_window GROUP BY m.gate
    UNION ALL
    SELECT r.gate, 0, sum(r.refusals) FROM public.refusal_gate_minutes r
     WHERE r.event_id = p_event AND r.minute > this_minute - s.watch_window GROUP BY r.gate
  ), per_gate AS (
    SELECT r.gate, sum(r.entries)::bigint AS entries, sum(r.refusals)::bigint AS refusals
      FROM recent r GROUP BY r.gate
  ), gates AS (
    SELECT g.gate FROM public.checkin_gate_totals g WHERE g.event_id = p_event
    UNION
    SELECT p.gate FROM per_gate p
  )
  SELECT x.gate, coalesce(t.entries, 0), t.last_at, coalesce(p.entries, 0), coalesce(p.refusals, 0),
         CASE WHEN coalesce(p.entries, 0) + coalesce(p.refusals, 0) > 0
              THEN round(p.refusals * 100.0 / (p.entries + p.refusals))::integer END,
         (extract(epoch FROM s.watch_window) / 60)::integer,
         (extract(epoch FROM s.silent_after) / 60)::integer
    FROM gates x
    LEFT JOIN public.checkin_gate_totals t ON t.event_id = p_event AND t.gate = x.gate
    LEFT JOIN per_gate p ON p.gate = x.gate
   ORDER BY coalesce(t.entries, 0) DESC, x.gate;
END
$$;
REVOKE EXECUTE ON FUNCTION gate_watch(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gate_watch(uuid) TO eventos_operator;

-- An operator at the doors acknowledges an alert: it is theirs to see to. Audited.
CREATE FUNCTION acknowledge_gate_alert(p_alert uuid) RETURNS gate_alerts
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  a public.gate_alerts;
BEGIN
  SELECT * INTO a FROM public.gate_alerts WHERE id = p_alert FOR UPDATE;
  PERFORM public.require_event(a.event_id, 'unknown_alert', 'no such gate alert');
  PERFORM public.require_permission(a.event_id, 'check_in_attendees');
  IF a.acknowledged_at IS NOT NULL THEN
    PERFORM public.refuse('alert_acknowledged', format('already acknowledged by %s at %s',
      public.profile_name(a.acknowledged_by), public.event_local_time(a.event_id, a.acknowledged_at)));
  END IF;
  UPDATE public.gate_alerts SET acknowledged_by = public.acting_profile_id(), acknowledged_at = now()
   WHERE id = p_alert RETURNING * INTO a;
  RETURN a;
END
$$;
REVOKE EXECUTE ON FUNCTION acknowledge_gate_alert(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION acknowledge_gate_alert(uuid) TO eventos_operator;

-- Acknowledging is audited as the transaction commits, like every audited change (V12).
CREATE CONSTRAINT TRIGGER gate_alerts_audit_acknowledged AFTER UPDATE OF acknowledged_at ON gate_alerts
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL)
  EXECUTE FUNCTION audit_transition('acknowledged');

-- audit_transition() (restated whole): it serves gate_alerts too.
CREATE OR REPLACE FUNCTION public.audit_transition()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  what text := TG_ARGV[0];
  old_j jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  rec jsonb := coalesce(new_j, old_j);
  action text;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_expenses', 'event_teams', 'event_announcements', 'event_waitlists', 'event_checkins', 'tickets', 'sessions', 'gate_alerts') THEN
    PERFORM public.refuse('trigger_relation', 'audit_transition() serves its own tables only');
  END IF;
  action := CASE
    WHEN what = 'status' THEN TG_TABLE_NAME || '.' || coalesce(new_j ->> 'status', 'deleted')
    WHEN what = 'team' THEN 'event_teams.' || lower(TG_OP)
    WHEN what = 'capacity' THEN 'sessions.capacity'
    WHEN what = 'checkin' AND TG_OP = 'INSERT' THEN 'event_checkins.manual_check_in'
    WHEN what = 'checkin' THEN 'event_checkins.check_out'
    WHEN what = 'acknowledged' THEN 'gate_alerts.acknowledged'
    ELSE TG_TABLE_NAME || '.' || lower(TG_OP)
  END;
  PERFORM public.audit_append(TG_TABLE_NAME, (rec ->> 'id')::uuid,
                       CASE WHEN TG_TABLE_NAME = 'events' THEN (rec ->> 'id')::uuid ELSE (rec ->> 'event_id')::uuid END,
                       action, old_j, new_j);
  RETURN NULL;
END
$function$;

-- checkin_totals_recount() (restated whole): each gate's last entry and its refusals per minute too.
CREATE OR REPLACE FUNCTION public.checkin_totals_recount(p_event uuid)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
  DELETE FROM public.refusal_gate_minutes WHERE event_id = p_event;
  WITH counted AS (
    SELECT e.attendee_id, coalesce(e.gate, '(no gate)') AS gate, date_trunc('minute', e.check_in_time) AS minute,
           e.check_in_time AS at,
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
    INSERT INTO public.checkin_gate_totals (event_id, gate, entries, last_at)
    SELECT p_event, gate, count(*), max(at) FROM counted GROUP BY gate
  )
  INSERT INTO public.checkin_gate_minutes (event_id, minute, gate, entries)
  SELECT p_event, minute, gate, count(*) FROM counted GROUP BY minute, gate;
  WITH refused AS (
    SELECT date_trunc('minute', s.scanned_at) AS minute, coalesce(s.gate, '(no gate)') AS gate
      FROM public.refused_scans s
     WHERE s.event_id = p_event
       AND (s.created_xid IS NULL OR public.realtime_announced(s.created_xid, r.flushed_below, r.pending))
  ), minutes AS (
    INSERT INTO public.refusal_minutes (event_id, minute, refusals)
    SELECT p_event, minute, count(*) FROM refused GROUP BY minute
  )
  INSERT INTO public.refusal_gate_minutes (event_id, minute, gate, refusals)
  SELECT p_event, minute, gate, count(*) FROM refused GROUP BY minute, gate;
END
$function$;

-- realtime_flush_for_console() (restated whole): a console flushing in the worker's place also sweeps
-- the gates, so alerts are raised with no worker running.
CREATE OR REPLACE FUNCTION public.realtime_flush_for_console()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  sent integer;
BEGIN
  IF (SELECT seen_at FROM public.worker_heartbeat) > clock_timestamp() - interval '10 seconds' THEN
    RETURN 0;
  END IF;
  sent := public.realtime_flush();
  PERFORM public.realtime_prune();
  PERFORM public.gate_watch_sweep();
  RETURN sent;
END
$function$;

-- Every event is recounted by the next flush, which fills each gate's last entry and its refusals per
-- minute from the rows.
INSERT INTO checkin_totals_dirty (event_id) SELECT event_id FROM checkin_totals ON CONFLICT DO NOTHING;

-- realtime_flush() (V13's, restated whole): the flusher keeps each gate's last entry
-- (checkin_gate_totals.last_at) and its refusals per minute (refusal_gate_minutes).
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

