-- An event's incident timeline: what a control room must reconstruct after the fact, in one list, from
-- the records the database already keeps (the audit trail, the gate alerts) and two of its own: the
-- periods when a console or the worker could not reach the database, and operators' incident notes.
-- No second log: a timeline row is read from where the fact is kept, never copied.

------------------------------------------------------------------------------------------------------
-- Periods without the database.
------------------------------------------------------------------------------------------------------

CREATE TABLE connection_outages (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL: the worker's (every event's).
  event_id    UUID REFERENCES events(id) ON DELETE CASCADE,
  who         TEXT NOT NULL CHECK (who IN ('console', 'worker')),
  reported_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  login       TEXT NOT NULL,
  lost_at     TIMESTAMPTZ NOT NULL,
  -- When the database heard of it again (the server's clock, never the reporter's).
  back_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  reason      TEXT CHECK (length(reason) <= 300),
  CHECK (back_at >= lost_at)
);
CREATE INDEX connection_outages_event_idx ON connection_outages (event_id, lost_at);
CREATE INDEX connection_outages_reported_by_idx ON connection_outages (reported_by);
ALTER TABLE connection_outages ENABLE ROW LEVEL SECURITY;
ALTER TABLE connection_outages FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('connection_outages');
SELECT realtime_attach('connection_outages', 'event_id');

-- A console back on the database says how long it had lost it, and the error it lost it with: a length on its own clock, so that both
-- ends are the server's (a console's clock may be off). Held to a day; attributed to its login; any
-- member may report.
CREATE FUNCTION report_console_outage(p_event uuid, p_lost_for interval, p_reason text DEFAULT NULL)
RETURNS connection_outages
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  o public.connection_outages;
  -- Read once: two reads of the clock would make the outage a few microseconds longer than reported.
  back timestamptz := clock_timestamp();
BEGIN
  IF NOT (p_event = ANY (public.member_event_ids()) OR public.is_administrator()) THEN
    PERFORM public.refuse('unknown_event', 'no such event');
  END IF;
  IF p_lost_for IS NULL OR p_lost_for < interval '0' OR p_lost_for > interval '1 day' THEN
    PERFORM public.refuse('outage_time', 'an outage lasts from no time to a day');
  END IF;
  INSERT INTO public.connection_outages (event_id, who, reported_by, login, lost_at, back_at, reason)
  VALUES (p_event, 'console', public.acting_profile_id(), session_user, back - p_lost_for,
          -- The reason is the link's error as the console heard it, written by no one: kept to its limit.
          back, left(p_reason, 300))
  RETURNING * INTO o;
  RETURN o;
END
$$;
REVOKE EXECUTE ON FUNCTION report_console_outage(uuid, interval, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_console_outage(uuid, interval, text) TO eventos_operator;

-- worker_heartbeat() (restated whole): a heartbeat after more than 10 s without one records the gap
-- (no worker ran, or the one that ran could not reach the database).
CREATE OR REPLACE FUNCTION public.worker_heartbeat()
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  before timestamptz;
BEGIN
  SELECT seen_at INTO before FROM public.worker_heartbeat FOR UPDATE;
  INSERT INTO public.worker_heartbeat AS h (only_row, seen_at) VALUES (true, now())
  ON CONFLICT (only_row) DO UPDATE SET seen_at = EXCLUDED.seen_at;
  IF before IS NOT NULL AND before < now() - interval '10 seconds' THEN
    INSERT INTO public.connection_outages (event_id, who, login, lost_at, back_at, reason)
    VALUES (NULL, 'worker', session_user, before, now(), 'no worker beat');
  END IF;
  PERFORM public.audit_chain(NULL);
END
$function$;

------------------------------------------------------------------------------------------------------
-- Incident notes: short, attributed, audited, never rewritten.
------------------------------------------------------------------------------------------------------

CREATE TABLE incident_notes (
  id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id   UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  author_id  UUID REFERENCES profiles(id) ON DELETE SET NULL,
  login      TEXT NOT NULL,
  written_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  note       TEXT NOT NULL CHECK (btrim(note) <> '' AND length(note) <= 500)
);
CREATE INDEX incident_notes_event_idx ON incident_notes (event_id, written_at);
CREATE INDEX incident_notes_author_idx ON incident_notes (author_id);
ALTER TABLE incident_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_notes FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('incident_notes');
SELECT realtime_attach('incident_notes', 'event_id');
CREATE TRIGGER incident_notes_no_update BEFORE UPDATE ON incident_notes
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Any active member of the event's team writes a note; it is audited as its transaction commits.
CREATE FUNCTION add_incident_note(p_event uuid, p_note text) RETURNS incident_notes
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  n public.incident_notes;
BEGIN
  IF NOT (p_event = ANY (public.member_event_ids()) OR public.is_administrator()) THEN
    PERFORM public.refuse('unknown_event', 'no such event');
  END IF;
  IF btrim(coalesce(p_note, '')) = '' THEN
    PERFORM public.refuse('incident_note', 'a note needs some text');
  END IF;
  IF length(btrim(p_note)) > 500 THEN
    PERFORM public.refuse('incident_note', format('a note is at most 500 characters, not %s', length(btrim(p_note))));
  END IF;
  INSERT INTO public.incident_notes (event_id, author_id, login, note)
  VALUES (p_event, public.acting_profile_id(), session_user, btrim(p_note))
  RETURNING * INTO n;
  RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION add_incident_note(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION add_incident_note(uuid, text) TO eventos_operator;

CREATE CONSTRAINT TRIGGER incident_notes_audit AFTER INSERT ON incident_notes
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_transition('note');

-- audit_transition() (restated whole, from V15): it serves incident_notes too.
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
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_expenses', 'event_teams', 'event_announcements', 'event_waitlists', 'event_checkins', 'tickets', 'sessions', 'gate_alerts', 'incident_notes') THEN
    PERFORM public.refuse('trigger_relation', 'audit_transition() serves its own tables only');
  END IF;
  action := CASE
    WHEN what = 'status' THEN TG_TABLE_NAME || '.' || coalesce(new_j ->> 'status', 'deleted')
    WHEN what = 'team' THEN 'event_teams.' || lower(TG_OP)
    WHEN what = 'capacity' THEN 'sessions.capacity'
    WHEN what = 'checkin' AND TG_OP = 'INSERT' THEN 'event_checkins.manual_check_in'
    WHEN what = 'checkin' THEN 'event_checkins.check_out'
    WHEN what = 'acknowledged' THEN 'gate_alerts.acknowledged'
    WHEN what = 'note' THEN 'incident_notes.written'
    ELSE TG_TABLE_NAME || '.' || lower(TG_OP)
  END;
  PERFORM public.audit_append(TG_TABLE_NAME, (rec ->> 'id')::uuid,
                       CASE WHEN TG_TABLE_NAME = 'events' THEN (rec ->> 'id')::uuid ELSE (rec ->> 'event_id')::uuid END,
                       action, old_j, new_j);
  RETURN NULL;
END
$function$;

------------------------------------------------------------------------------------------------------
-- The timeline.
------------------------------------------------------------------------------------------------------

-- The timeline reads an event's audit trail newest first.
CREATE INDEX audit_log_event_at_idx ON audit_log (event_id, at);

-- The event's timeline since `p_since`, newest first, at most 500 rows, of the kinds asked (NULL: all):
--   alerts    gate alerts raised, cleared and acknowledged (silent gates, refusal spikes)
--   doors     check-ins by hand (overriding the scanners)
--   exits     check-outs (as many as entries at a venue that scans people out: asked for on their own)
--   sessions  capacity changes and a session set live, done or cancelled
--   messages  announcements scheduled, sent or cancelled
--   money     expenses submitted, approved, rejected, paid
--   people    waitlist offers and their ends, tickets voided or refunded, team changes
--   outages   a console or the worker without the database
--   notes     operators' incident notes
-- For whoever may read the event's audit trail (its manage_event members, administrators); anyone else
-- gets nothing. Each row says when, what kind, who (by name where a profile acted) and what, in words.
CREATE FUNCTION incident_timeline(p_event uuid, p_since timestamptz DEFAULT '-infinity', p_kinds text[] DEFAULT NULL)
RETURNS TABLE (at timestamptz, kind text, who text, what text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NOT (p_event = ANY (public.member_event_ids('manage_event')) OR public.is_administrator()) THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH audited AS (
    -- The newest 500 of the kinds asked, read backwards along (event_id, at).
    SELECT a.at, a.action, a.actor_id, a.actor_role, coalesce(a.new_row, a.old_row) AS r, a.old_row AS o, k.kind
      FROM public.audit_log a
     CROSS JOIN LATERAL (SELECT CASE
             WHEN a.action LIKE 'gate_alerts.%' THEN 'alerts'
             WHEN a.action = 'event_checkins.check_out' THEN 'exits'
             WHEN a.action LIKE 'event_checkins.%' THEN 'doors'
             WHEN a.action LIKE 'sessions.%' THEN 'sessions'
             WHEN a.action LIKE 'event_announcements.%' THEN 'messages'
             WHEN a.action LIKE 'event_expenses.%' THEN 'money'
             WHEN a.action LIKE 'incident_notes.%' THEN 'notes'
             ELSE 'people'
           END AS kind) k
     WHERE a.event_id = p_event AND a.at >= p_since AND (p_kinds IS NULL OR k.kind = ANY (p_kinds))
     ORDER BY a.at DESC
     LIMIT 500
  ), said AS (
    SELECT x.at, x.kind,
           coalesce(public.profile_name_or_null(x.actor_id), x.actor_role) AS who,
           CASE x.action
             WHEN 'event_checkins.manual_check_in' THEN
               format('%s checked in by hand at %s', public.attendee_name(x.r), coalesce(x.r ->> 'gate', 'no gate'))
             WHEN 'event_checkins.check_out' THEN
               format('%s checked out (entered %s)', public.attendee_name(x.r),
                      to_char((x.r ->> 'check_in_time')::timestamptz AT TIME ZONE e.time_zone, 'HH24:MI'))
             WHEN 'sessions.capacity' THEN
               format('"%s" capacity %s -> %s', x.r ->> 'title', coalesce(x.o ->> 'max_attendees', 'none'),
                      coalesce(x.r ->> 'max_attendees', 'none'))
             WHEN 'gate_alerts.acknowledged' THEN
               format('acknowledged the %s alert at %s', x.r ->> 'kind', x.r ->> 'gate')
             WHEN 'incident_notes.written' THEN 'note: ' || (x.r ->> 'note')
             ELSE CASE
               WHEN x.action LIKE 'sessions.%' THEN format('"%s" set %s', x.r ->> 'title', x.r ->> 'status')
               WHEN x.action LIKE 'event_announcements.%' THEN
                 format('announcement "%s" %s%s', x.r ->> 'title', x.r ->> 'status',
                        CASE WHEN x.r ->> 'status' = 'sent'
                             THEN format(' to %s people', coalesce(x.r ->> 'recipient_count', '?')) ELSE '' END)
               WHEN x.action LIKE 'event_expenses.%' THEN
                 format('expense "%s" (%s %s) %s', x.r ->> 'expense_name', x.r ->> 'amount', x.r ->> 'currency',
                        x.r ->> 'status')
               WHEN x.action LIKE 'event_waitlists.%' THEN
                 format('waitlist: %s %s', public.attendee_name(x.r), x.r ->> 'status')
               WHEN x.action LIKE 'tickets.%' THEN format('ticket %s %s', x.r ->> 'code', x.r ->> 'status')
               WHEN x.action LIKE 'event_teams.%' THEN
                 format('team: %s %s (%s)', coalesce(public.profile_name_or_null((x.r ->> 'member_id')::uuid), 'someone'),
                        split_part(x.action, '.', 2), x.r ->> 'role')
               ELSE x.action
             END
           END AS what
      FROM audited x JOIN public.events e ON e.id = p_event
  ), alerts AS (
    SELECT g.raised_at AS at, 'alerts'::text AS kind, 'gate watch'::text AS who, g.detail AS what
      FROM public.gate_alerts g WHERE g.event_id = p_event AND g.raised_at >= p_since
    UNION ALL
    SELECT g.cleared_at, 'alerts', 'gate watch',
           format('%s: the %s alert cleared (raised %s)', g.gate, g.kind,
                  to_char(g.raised_at AT TIME ZONE e.time_zone, 'HH24:MI'))
      FROM public.gate_alerts g JOIN public.events e ON e.id = g.event_id
     WHERE g.event_id = p_event AND g.cleared_at >= p_since
  ), outages AS (
    SELECT o.lost_at AS at, 'outages'::text AS kind,
           coalesce(public.profile_name_or_null(o.reported_by), o.login) AS who,
           format('%s without the database from %s to %s (%s s)%s',
                  CASE o.who WHEN 'worker' THEN 'the worker' ELSE 'a console' END,
                  to_char(o.lost_at AT TIME ZONE e.time_zone, 'HH24:MI:SS'),
                  to_char(o.back_at AT TIME ZONE e.time_zone, 'HH24:MI:SS'),
                  round(extract(epoch FROM o.back_at - o.lost_at)),
                  coalesce(': ' || o.reason, '')) AS what
      FROM public.connection_outages o JOIN public.events e ON e.id = p_event
     WHERE (o.event_id = p_event OR o.event_id IS NULL) AND o.back_at >= p_since
       AND (o.event_id IS NOT NULL OR o.back_at >= e.starts_at - interval '1 day')
  )
  SELECT t.at, t.kind, t.who, t.what
    FROM (SELECT * FROM said UNION ALL SELECT * FROM alerts UNION ALL SELECT * FROM outages) t
   WHERE p_kinds IS NULL OR t.kind = ANY (p_kinds)
   ORDER BY t.at DESC
   LIMIT 500;
END
$$;
REVOKE EXECUTE ON FUNCTION incident_timeline(uuid, timestamptz, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION incident_timeline(uuid, timestamptz, text[]) TO eventos_operator;

-- A profile's name, or NULL for none (profile_name() says "someone").
CREATE FUNCTION profile_name_or_null(p_profile uuid) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN (SELECT full_name FROM public.profiles WHERE id = p_profile);
END
$$;
REVOKE EXECUTE ON FUNCTION profile_name_or_null(uuid) FROM PUBLIC;

-- The attendee a row (as JSON) is about, by name.
CREATE FUNCTION attendee_name(p_row jsonb) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN coalesce((SELECT btrim(a.first_name || ' ' || a.last_name) FROM public.attendees a
                    WHERE a.id = (p_row ->> 'attendee_id')::uuid), 'someone');
END
$$;
REVOKE EXECUTE ON FUNCTION attendee_name(jsonb) FROM PUBLIC;
