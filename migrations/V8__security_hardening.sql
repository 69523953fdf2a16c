-- Security hardening: no login role can turn the rules' own machinery against the database.
-- docs/security.md ("Threat model") says who the attacker is and how each class below is closed;
-- tests/attacks.rs holds one attack per class, tests/catalog.rs keeps the catalog closed.
--
-- 1. Privileges. No function is executable by PUBLIC (now or later: default privileges); operators may
--    execute the SQL API and the identity helpers their row policies call, the worker its steps, and
--    nobody else anything. Trigger functions are executable by nobody but the owner: a trigger fires
--    whatever the EXECUTE privilege, but attaching one to a table of your own needs it.
-- 2. Owner-rights code serves only its own tables: every SECURITY DEFINER trigger function refuses to run
--    for a relation that is not one of ours (TG_TABLE_SCHEMA / TG_TABLE_NAME).
-- 3. "Written by the rules" is no longer "nested at trigger depth > 1", which anyone reaches from a
--    trigger on a temporary table of their own. Columns only the rules may write (counters, positions,
--    who decided, the recipient count, a check-in's session after its session is deleted) are guarded
--    by a first-firing SECURITY INVOKER trigger (_rules_only*): it lets a change through only when
--    current_user is the tables' owner and the write is nested, which holds for the owner's own
--    definer functions, triggers and foreign-key actions and for nothing a caller can arrange.
-- 4. The SQL API runs as the owner (SECURITY DEFINER) and checks the caller itself: one permission check,
--    lookups past row security, and for an id the caller may not know of the same sentence as for an id
--    that does not exist. Its internal helpers run as their caller (the owner's code) and nobody else may
--    call them.
-- 5. Every function names pg_temp last on its search_path (left out, PostgreSQL searches a caller's
--    temporary tables first), and definer code schema-qualifies what it touches. Nobody but the owner may
--    create objects in schema public.
-- 6. Raw writes are held to the API's rules: an operator's check-in, check-out and refused scan happen
--    when they reach the database (the clock, not the start of a transaction kept open) and in the
--    operator's own name; a row names only its own event's rows (tickets, attendees, orders, sessions,
--    speakers, check-ins), and another event's id reads like a missing one; a seat taken through an
--    offer is the offered person's.
--    Deadlines are read from the clock. "Today" for a payment date is the event's, not the session's
--    time zone. An announcement is scheduled within a year.
-- 7. The audit chain takes turns on a row only the owner can lock (an advisory lock, which any login may
--    take and hold, stopped every audited action).
-- 8. Operators create no large objects and may not rewrite refused scans.
--
-- Functions whose behaviour changes are restated whole below; those that only gain pg_temp on their
-- search_path are named one by one at the end.

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

------------------------------------------------------------------------------------------------------
-- The audit chain's head: the last entry's id and hash, one row, the writers' lock.
------------------------------------------------------------------------------------------------------

CREATE TABLE audit_chain_head (
  only_row  BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  last_id   BIGINT,
  last_hash BYTEA NOT NULL
);
INSERT INTO audit_chain_head (last_id, last_hash)
SELECT (SELECT max(id) FROM audit_log),
       coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '\x'::bytea);
ALTER TABLE audit_chain_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_head FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('audit_chain_head');

------------------------------------------------------------------------------------------------------
-- New helpers.
------------------------------------------------------------------------------------------------------

-- Whether the caller may know that something of `p_event` exists: a member of its team (holding
-- `p_perm`, when given) or an administrator. Internal: the API calls it as the owner, and it asks about
-- session_user, which owner-rights code does not change.
CREATE FUNCTION event_visible(p_event uuid, p_perm text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN p_event IS NOT NULL
     AND (p_event = ANY (public.member_event_ids(p_perm)) OR public.is_administrator());
END
$$;

-- Refuses with "no such ..." when the caller may not know of `p_event` (or the lookup found nothing):
-- another event's id and an id that does not exist read the same.
CREATE FUNCTION require_event(p_event uuid, p_code text, p_message text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NOT public.event_visible(p_event) THEN
    PERFORM public.refuse(p_code, p_message);
  END IF;
END
$$;

-- Columns only the rules may write. Fired first (its name sorts before every other trigger's) and only
-- when one of them changed (the trigger's WHEN); TG_ARGV: the refusal's code and sentence.
-- SECURITY INVOKER on purpose: current_user is then whoever issued the statement, which is the tables'
-- owner only inside the owner's own code (definer functions, their triggers, foreign-key actions).
-- It calls nothing of ours: an operator may execute none of it.
CREATE FUNCTION rules_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_trigger_depth() > 1
     AND current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = TG_ARGV[0], MESSAGE = TG_ARGV[1];
END
$$;

CREATE TRIGGER _rules_only BEFORE UPDATE ON sessions FOR EACH ROW
  WHEN (NEW.current_registrations IS DISTINCT FROM OLD.current_registrations
        OR NEW.present_count IS DISTINCT FROM OLD.present_count)
  EXECUTE FUNCTION rules_only('session_counters', 'registrations and attendance are counted by the database, not set');
CREATE TRIGGER _rules_only BEFORE UPDATE ON event_waitlists FOR EACH ROW
  WHEN (NEW.waitlist_position IS DISTINCT FROM OLD.waitlist_position)
  EXECUTE FUNCTION rules_only('waitlist_position', 'positions are kept by the database: they follow the order of joining');
CREATE TRIGGER _rules_only BEFORE UPDATE ON event_checkins FOR EACH ROW
  WHEN (NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id
        OR NEW.checked_in_by IS DISTINCT FROM OLD.checked_in_by
        OR (NEW.checked_out_by IS DISTINCT FROM OLD.checked_out_by AND NEW.checked_out_by IS NULL))
  EXECUTE FUNCTION rules_only('checkin_immutable', 'a check-in cannot be moved or back-dated; check out and check in again');
CREATE TRIGGER _rules_only BEFORE UPDATE ON event_announcements FOR EACH ROW
  WHEN (NEW.recipient_count IS DISTINCT FROM OLD.recipient_count)
  EXECUTE FUNCTION rules_only('announcement_recipients', 'the recipient count is recorded by sending');
CREATE TRIGGER _rules_only_submitter BEFORE UPDATE ON event_expenses FOR EACH ROW
  WHEN (NEW.created_by IS DISTINCT FROM OLD.created_by)
  EXECUTE FUNCTION rules_only('expense_immutable', 'an expense keeps its event and its submitter');
CREATE TRIGGER _rules_only_decision BEFORE UPDATE ON event_expenses FOR EACH ROW
  WHEN (NEW.status IS NOT DISTINCT FROM OLD.status
        AND (NEW.approved_by IS DISTINCT FROM OLD.approved_by OR NEW.rejected_by IS DISTINCT FROM OLD.rejected_by
             OR NEW.paid_by IS DISTINCT FROM OLD.paid_by))
  EXECUTE FUNCTION rules_only('expense_decision_fields', 'who decided and when is recorded by approving, rejecting or paying');

-- A refused scan written by anyone but the owner's code (a gate app logging its own refusals): in the
-- operator's own name, at the database's time, naming only its own event's rows. SECURITY INVOKER: the
-- references are read under the caller's row security, so another event's row and a missing one read
-- the same; the owner's code (the scanning API, which checked all this) passes straight through.
CREATE FUNCTION refused_scans_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  actor uuid;
BEGIN
  NEW.change_xid := pg_current_xact_id();
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
CREATE TRIGGER refused_scans_guard BEFORE INSERT ON refused_scans
  FOR EACH ROW EXECUTE FUNCTION refused_scans_guard();
-- References to another row of the event (TG_ARGV: 'column:table:what'): a row written by anyone but the
-- owner's code names only rows of its own event. SECURITY INVOKER, like refused_scans_guard: the referenced
-- row is read under the caller's row security, so another event's row and a missing one read the same
-- (a foreign key's own check runs as the owner and would tell them apart).
CREATE FUNCTION same_event_references() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  reference text;
  parts text[];
  new_row jsonb;
  old_row jsonb;
  found_it boolean;
BEGIN
  IF current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
    RETURN NEW;
  END IF;
  new_row := to_jsonb(NEW);
  old_row := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
  FOREACH reference IN ARRAY TG_ARGV LOOP
    parts := string_to_array(reference, ':');
    IF new_row ->> parts[1] IS NOT NULL
       AND (old_row IS NULL OR new_row -> parts[1] IS DISTINCT FROM old_row -> parts[1]
            OR new_row -> 'event_id' IS DISTINCT FROM old_row -> 'event_id') THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I WHERE id = $1 AND event_id = $2)', parts[2])
        INTO found_it USING (new_row ->> parts[1])::uuid, (new_row ->> 'event_id')::uuid;
      IF NOT found_it THEN
        RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'wrong_event',
          MESSAGE = format('that %s is not one of this event''s', parts[3]);
      END IF;
    END IF;
  END LOOP;
  RETURN NEW;
END
$$;
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON attendees FOR EACH ROW
  EXECUTE FUNCTION same_event_references('order_id:orders:order');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON tickets FOR EACH ROW
  EXECUTE FUNCTION same_event_references('attendee_id:attendees:attendee', 'order_id:orders:order',
                                         'ticket_type_id:ticket_types:ticket type');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW
  EXECUTE FUNCTION same_event_references('speaker_id:speakers:speaker');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON event_feedback FOR EACH ROW
  EXECUTE FUNCTION same_event_references('attendee_id:attendees:attendee', 'session_id:sessions:session');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON networking_connections FOR EACH ROW
  EXECUTE FUNCTION same_event_references('requester_id:attendees:attendee', 'target_id:attendees:attendee');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON event_materials FOR EACH ROW
  EXECUTE FUNCTION same_event_references('session_id:sessions:session');
CREATE TRIGGER same_event_references BEFORE INSERT OR UPDATE ON event_analytics FOR EACH ROW
  EXECUTE FUNCTION same_event_references('session_id:sessions:session');

-- Refused scans are a log: operators add to it and never rewrite it.
REVOKE UPDATE ON refused_scans FROM eventos_operator;

-- An administrator: a superuser, or a member of the role that owns the schema (who ran the migrations).
CREATE OR REPLACE FUNCTION is_administrator() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN (
    SELECT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user)
        OR pg_catalog.pg_has_role(session_user,
             (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = 'public.events'::regclass), 'MEMBER')
  );
END
$$;

------------------------------------------------------------------------------------------------------
-- Trigger functions, restated: the relation check, no trigger-depth test, qualified names.
------------------------------------------------------------------------------------------------------

-- sessions_guard()
CREATE OR REPLACE FUNCTION public.sessions_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  offers integer;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('sessions') THEN
    PERFORM public.refuse('trigger_relation', 'sessions_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- The counters start from the rows behind them, never from a client's number.
    NEW.current_registrations := 0;
    NEW.present_count := 0;
    IF NEW.status NOT IN ('scheduled', 'live') THEN
      PERFORM public.refuse('session_status', format('a new session starts as scheduled or live, not %s', NEW.status));
    END IF;
    RETURN NEW;
  END IF;

  -- Counters move only by the rules' own writes: the _rules_only trigger refused any other change.

  IF NEW.event_id IS DISTINCT FROM OLD.event_id THEN
    PERFORM public.refuse('session_event', 'a session cannot move to another event');
  END IF;

  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('live', 'cancelled'))
         OR (OLD.status = 'live' AND NEW.status IN ('completed', 'cancelled'))) THEN
      PERFORM public.refuse('session_status', format('a session cannot go from %s to %s (scheduled -> live -> completed, or cancelled)',
                                              OLD.status, NEW.status));
    END IF;
  END IF;

  IF NEW.max_attendees IS DISTINCT FROM OLD.max_attendees AND NEW.max_attendees IS NOT NULL THEN
    offers := public.waitlist_offers_outstanding(NEW.event_id, NEW.id);
    IF NEW.max_attendees < NEW.current_registrations + offers THEN
      PERFORM public.refuse('capacity_below_registrations',
        format('capacity cannot go below %s: %s registered and %s waitlist offers outstanding',
               NEW.current_registrations + offers, NEW.current_registrations, offers));
    END IF;
    IF NEW.max_attendees < NEW.present_count THEN
      PERFORM public.refuse('capacity_below_presence',
        format('capacity cannot go below the %s people in the room now', NEW.present_count));
    END IF;
  END IF;
  RETURN NEW;
END
$function$;

-- session_registrations_guard()
CREATE OR REPLACE FUNCTION public.session_registrations_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  s record;
  a record;
  offers integer;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('session_registrations') THEN
    PERFORM public.refuse('trigger_relation', 'session_registrations_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id
       OR NEW.event_id IS DISTINCT FROM OLD.event_id THEN
      PERFORM public.refuse('registration_immutable', 'a registration cannot move; cancel it and register again');
    END IF;
    IF OLD.status = 'cancelled' AND NEW.status = 'registered' THEN
      PERFORM public.refuse('registration_final', 'a cancelled registration stays cancelled; register again');
    END IF;
    IF NEW.status = 'cancelled' AND NEW.cancelled_at IS NULL THEN
      NEW.cancelled_at := now();
    END IF;
    RETURN NEW;
  END IF;

  IF NEW.status <> 'registered' THEN
    PERFORM public.refuse('registration_status', 'a new registration is registered, not cancelled');
  END IF;
  NEW.cancelled_at := NULL;
  -- The session row is the queue's lock: registrations, offers and capacity changes take turns on it.
  SELECT id, event_id, title, status, max_attendees, current_registrations INTO s
    FROM public.sessions WHERE id = NEW.session_id FOR NO KEY UPDATE;
  IF NOT FOUND OR s.event_id <> NEW.event_id THEN
    PERFORM public.refuse('wrong_event', 'that session is not part of this event');
  END IF;
  IF s.status IN ('completed', 'cancelled') THEN
    PERFORM public.refuse('session_not_open', format('"%s" is %s', s.title, s.status));
  END IF;
  SELECT status, event_id INTO a FROM public.attendees WHERE id = NEW.attendee_id AND deleted_at IS NULL;
  IF NOT FOUND OR a.event_id <> NEW.event_id THEN
    PERFORM public.refuse('wrong_event', 'that attendee is not registered for this event');
  END IF;
  IF a.status <> 'registered' THEN
    PERFORM public.refuse('attendee_cancelled', format('the attendee is %s for the event', a.status));
  END IF;
  IF NEW.waitlist_id IS NOT NULL THEN
    -- A seat taken through an offer: only by the person it was made to, for its own session, while it
    -- stands (accept_offer). Naming someone else's offer once skipped the places held for offers.
    IF NOT EXISTS (SELECT 1 FROM public.event_waitlists w
                    WHERE w.id = NEW.waitlist_id AND w.session_id = NEW.session_id AND w.attendee_id = NEW.attendee_id
                      AND w.status = 'offered' AND w.expires_at > clock_timestamp()) THEN
      PERFORM public.refuse('not_offered', 'that seat was not offered to this attendee');
    END IF;
  END IF;
  IF s.max_attendees IS NOT NULL THEN
    -- A seat that comes from an offer uses the place the offer held; the other offers keep theirs.
    offers := public.waitlist_offers_outstanding(s.event_id, s.id) - CASE WHEN NEW.waitlist_id IS NULL THEN 0 ELSE 1 END;
    IF s.current_registrations + offers >= s.max_attendees THEN
      PERFORM public.refuse('session_full', CASE WHEN offers > 0
        THEN format('session is full: %s of %s places taken, %s held for waitlist offers',
                    s.current_registrations, s.max_attendees, offers)
        ELSE format('session is full: %s of %s places taken', s.current_registrations, s.max_attendees) END);
    END IF;
  END IF;
  RETURN NEW;
END
$function$;

-- session_registrations_count()
CREATE OR REPLACE FUNCTION public.session_registrations_count()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  delta integer := 0;
  target uuid;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('session_registrations') THEN
    PERFORM public.refuse('trigger_relation', 'session_registrations_count() serves its own tables only');
  END IF;
  IF TG_OP = 'INSERT' THEN
    target := NEW.session_id;
    delta := CASE WHEN NEW.status = 'registered' THEN 1 ELSE 0 END;
  ELSIF TG_OP = 'DELETE' THEN
    target := OLD.session_id;
    delta := CASE WHEN OLD.status = 'registered' THEN -1 ELSE 0 END;
  ELSE
    target := NEW.session_id;
    delta := (CASE WHEN NEW.status = 'registered' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'registered' THEN 1 ELSE 0 END);
  END IF;
  IF delta <> 0 THEN
    UPDATE public.sessions SET current_registrations = current_registrations + delta WHERE id = target;
    IF delta < 0 THEN
      PERFORM public.waitlist_fill(coalesce(NEW.event_id, OLD.event_id), target);
    END IF;
  END IF;
  RETURN NULL;
END
$function$;

-- event_checkins_guard()
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
    ELSIF NEW.checked_out_by IS DISTINCT FROM OLD.checked_out_by AND NEW.checked_out_by IS NOT NULL THEN
      PERFORM public.refuse('actor_is_the_login', 'who checked a person out is recorded by checking them out');
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
  -- The realtime feed finds rows by the transaction that wrote them: never a client's number.
  NEW.change_xid := pg_current_xact_id();

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

-- event_checkins_presence()
CREATE OR REPLACE FUNCTION public.event_checkins_presence()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_checkins') THEN
    PERFORM public.refuse('trigger_relation', 'event_checkins_presence() serves its own tables only');
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.session_id IS NOT NULL AND OLD.is_present THEN
    UPDATE public.sessions SET present_count = present_count - 1 WHERE id = OLD.session_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.session_id IS NOT NULL AND NEW.is_present THEN
    UPDATE public.sessions SET present_count = present_count + 1 WHERE id = NEW.session_id;
    IF NOT FOUND THEN
      PERFORM public.refuse('wrong_event', 'that session does not exist');
    END IF;
  END IF;
  RETURN NULL;
END
$function$;

-- event_waitlists_guard()
CREATE OR REPLACE FUNCTION public.event_waitlists_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  q record;
  a record;
  s record;
  outstanding integer;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_waitlists') THEN
    PERFORM public.refuse('trigger_relation', 'event_waitlists_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'waiting' THEN
      PERFORM public.refuse('waitlist_status', 'a new waitlist entry is waiting');
    END IF;
    SELECT event_id, status, deleted_at INTO a FROM public.attendees WHERE id = NEW.attendee_id;
    IF a.event_id IS DISTINCT FROM NEW.event_id OR a.deleted_at IS NOT NULL THEN
      PERFORM public.refuse('wrong_event', 'that attendee belongs to another event');
    END IF;
    IF NEW.session_id IS NOT NULL THEN
      SELECT event_id, status, title INTO s FROM public.sessions WHERE id = NEW.session_id;
      IF s.event_id IS DISTINCT FROM NEW.event_id THEN
        PERFORM public.refuse('wrong_event', 'that session is not part of this event');
      END IF;
      IF s.status IN ('completed', 'cancelled') THEN
        PERFORM public.refuse('session_not_open', format('"%s" is %s', s.title, s.status));
      END IF;
      IF a.status <> 'registered' THEN
        PERFORM public.refuse('attendee_cancelled', format('the attendee is %s for the event', a.status));
      END IF;
      IF EXISTS (SELECT 1 FROM public.session_registrations WHERE session_id = NEW.session_id
                    AND attendee_id = NEW.attendee_id AND status = 'registered') THEN
        PERFORM public.refuse('already_registered', format('already registered for "%s"', s.title));
      END IF;
      NEW.waitlist_reason := coalesce(NEW.waitlist_reason, 'session_full');
    ELSE
      IF a.status = 'registered' THEN
        PERFORM public.refuse('already_registered', 'already registered for the event');
      END IF;
      NEW.waitlist_reason := coalesce(NEW.waitlist_reason, 'event_full');
    END IF;
    PERFORM 1 FROM public.waitlist_lock_queue(NEW.event_id, NEW.session_id);
    IF EXISTS (SELECT 1 FROM public.event_waitlists
                WHERE event_id = NEW.event_id AND session_id IS NOT DISTINCT FROM NEW.session_id
                  AND attendee_id = NEW.attendee_id AND status IN ('waiting', 'offered')) THEN
      PERFORM public.refuse('already_waiting', 'already on this waitlist');
    END IF;
    -- The position is the queue's next, whatever a client sent.
    SELECT coalesce(max(waitlist_position), 0) + 1 INTO NEW.waitlist_position FROM public.event_waitlists
     WHERE event_id = NEW.event_id AND session_id IS NOT DISTINCT FROM NEW.session_id
       AND status IN ('waiting', 'offered');
    NEW.offered_at := NULL; NEW.expires_at := NULL; NEW.converted_at := NULL;
    NEW.cancelled_at := NULL; NEW.notification_sent_at := NULL;
    RETURN NEW;
  END IF;

  -- UPDATE
  IF NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.session_id IS DISTINCT FROM OLD.session_id
     OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id THEN
    PERFORM public.refuse('waitlist_immutable', 'a waitlist entry cannot move to another queue or person');
  END IF;
  -- Positions move only by the rules' own renumbering: the _rules_only trigger refused any other change.
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'waiting' AND NEW.status IN ('offered', 'cancelled'))
         OR (OLD.status = 'offered' AND NEW.status IN ('converted', 'expired', 'cancelled'))) THEN
      PERFORM public.refuse('waitlist_status', format('a waitlist entry cannot go from %s to %s', OLD.status, NEW.status));
    END IF;
    IF NEW.status = 'offered' THEN
      SELECT * INTO q FROM public.waitlist_lock_queue(NEW.event_id, NEW.session_id);
      outstanding := public.waitlist_offers_outstanding(NEW.event_id, NEW.session_id);
      IF q.free_places IS NOT NULL AND outstanding + 1 > q.free_places THEN
        PERFORM public.refuse('no_free_place', format('no free place to offer: %s free, %s offers outstanding',
                                               q.free_places, outstanding));
      END IF;
      NEW.offered_at := coalesce(NEW.offered_at, now());
      IF NEW.expires_at IS NULL THEN
        SELECT now() + waitlist_offer_window INTO NEW.expires_at FROM public.events WHERE id = NEW.event_id;
      END IF;
    ELSIF NEW.status = 'converted' THEN
      -- The clock, not now(): a transaction begun before the deadline must not accept after it.
      IF OLD.expires_at <= clock_timestamp() THEN
        PERFORM public.refuse('offer_expired', format('the offer expired at %s', public.event_local_time(NEW.event_id, OLD.expires_at)));
      END IF;
      NEW.converted_at := now();
    ELSIF NEW.status = 'cancelled' THEN
      NEW.cancelled_at := now();
    END IF;
  ELSIF NEW.status = 'offered' AND NEW.expires_at IS DISTINCT FROM OLD.expires_at AND NEW.expires_at <= clock_timestamp() THEN
    PERFORM public.refuse('offer_expired', 'an offer can only be extended into the future');
  END IF;
  IF NEW.status NOT IN ('waiting', 'offered') AND OLD.status NOT IN ('waiting', 'offered') THEN
    PERFORM public.refuse('waitlist_final', format('this waitlist entry is %s and final', OLD.status));
  END IF;
  RETURN NEW;
END
$function$;

-- event_waitlists_after()
CREATE OR REPLACE FUNCTION public.event_waitlists_after()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  ev uuid := coalesce(NEW.event_id, OLD.event_id);
  se uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.session_id ELSE NEW.session_id END;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_waitlists') THEN
    PERFORM public.refuse('trigger_relation', 'event_waitlists_after() serves its own tables only');
  END IF;
  PERFORM 1 FROM public.waitlist_lock_queue(ev, se);
  PERFORM public.waitlist_renumber(ev, se);
  IF TG_OP = 'DELETE' AND OLD.status = 'offered'
     OR TG_OP = 'UPDATE' AND OLD.status = 'offered' AND NEW.status IN ('expired', 'cancelled') THEN
    PERFORM public.waitlist_fill(ev, se);
  END IF;
  RETURN NULL;
END
$function$;

-- capacity_freed()
CREATE OR REPLACE FUNCTION public.capacity_freed()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('sessions', 'events', 'attendees') THEN
    PERFORM public.refuse('trigger_relation', 'capacity_freed() serves its own tables only');
  END IF;
  IF TG_TABLE_NAME = 'sessions' THEN
    PERFORM public.waitlist_fill(NEW.event_id, NEW.id);
  ELSIF TG_TABLE_NAME = 'events' THEN
    PERFORM public.waitlist_fill(NEW.id, NULL);
  ELSE
    PERFORM public.waitlist_fill(NEW.event_id, NULL);
  END IF;
  RETURN NULL;
END
$function$;

-- attendee_cancelled()
CREATE OR REPLACE FUNCTION public.attendee_cancelled()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('attendees') THEN
    PERFORM public.refuse('trigger_relation', 'attendee_cancelled() serves its own tables only');
  END IF;
  UPDATE public.session_registrations SET status = 'cancelled'
   WHERE attendee_id = NEW.id AND status = 'registered';
  UPDATE public.event_waitlists SET status = 'cancelled', cancel_reason = 'attendee cancelled'
   WHERE attendee_id = NEW.id AND status IN ('waiting', 'offered');
  RETURN NULL;
END
$function$;

-- event_announcements_guard()
CREATE OR REPLACE FUNCTION public.event_announcements_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_announcements') THEN
    PERFORM public.refuse('trigger_relation', 'event_announcements_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status IN ('sent', 'cancelled') THEN
      PERFORM public.refuse('announcement_status', 'a new announcement is a draft or scheduled; send it afterwards');
    END IF;
    NEW.sent_at := NULL;
    NEW.recipient_count := NULL;
    NEW.author_id := coalesce(public.acting_profile_id(), NEW.author_id);
  ELSE
    -- Sent and cancelled are final. The one later change is the recipient count the sending rules record
    -- (the _rules_only trigger refused it to anyone else).
    IF OLD.status IN ('sent', 'cancelled') THEN
      IF (to_jsonb(NEW) - 'recipient_count' - 'updated_at') IS DISTINCT FROM (to_jsonb(OLD) - 'recipient_count' - 'updated_at') THEN
        PERFORM public.refuse('announcement_final', format('this announcement was %s and is final', OLD.status));
      END IF;
      RETURN NEW;
    END IF;
    IF NEW.event_id IS DISTINCT FROM OLD.event_id THEN
      PERFORM public.refuse('announcement_event', 'an announcement cannot move to another event');
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
         (OLD.status = 'draft' AND NEW.status IN ('scheduled', 'sent', 'cancelled'))
      OR (OLD.status = 'scheduled' AND NEW.status IN ('draft', 'sent', 'cancelled'))) THEN
      PERFORM public.refuse('announcement_status', format('an announcement cannot go from %s to %s', OLD.status, NEW.status));
    END IF;
    IF NEW.status = 'cancelled' THEN
      NEW.cancelled_at := now();
    END IF;
    IF NEW.status <> 'sent' AND NEW.sent_at IS NOT NULL THEN
      PERFORM public.refuse('announcement_sent_at', 'sent_at is set by sending');
    END IF;
  END IF;
  IF NEW.status = 'sent' AND (TG_OP = 'INSERT' OR OLD.status <> 'sent') THEN
    -- Sent now, once: the moment is the database's, not the client's.
    NEW.sent_at := now();
    IF NEW.target_audience IS NULL THEN
      PERFORM public.refuse('announcement_audience', 'choose an audience before sending');
    END IF;
    IF coalesce(cardinality(NEW.delivery_method), 0) = 0 THEN
      PERFORM public.refuse('announcement_channels', 'choose at least one delivery method before sending');
    END IF;
  END IF;
  IF NEW.status = 'scheduled' AND (TG_OP = 'INSERT' OR OLD.status <> 'scheduled'
                                   OR NEW.scheduled_for IS DISTINCT FROM OLD.scheduled_for) THEN
    IF NOT isfinite(NEW.scheduled_for) OR NEW.scheduled_for > clock_timestamp() + interval '366 days' THEN
      PERFORM public.refuse('schedule_time', 'a schedule time must be within a year from now');
    END IF;
    IF NEW.scheduled_for < clock_timestamp() - interval '1 minute' THEN
      PERFORM public.refuse('schedule_in_past', format('%s is in the past', public.event_local_time(NEW.event_id, NEW.scheduled_for)));
    END IF;
    IF NEW.target_audience IS NULL THEN
      PERFORM public.refuse('announcement_audience', 'choose an audience before scheduling');
    END IF;
    IF coalesce(cardinality(NEW.delivery_method), 0) = 0 THEN
      PERFORM public.refuse('announcement_channels', 'choose at least one delivery method before scheduling');
    END IF;
  END IF;
  RETURN NEW;
END
$function$;

-- event_announcements_sent()
CREATE OR REPLACE FUNCTION public.event_announcements_sent()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_announcements') THEN
    PERFORM public.refuse('trigger_relation', 'event_announcements_sent() serves its own tables only');
  END IF;
  PERFORM public.announcement_write_outbox(NEW.id);
  RETURN NULL;
END
$function$;

-- event_expenses_guard()
CREATE OR REPLACE FUNCTION public.event_expenses_guard()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  actor uuid := public.acting_profile_id();
  today date;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_expenses') THEN
    PERFORM public.refuse('trigger_relation', 'event_expenses_guard() serves its own tables only');
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' THEN
      PERFORM public.refuse('expense_status', 'a new expense is pending until someone else approves it');
    END IF;
    -- The submitter is whoever is logged in; an administrator importing history may name one.
    NEW.created_by := coalesce(actor, NEW.created_by);
    NEW.approved_by := NULL; NEW.approved_at := NULL;
    NEW.rejected_by := NULL; NEW.rejected_at := NULL; NEW.rejection_reason := NULL;
    NEW.paid_by := NULL; NEW.payment_date := NULL;
    RETURN NEW;
  END IF;

  -- A deleted submitter's profile clears created_by (ON DELETE SET NULL, a nested update): allowed.
  IF NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR (NEW.created_by IS DISTINCT FROM OLD.created_by AND NEW.created_by IS NOT NULL) THEN
    PERFORM public.refuse('expense_immutable', 'an expense keeps its event and its submitter');
  END IF;
  IF OLD.status <> 'pending' AND (NEW.amount IS DISTINCT FROM OLD.amount OR NEW.currency IS DISTINCT FROM OLD.currency) THEN
    PERFORM public.refuse('expense_decided', format('the amount of an %s expense cannot change', OLD.status));
  END IF;

  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected'))
         OR (OLD.status = 'approved' AND NEW.status = 'paid')) THEN
      IF OLD.status = 'approved' AND NEW.status IN ('approved', 'rejected') OR OLD.status IN ('paid', 'rejected') THEN
        PERFORM public.refuse('expense_decided', format('already %s by %s at %s', OLD.status,
          public.profile_name(CASE OLD.status WHEN 'rejected' THEN OLD.rejected_by WHEN 'paid' THEN OLD.paid_by ELSE OLD.approved_by END),
          public.event_local_time(OLD.event_id, CASE OLD.status WHEN 'rejected' THEN OLD.rejected_at WHEN 'paid' THEN OLD.updated_at ELSE OLD.approved_at END)));
      END IF;
      PERFORM public.refuse('expense_status', format('an expense cannot go from %s to %s (pending -> approved or rejected, approved -> paid)',
                                              OLD.status, NEW.status));
    END IF;
    IF actor IS NULL THEN
      PERFORM public.refuse('not_an_operator', format('only an operator with a profile can mark an expense %s', NEW.status));
    END IF;
    IF NEW.status IN ('approved', 'rejected') AND actor = OLD.created_by THEN
      PERFORM public.refuse('four_eyes', 'you submitted this expense: someone else must decide it');
    END IF;
    IF NEW.status = 'approved' THEN
      NEW.approved_by := actor;
      NEW.approved_at := now();
    ELSIF NEW.status = 'rejected' THEN
      IF btrim(coalesce(NEW.rejection_reason, '')) = '' THEN
        PERFORM public.refuse('rejection_reason', 'a rejection needs a reason');
      END IF;
      NEW.rejected_by := actor;
      NEW.rejected_at := now();
    ELSIF NEW.status = 'paid' THEN
      NEW.paid_by := actor;
      -- "Today" is the event's, whatever time zone the caller's session claims.
      today := (clock_timestamp() AT TIME ZONE (SELECT time_zone FROM public.events WHERE id = NEW.event_id))::date;
      NEW.payment_date := coalesce(NEW.payment_date, today);
      IF NEW.payment_date > today THEN
        PERFORM public.refuse('payment_date', format('a payment date cannot be after today (%s at the event)', today));
      END IF;
    END IF;
  ELSE
    -- The decision's fields belong to the decision.
    IF NEW.approved_by IS DISTINCT FROM OLD.approved_by OR NEW.approved_at IS DISTINCT FROM OLD.approved_at
       OR NEW.rejected_by IS DISTINCT FROM OLD.rejected_by OR NEW.rejected_at IS DISTINCT FROM OLD.rejected_at
       OR NEW.paid_by IS DISTINCT FROM OLD.paid_by
       OR (OLD.status <> 'pending' AND NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason)
       OR NEW.payment_date IS DISTINCT FROM OLD.payment_date THEN
      -- ON DELETE SET NULL of a deleted profile is the one change allowed, and only to the rules: the
      -- _rules_only trigger refused it to anyone else.
      IF NOT (NEW.approved_by IS NULL OR NEW.approved_by IS NOT DISTINCT FROM OLD.approved_by)
         OR NOT (NEW.rejected_by IS NULL OR NEW.rejected_by IS NOT DISTINCT FROM OLD.rejected_by)
         OR NOT (NEW.paid_by IS NULL OR NEW.paid_by IS NOT DISTINCT FROM OLD.paid_by)
         OR NEW.approved_at IS DISTINCT FROM OLD.approved_at OR NEW.rejected_at IS DISTINCT FROM OLD.rejected_at
         OR (OLD.status <> 'pending' AND NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason)
         OR NEW.payment_date IS DISTINCT FROM OLD.payment_date THEN
        PERFORM public.refuse('expense_decision_fields', 'who decided and when is recorded by approving, rejecting or paying');
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END
$function$;

-- announcement_target_sessions_check()
CREATE OR REPLACE FUNCTION public.announcement_target_sessions_check()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  missing uuid;
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_announcements') THEN
    PERFORM public.refuse('trigger_relation', 'announcement_target_sessions_check() serves its own tables only');
  END IF;
  IF NEW.target_sessions IS NULL OR cardinality(NEW.target_sessions) = 0 THEN
    RETURN NEW;
  END IF;
  SELECT t.id INTO missing
    FROM unnest(NEW.target_sessions) AS t(id)
   WHERE NOT EXISTS (SELECT 1 FROM public.sessions s WHERE s.id = t.id AND s.event_id = NEW.event_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'target session % is not a session of this event', missing
      USING ERRCODE = 'foreign_key_violation', HINT = 'target_sessions may only name sessions of the same event';
  END IF;
  RETURN NEW;
END
$function$;

-- event_teams_defaults()
CREATE OR REPLACE FUNCTION public.event_teams_defaults()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- Owner-rights code acts only for its own tables (never for a caller's temporary one).
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_teams') THEN
    PERFORM public.refuse('trigger_relation', 'event_teams_defaults() serves its own tables only');
  END IF;
  IF NEW.permissions IS NULL THEN
    NEW.permissions := public.default_permissions(NEW.role);
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.assigned_by := coalesce(public.acting_profile_id(), NEW.assigned_by);
    NEW.assigned_at := now();
  END IF;
  RETURN NEW;
END
$function$;

-- audit_transition()
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
  IF TG_TABLE_SCHEMA <> 'public' OR TG_TABLE_NAME NOT IN ('event_expenses', 'event_teams', 'event_announcements', 'event_waitlists', 'event_checkins', 'tickets', 'sessions') THEN
    PERFORM public.refuse('trigger_relation', 'audit_transition() serves its own tables only');
  END IF;
  action := CASE
    WHEN what = 'status' THEN TG_TABLE_NAME || '.' || coalesce(new_j ->> 'status', 'deleted')
    WHEN what = 'team' THEN 'event_teams.' || lower(TG_OP)
    WHEN what = 'capacity' THEN 'sessions.capacity'
    WHEN what = 'checkin' AND TG_OP = 'INSERT' THEN 'event_checkins.manual_check_in'
    WHEN what = 'checkin' THEN 'event_checkins.check_out'
    ELSE TG_TABLE_NAME || '.' || lower(TG_OP)
  END;
  PERFORM public.audit_append(TG_TABLE_NAME, (rec ->> 'id')::uuid,
                       CASE WHEN TG_TABLE_NAME = 'events' THEN (rec ->> 'id')::uuid ELSE (rec ->> 'event_id')::uuid END,
                       action, old_j, new_j);
  RETURN NULL;
END
$function$;

-- realtime_notify_statement()
CREATE OR REPLACE FUNCTION public.realtime_notify_statement()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  event_col text := TG_ARGV[0];
  ignored text[] := CASE WHEN TG_NARGS > 1 THEN TG_ARGV[1:TG_NARGS - 1] ELSE '{}'::text[] END;
  rows_sql text;
  total bigint;
  r record;
BEGIN
  rows_sql := CASE
    WHEN TG_OP = 'INSERT' THEN format('SELECT id, %1$I AS event_id FROM new_rows', event_col)
    WHEN TG_OP = 'DELETE' THEN format('SELECT id, %1$I AS event_id FROM old_rows', event_col)
    WHEN cardinality(ignored) > 0 THEN format(
      'SELECT n.id, n.%1$I AS event_id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (to_jsonb(n) - %2$L::text[]) IS DISTINCT FROM (to_jsonb(o) - %2$L::text[])',
      event_col, ignored)
    ELSE format('SELECT id, %1$I AS event_id FROM new_rows UNION SELECT id, %1$I FROM old_rows', event_col)
  END;
  EXECUTE format('SELECT count(*) FROM (%s) AS changed', rows_sql) INTO total;
  IF total = 0 THEN
    RETURN NULL;
  END IF;
  -- Above 20 rows in one statement, one bulk hint per event replaces the per-row hints.
  IF total <= 20 THEN
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
$function$;

-- audit_log_append_only()
CREATE OR REPLACE FUNCTION public.audit_log_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'EV001', CONSTRAINT = 'audit_append_only', MESSAGE = 'the audit log is append-only';
  RETURN NULL;
END
$function$;

-- set_updated_at()
CREATE OR REPLACE FUNCTION public.set_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$function$;

-- set_change_xid()
CREATE OR REPLACE FUNCTION public.set_change_xid()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END
$function$;


------------------------------------------------------------------------------------------------------
-- The SQL API, restated: SECURITY DEFINER, the caller checked by the function itself.
------------------------------------------------------------------------------------------------------

-- check_in_by_code()
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
  PERFORM public.require_permission(p_event, 'check_in_attendees');
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

-- check_in_attendee()
CREATE OR REPLACE FUNCTION public.check_in_attendee(p_attendee uuid, p_gate text DEFAULT NULL::text, p_session uuid DEFAULT NULL::uuid)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a record;
  ticket uuid;
BEGIN
  SELECT id, event_id, status, btrim(first_name || ' ' || last_name) AS name INTO a
    FROM public.attendees WHERE id = p_attendee AND deleted_at IS NULL;
  PERFORM public.require_event(a.event_id, 'unknown_attendee', 'no such attendee');
  PERFORM public.require_permission(a.event_id, 'check_in_attendees');
  SELECT id INTO ticket FROM public.tickets
   WHERE attendee_id = a.id AND event_id = a.event_id
   ORDER BY (status = 'valid') DESC, created_at LIMIT 1;
  IF NOT FOUND THEN
    RETURN public.checkin_refusal(a.event_id, p_session, '', p_gate, 'manual', 'no_valid_ticket',
                           format('%s holds no ticket', a.name), NULL, a.id);
  END IF;
  RETURN public.checkin_admit(a.event_id, p_session, ticket, '', p_gate, 'manual');
END
$function$;

-- check_out()
CREATE OR REPLACE FUNCTION public.check_out(p_attendee uuid, p_session uuid DEFAULT NULL::uuid)
 RETURNS public.event_checkins
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.event_checkins;
  ev uuid;
BEGIN
  SELECT event_id INTO ev FROM public.attendees WHERE id = p_attendee;
  PERFORM public.require_event(ev, 'unknown_attendee', 'no such attendee');
  PERFORM public.require_permission(ev, 'check_in_attendees');
  IF p_session IS NULL THEN
    UPDATE public.event_checkins SET is_present = false, check_out_time = now()
     WHERE attendee_id = p_attendee AND is_present AND session_id IS NULL
    RETURNING * INTO entry;
  ELSE
    UPDATE public.event_checkins SET is_present = false, check_out_time = now()
     WHERE session_id = p_session AND attendee_id = p_attendee AND is_present
    RETURNING * INTO entry;
  END IF;
  IF NOT FOUND THEN
    PERFORM public.refuse('not_checked_in', CASE WHEN p_session IS NULL THEN 'not checked in' ELSE 'not checked in to that session' END);
  END IF;
  RETURN entry;
END
$function$;

-- checkin_admit()
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

  -- Two spellings so each uses its unique partial index (IS NOT DISTINCT FROM would use neither).
  IF p_session IS NULL THEN
    SELECT id, check_in_time, gate INTO open_entry FROM public.event_checkins
     WHERE event_id = p_event AND attendee_id = t.attendee_id AND is_present AND session_id IS NULL;
  ELSE
    SELECT id, check_in_time, gate INTO open_entry FROM public.event_checkins
     WHERE session_id = p_session AND attendee_id = t.attendee_id AND is_present;
  END IF;
  IF NOT FOUND THEN
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

-- checkin_refusal()
CREATE OR REPLACE FUNCTION public.checkin_refusal(p_event uuid, p_session uuid, p_code text, p_gate text, p_method text, p_reason_code text, p_message text, p_ticket uuid DEFAULT NULL::uuid, p_attendee uuid DEFAULT NULL::uuid, p_conflict uuid DEFAULT NULL::uuid)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  result public.checkin_result;
BEGIN
  -- Checked here, off the accepted path: a scan for an event that does not exist is an error, not a log row.
  IF NOT EXISTS (SELECT 1 FROM public.events WHERE id = p_event) THEN
    PERFORM public.refuse('unknown_event', 'no such event');
  END IF;
  INSERT INTO public.refused_scans (event_id, session_id, code, code_length, gate, method, reason_code, reason,
                             ticket_id, attendee_id, conflicting_checkin_id, scanned_by)
  VALUES (p_event, p_session, left(coalesce(p_code, ''), 512), length(coalesce(p_code, '')), left(p_gate, 100),
          p_method, p_reason_code, p_message, p_ticket, p_attendee, p_conflict, public.acting_profile_id());
  result.accepted := false;
  result.reason_code := p_reason_code;
  result.message := p_message;
  result.attendee_id := p_attendee;
  IF p_attendee IS NOT NULL THEN
    SELECT btrim(first_name || ' ' || last_name) INTO result.attendee_name FROM public.attendees WHERE id = p_attendee;
  END IF;
  RETURN result;
END
$function$;

-- register_session_seat()
CREATE OR REPLACE FUNCTION public.register_session_seat(p_session uuid, p_attendee uuid)
 RETURNS public.session_registrations
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  ev uuid;
  seat public.session_registrations;
BEGIN
  SELECT event_id INTO ev FROM public.sessions WHERE id = p_session;
  PERFORM public.require_event(ev, 'unknown_session', 'no such session');
  PERFORM public.require_permission(ev, 'manage_attendees');
  IF EXISTS (SELECT 1 FROM public.session_registrations WHERE session_id = p_session AND attendee_id = p_attendee
                AND status = 'registered') THEN
    PERFORM public.refuse('already_registered', 'already registered for this session');
  END IF;
  INSERT INTO public.session_registrations (event_id, session_id, attendee_id)
  VALUES (ev, p_session, p_attendee)
  RETURNING * INTO seat;
  RETURN seat;
EXCEPTION WHEN unique_violation THEN
  PERFORM public.refuse('already_registered', 'already registered for this session');
END
$function$;

-- cancel_session_seat()
CREATE OR REPLACE FUNCTION public.cancel_session_seat(p_session uuid, p_attendee uuid)
 RETURNS public.session_registrations
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  seat public.session_registrations;
BEGIN
  PERFORM public.require_event((SELECT event_id FROM public.sessions WHERE id = p_session), 'unknown_session', 'no such session');
  PERFORM public.require_permission((SELECT event_id FROM public.sessions WHERE id = p_session), 'manage_attendees');
  UPDATE public.session_registrations SET status = 'cancelled', cancelled_at = now()
   WHERE session_id = p_session AND attendee_id = p_attendee AND status = 'registered'
  RETURNING * INTO seat;
  IF NOT FOUND THEN
    PERFORM public.refuse('not_registered', 'not registered for this session');
  END IF;
  RETURN seat;
END
$function$;

-- set_session_capacity()
CREATE OR REPLACE FUNCTION public.set_session_capacity(p_session uuid, p_max_attendees integer)
 RETURNS public.sessions
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  s public.sessions;
BEGIN
  IF p_max_attendees IS NOT NULL AND (p_max_attendees < 0 OR p_max_attendees > 1000000) THEN
    PERFORM public.refuse('capacity_range', format('capacity must be between 0 and 1,000,000, not %s', p_max_attendees));
  END IF;
  PERFORM public.require_event((SELECT event_id FROM public.sessions WHERE id = p_session), 'unknown_session', 'no such session');
  PERFORM public.require_permission((SELECT event_id FROM public.sessions WHERE id = p_session), 'manage_sessions');
  UPDATE public.sessions SET max_attendees = p_max_attendees WHERE id = p_session RETURNING * INTO s;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_session', 'no such session');
  END IF;
  SELECT * INTO s FROM public.sessions WHERE id = p_session;  -- after the waitlist took its offers
  RETURN s;
END
$function$;

-- set_session_status()
CREATE OR REPLACE FUNCTION public.set_session_status(p_session uuid, p_status text)
 RETURNS public.sessions
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  s public.sessions;
BEGIN
  IF p_status IS NULL OR p_status NOT IN ('scheduled', 'live', 'completed', 'cancelled') THEN
    PERFORM public.refuse('session_status', format('a session is scheduled, live, completed or cancelled, not %s', coalesce(p_status, 'nothing')));
  END IF;
  PERFORM public.require_event((SELECT event_id FROM public.sessions WHERE id = p_session), 'unknown_session', 'no such session');
  PERFORM public.require_permission((SELECT event_id FROM public.sessions WHERE id = p_session), 'manage_sessions');
  UPDATE public.sessions SET status = p_status WHERE id = p_session RETURNING * INTO s;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_session', 'no such session');
  END IF;
  RETURN s;
END
$function$;

-- join_waitlist()
CREATE OR REPLACE FUNCTION public.join_waitlist(p_attendee uuid, p_session uuid DEFAULT NULL::uuid, p_notify boolean DEFAULT true)
 RETURNS public.event_waitlists
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  ev uuid;
  entry public.event_waitlists;
BEGIN
  SELECT event_id INTO ev FROM public.attendees WHERE id = p_attendee AND deleted_at IS NULL;
  PERFORM public.require_event(ev, 'unknown_attendee', 'no such attendee');
  PERFORM public.require_permission(ev, 'manage_attendees');
  INSERT INTO public.event_waitlists (event_id, attendee_id, session_id, notify_on_availability)
  VALUES (ev, p_attendee, p_session, coalesce(p_notify, true))
  RETURNING * INTO entry;
  RETURN entry;
EXCEPTION WHEN unique_violation THEN
  PERFORM public.refuse('already_waiting', 'already on this waitlist');
END
$function$;

-- offer_next()
CREATE OR REPLACE FUNCTION public.offer_next(p_event uuid, p_session uuid DEFAULT NULL::uuid, p_places integer DEFAULT 1)
 RETURNS SETOF public.event_waitlists
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  q record;
  offered integer;
BEGIN
  IF p_places IS NULL OR p_places < 1 OR p_places > 10000 THEN
    PERFORM public.refuse('places_range', format('places must be between 1 and 10,000, not %s', coalesce(p_places::text, 'nothing')));
  END IF;
  PERFORM public.require_permission(p_event, 'manage_attendees');
  IF p_session IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.sessions WHERE id = p_session AND event_id = p_event) THEN
    PERFORM public.refuse('unknown_queue', 'no such event or session');
  END IF;
  SELECT * INTO q FROM public.waitlist_lock_queue(p_event, p_session);
  IF NOT q.locked THEN
    PERFORM public.refuse('unknown_queue', 'no such event or session');
  END IF;
  offered := public.waitlist_fill(p_event, p_session, p_places);
  IF offered = 0 THEN
    IF NOT EXISTS (SELECT 1 FROM public.event_waitlists WHERE event_id = p_event
                      AND session_id IS NOT DISTINCT FROM p_session AND status = 'waiting') THEN
      PERFORM public.refuse('queue_empty', 'nobody is waiting');
    END IF;
    PERFORM public.refuse('no_free_place', format('no free place to offer: %s free, %s offers outstanding (raise the capacity first)',
                                           coalesce(q.free_places::text, 'unlimited'),
                                           public.waitlist_offers_outstanding(p_event, p_session)));
  END IF;
  RETURN QUERY SELECT * FROM public.event_waitlists
                WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session
                  AND status = 'offered' AND offered_at = now()
                ORDER BY waitlist_position;
END
$function$;

-- waitlist_lock_entry()
CREATE OR REPLACE FUNCTION public.waitlist_lock_entry(p_entry uuid)
 RETURNS public.event_waitlists
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.event_waitlists;
BEGIN
  SELECT * INTO entry FROM public.event_waitlists WHERE id = p_entry;
  PERFORM public.require_event(entry.event_id, 'unknown_waitlist_entry', 'no such waitlist entry');
  PERFORM public.require_permission(entry.event_id, 'manage_attendees');
  PERFORM 1 FROM public.waitlist_lock_queue(entry.event_id, entry.session_id);
  SELECT * INTO entry FROM public.event_waitlists WHERE id = p_entry FOR UPDATE;
  RETURN entry;
END
$function$;

-- accept_offer()
CREATE OR REPLACE FUNCTION public.accept_offer(p_entry uuid)
 RETURNS public.event_waitlists
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.event_waitlists;
BEGIN
  entry := public.waitlist_lock_entry(p_entry);
  IF entry.status <> 'offered' THEN
    PERFORM public.refuse('not_offered', format('this entry is %s, not offered', entry.status));
  END IF;
  IF entry.expires_at <= clock_timestamp() THEN
    PERFORM public.refuse('offer_expired', format('the offer expired at %s', public.event_local_time(entry.event_id, entry.expires_at)));
  END IF;
  IF entry.session_id IS NOT NULL THEN
    INSERT INTO public.session_registrations (event_id, session_id, attendee_id, waitlist_id)
    VALUES (entry.event_id, entry.session_id, entry.attendee_id, entry.id);
  ELSE
    UPDATE public.attendees SET status = 'registered', cancelled_at = NULL WHERE id = entry.attendee_id;
  END IF;
  UPDATE public.event_waitlists SET status = 'converted' WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$function$;

-- cancel_waitlist_entry()
CREATE OR REPLACE FUNCTION public.cancel_waitlist_entry(p_entry uuid, p_reason text)
 RETURNS public.event_waitlists
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.event_waitlists;
BEGIN
  IF btrim(coalesce(p_reason, '')) = '' THEN
    PERFORM public.refuse('cancel_reason', 'say why the entry is cancelled');
  END IF;
  entry := public.waitlist_lock_entry(p_entry);
  IF entry.status NOT IN ('waiting', 'offered') THEN
    PERFORM public.refuse('waitlist_final', format('this entry is already %s', entry.status));
  END IF;
  UPDATE public.event_waitlists SET status = 'cancelled', cancel_reason = left(btrim(p_reason), 500)
   WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$function$;

-- extend_offer()
CREATE OR REPLACE FUNCTION public.extend_offer(p_entry uuid, p_by interval)
 RETURNS public.event_waitlists
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.event_waitlists;
BEGIN
  IF p_by IS NULL OR p_by <= interval '0' OR p_by > interval '7 days' THEN
    PERFORM public.refuse('extension_range', 'an extension is between a minute and 7 days');
  END IF;
  entry := public.waitlist_lock_entry(p_entry);
  IF entry.status <> 'offered' THEN
    PERFORM public.refuse('not_offered', format('this entry is %s, not offered', entry.status));
  END IF;
  IF entry.expires_at <= clock_timestamp() THEN
    PERFORM public.refuse('offer_expired', format('the offer already expired at %s', public.event_local_time(entry.event_id, entry.expires_at)));
  END IF;
  UPDATE public.event_waitlists SET expires_at = expires_at + p_by WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$function$;

-- create_announcement()
CREATE OR REPLACE FUNCTION public.create_announcement(p_event uuid, p_title text, p_content text, p_priority text DEFAULT 'normal'::text, p_target_audience text DEFAULT 'all'::text, p_target_sessions uuid[] DEFAULT NULL::uuid[], p_delivery_method text[] DEFAULT ARRAY['in_app'::text])
 RETURNS public.event_announcements
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a public.event_announcements;
BEGIN
  PERFORM public.require_permission(p_event, 'send_announcements');
  IF btrim(coalesce(p_title, '')) = '' THEN
    PERFORM public.refuse('announcement_title', 'an announcement needs a title');
  END IF;
  IF btrim(coalesce(p_content, '')) = '' THEN
    PERFORM public.refuse('announcement_content', 'an announcement needs some content');
  END IF;
  INSERT INTO public.event_announcements (event_id, title, content, priority, target_audience, target_sessions, delivery_method)
  VALUES (p_event, btrim(p_title), p_content, p_priority, p_target_audience, p_target_sessions, p_delivery_method)
  RETURNING * INTO a;
  RETURN a;
END
$function$;

-- update_announcement()
CREATE OR REPLACE FUNCTION public.update_announcement(p_announcement uuid, p_title text, p_content text, p_priority text, p_target_audience text, p_target_sessions uuid[], p_delivery_method text[])
 RETURNS public.event_announcements
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a public.event_announcements;
BEGIN
  SELECT * INTO a FROM public.event_announcements WHERE id = p_announcement;
  PERFORM public.require_event(a.event_id, 'unknown_announcement', 'no such announcement');
  PERFORM public.require_permission(a.event_id, 'send_announcements');
  IF btrim(coalesce(p_title, '')) = '' THEN
    PERFORM public.refuse('announcement_title', 'an announcement needs a title');
  END IF;
  IF btrim(coalesce(p_content, '')) = '' THEN
    PERFORM public.refuse('announcement_content', 'an announcement needs some content');
  END IF;
  UPDATE public.event_announcements
     SET title = btrim(p_title), content = p_content, priority = p_priority,
         target_audience = p_target_audience, target_sessions = p_target_sessions,
         delivery_method = p_delivery_method
   WHERE id = p_announcement AND status = 'draft'
  RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM public.refuse('announcement_not_draft',
      format('only a draft can be edited; this one is %s', (SELECT status FROM public.event_announcements WHERE id = p_announcement)));
  END IF;
  RETURN a;
END
$function$;

-- schedule_announcement()
CREATE OR REPLACE FUNCTION public.schedule_announcement(p_announcement uuid, p_at timestamp with time zone)
 RETURNS public.event_announcements
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a public.event_announcements;
BEGIN
  IF p_at IS NULL THEN
    PERFORM public.refuse('schedule_time', 'say when to send it');
  END IF;
  IF NOT isfinite(p_at) OR p_at > clock_timestamp() + interval '366 days' THEN
    PERFORM public.refuse('schedule_time', 'a schedule time must be within a year from now');
  END IF;
  PERFORM public.require_event((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'unknown_announcement', 'no such announcement');
  PERFORM public.require_permission((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'send_announcements');
  UPDATE public.event_announcements SET status = 'scheduled', scheduled_for = p_at
   WHERE id = p_announcement RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_announcement', 'no such announcement');
  END IF;
  RETURN a;
END
$function$;

-- send_announcement_now()
CREATE OR REPLACE FUNCTION public.send_announcement_now(p_announcement uuid)
 RETURNS public.event_announcements
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a public.event_announcements;
BEGIN
  PERFORM public.require_event((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'unknown_announcement', 'no such announcement');
  PERFORM public.require_permission((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'send_announcements');
  SELECT * INTO a FROM public.event_announcements WHERE id = p_announcement FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_announcement', 'no such announcement');
  END IF;
  IF a.status = 'sent' THEN
    PERFORM public.refuse('announcement_final', format('already sent at %s', public.event_local_time(a.event_id, a.sent_at)));
  END IF;
  UPDATE public.event_announcements SET status = 'sent' WHERE id = p_announcement;
  SELECT * INTO a FROM public.event_announcements WHERE id = p_announcement;
  RETURN a;
END
$function$;

-- cancel_announcement()
CREATE OR REPLACE FUNCTION public.cancel_announcement(p_announcement uuid)
 RETURNS public.event_announcements
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  a public.event_announcements;
BEGIN
  PERFORM public.require_event((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'unknown_announcement', 'no such announcement');
  PERFORM public.require_permission((SELECT event_id FROM public.event_announcements WHERE id = p_announcement), 'send_announcements');
  UPDATE public.event_announcements SET status = 'cancelled' WHERE id = p_announcement RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_announcement', 'no such announcement');
  END IF;
  RETURN a;
END
$function$;

-- submit_expense()
CREATE OR REPLACE FUNCTION public.submit_expense(p_event uuid, p_name text, p_amount numeric, p_category text, p_currency text DEFAULT NULL::text, p_vendor text DEFAULT NULL::text, p_description text DEFAULT NULL::text, p_invoice_number text DEFAULT NULL::text, p_receipt_url text DEFAULT NULL::text, p_invoice_url text DEFAULT NULL::text)
 RETURNS public.event_expenses
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  e public.event_expenses;
  cur text;
BEGIN
  PERFORM public.require_permission(p_event, 'submit_expenses');
  IF btrim(coalesce(p_name, '')) = '' THEN
    PERFORM public.refuse('expense_name', 'an expense needs a name');
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 THEN
    PERFORM public.refuse('expense_amount', format('an amount must be more than zero, not %s', coalesce(p_amount::text, 'nothing')));
  END IF;
  IF p_amount >= 100000000 OR p_amount <> round(p_amount, 2) THEN
    PERFORM public.refuse('expense_amount', format('%s is not an amount this ledger takes (at most 99,999,999.99, two decimals)', p_amount));
  END IF;
  SELECT coalesce(p_currency, currency) INTO cur FROM public.events WHERE id = p_event;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_event', 'no such event');
  END IF;
  IF NOT public.is_currency_code(upper(cur)) THEN
    PERFORM public.refuse('expense_currency', format('%s is not an ISO 4217 currency code', cur));
  END IF;
  IF p_category IS NULL OR p_category NOT IN ('venue', 'catering', 'speakers', 'marketing', 'technology', 'travel', 'miscellaneous') THEN
    PERFORM public.refuse('expense_category', format('category must be venue, catering, speakers, marketing, technology, travel or miscellaneous, not %s', coalesce(p_category, 'nothing')));
  END IF;
  INSERT INTO public.event_expenses (event_id, expense_name, amount, currency, expense_category, vendor_name,
                              description, invoice_number, receipt_url, invoice_url)
  VALUES (p_event, btrim(p_name), p_amount, upper(cur), p_category, p_vendor, p_description, p_invoice_number,
          p_receipt_url, p_invoice_url)
  RETURNING * INTO e;
  RETURN e;
END
$function$;

-- expense_lock_pending()
CREATE OR REPLACE FUNCTION public.expense_lock_pending(p_expense uuid, wanted text)
 RETURNS public.event_expenses
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  e public.event_expenses;
  ev uuid;
BEGIN
  SELECT event_id INTO ev FROM public.event_expenses WHERE id = p_expense AND deleted_at IS NULL;
  IF NOT (public.event_visible(ev, 'submit_expenses') OR public.event_visible(ev, 'approve_expenses')) THEN
    PERFORM public.refuse('unknown_expense', 'no such expense');
  END IF;
  PERFORM public.require_permission(ev, 'approve_expenses');
  SELECT * INTO e FROM public.event_expenses WHERE id = p_expense AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM public.refuse('unknown_expense', 'no such expense');
  END IF;
  IF e.status = wanted OR (wanted <> 'paid' AND e.status <> 'pending') OR e.status = 'paid' THEN
    PERFORM public.refuse('expense_decided', format('already %s by %s at %s', e.status,
      public.profile_name(CASE e.status WHEN 'approved' THEN e.approved_by WHEN 'rejected' THEN e.rejected_by ELSE e.paid_by END),
      public.event_local_time(e.event_id, CASE e.status WHEN 'approved' THEN e.approved_at WHEN 'rejected' THEN e.rejected_at ELSE e.updated_at END)));
  END IF;
  RETURN e;
END
$function$;

-- approve_expense()
CREATE OR REPLACE FUNCTION public.approve_expense(p_expense uuid)
 RETURNS public.event_expenses
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  e public.event_expenses;
BEGIN
  PERFORM public.expense_lock_pending(p_expense, 'approved');
  UPDATE public.event_expenses SET status = 'approved' WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$function$;

-- reject_expense()
CREATE OR REPLACE FUNCTION public.reject_expense(p_expense uuid, p_reason text)
 RETURNS public.event_expenses
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  e public.event_expenses;
BEGIN
  IF btrim(coalesce(p_reason, '')) = '' THEN
    PERFORM public.refuse('rejection_reason', 'a rejection needs a reason');
  END IF;
  PERFORM public.expense_lock_pending(p_expense, 'rejected');
  UPDATE public.event_expenses SET status = 'rejected', rejection_reason = left(btrim(p_reason), 1000)
   WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$function$;

-- mark_expense_paid()
CREATE OR REPLACE FUNCTION public.mark_expense_paid(p_expense uuid, p_payment_date date DEFAULT NULL::date)
 RETURNS public.event_expenses
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  e public.event_expenses;
BEGIN
  e := public.expense_lock_pending(p_expense, 'paid');
  IF e.status <> 'approved' THEN
    PERFORM public.refuse('expense_not_approved', format('only an approved expense can be paid; this one is %s', e.status));
  END IF;
  UPDATE public.event_expenses SET status = 'paid', payment_date = p_payment_date
   WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$function$;


------------------------------------------------------------------------------------------------------
-- Internal helpers and the worker's steps, restated.
------------------------------------------------------------------------------------------------------

-- waitlist_lock_queue()
CREATE OR REPLACE FUNCTION public.waitlist_lock_queue(p_event uuid, p_session uuid, skip_locked boolean DEFAULT false)
 RETURNS TABLE(locked boolean, free_places integer)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  cap integer;
  used integer;
BEGIN
  -- Internal: only the owner's code calls it (the API after its permission check, the rules, the worker).
  IF p_session IS NOT NULL THEN
    IF skip_locked THEN
      SELECT max_attendees, current_registrations INTO cap, used FROM public.sessions
       WHERE id = p_session FOR NO KEY UPDATE SKIP LOCKED;
    ELSE
      SELECT max_attendees, current_registrations INTO cap, used FROM public.sessions
       WHERE id = p_session FOR NO KEY UPDATE;
    END IF;
  ELSE
    IF skip_locked THEN
      SELECT capacity INTO cap FROM public.events WHERE id = p_event FOR NO KEY UPDATE SKIP LOCKED;
    ELSE
      SELECT capacity INTO cap FROM public.events WHERE id = p_event FOR NO KEY UPDATE;
    END IF;
    IF FOUND THEN
      SELECT count(*)::integer INTO used FROM public.attendees
       WHERE event_id = p_event AND status = 'registered' AND deleted_at IS NULL;
    END IF;
  END IF;
  locked := FOUND;
  free_places := CASE WHEN cap IS NULL THEN NULL ELSE greatest(cap - coalesce(used, 0), 0) END;
  RETURN NEXT;
END
$function$;

-- waitlist_fill()
CREATE OR REPLACE FUNCTION public.waitlist_fill(p_event uuid, p_session uuid, up_to integer DEFAULT NULL::integer)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  q record;
  room integer;
  offered integer := 0;
  win interval;
  entry record;
BEGIN
  SELECT * INTO q FROM public.waitlist_lock_queue(p_event, p_session);
  IF NOT q.locked THEN
    RETURN 0;
  END IF;
  room := CASE WHEN q.free_places IS NULL THEN coalesce(up_to, 0)
               ELSE q.free_places - public.waitlist_offers_outstanding(p_event, p_session) END;
  IF up_to IS NOT NULL THEN
    room := least(room, up_to);
  END IF;
  IF room <= 0 THEN
    RETURN 0;
  END IF;
  SELECT waitlist_offer_window INTO win FROM public.events WHERE id = p_event;
  FOR entry IN
    SELECT id, notify_on_availability FROM public.event_waitlists
     WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status = 'waiting'
     ORDER BY waitlist_position
     LIMIT room
       FOR UPDATE
  LOOP
    UPDATE public.event_waitlists
       SET status = 'offered', offered_at = now(), expires_at = now() + win,
           notification_sent_at = CASE WHEN notify_on_availability THEN now() END
     WHERE id = entry.id;
    IF entry.notify_on_availability THEN
      INSERT INTO public.outbox_messages (event_id, kind, source_id, channel, recipient_type, recipient_id)
      SELECT p_event, 'waitlist_offer', entry.id, 'email', 'attendee', w.attendee_id
        FROM public.event_waitlists w WHERE w.id = entry.id;
    END IF;
    offered := offered + 1;
  END LOOP;
  RETURN offered;
END
$function$;

-- waitlist_renumber()
CREATE OR REPLACE FUNCTION public.waitlist_renumber(p_event uuid, p_session uuid)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT id, waitlist_position AS pos, row_number() OVER (ORDER BY waitlist_position, created_at)::integer AS want
      FROM public.event_waitlists
     WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status IN ('waiting', 'offered')
     ORDER BY waitlist_position, created_at
  LOOP
    IF r.pos IS DISTINCT FROM r.want THEN
      UPDATE public.event_waitlists SET waitlist_position = r.want WHERE id = r.id;
    END IF;
  END LOOP;
END
$function$;

-- waitlist_offers_outstanding()
CREATE OR REPLACE FUNCTION public.waitlist_offers_outstanding(p_event uuid, p_session uuid)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT count(*)::integer FROM public.event_waitlists
       WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status = 'offered'
  );
END
$function$;

-- announcement_write_outbox()
CREATE OR REPLACE FUNCTION public.announcement_write_outbox(p_announcement uuid)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  written integer;
  people integer;
BEGIN
  INSERT INTO public.outbox_messages (event_id, kind, source_id, channel, recipient_type, recipient_id)
  SELECT a.event_id, 'announcement', a.id, ch.channel, r.recipient_type, r.recipient_id
    FROM public.event_announcements a
    CROSS JOIN LATERAL unnest(a.delivery_method) AS ch(channel)
    CROSS JOIN LATERAL public.announcement_recipients(a.id) AS r
   WHERE a.id = p_announcement
  ON CONFLICT (source_id, channel, recipient_type, recipient_id) WHERE kind = 'announcement' DO NOTHING;
  GET DIAGNOSTICS written = ROW_COUNT;
  SELECT count(*) INTO people FROM public.announcement_recipients(p_announcement);
  UPDATE public.event_announcements SET recipient_count = people WHERE id = p_announcement;
  RETURN written;
END
$function$;

-- announcement_recipients()
CREATE OR REPLACE FUNCTION public.announcement_recipients(p_announcement uuid)
 RETURNS TABLE(recipient_type text, recipient_id uuid)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
  WITH a AS (
    SELECT event_id, coalesce(target_audience, 'all') AS audience,
           coalesce(cardinality(target_sessions), 0) > 0 AS by_session, target_sessions
      FROM public.event_announcements WHERE id = p_announcement
  )
  SELECT 'attendee', at.id
    FROM a JOIN public.attendees at ON at.event_id = a.event_id
   WHERE a.audience IN ('all', 'attendees') AND at.status = 'registered' AND at.deleted_at IS NULL
     AND (NOT a.by_session
          OR EXISTS (SELECT 1 FROM public.session_registrations r
                      WHERE r.attendee_id = at.id AND r.status = 'registered' AND r.session_id = ANY (a.target_sessions))
          OR EXISTS (SELECT 1 FROM public.event_checkins c
                      WHERE c.attendee_id = at.id AND c.is_present AND c.session_id = ANY (a.target_sessions)))
  UNION ALL
  SELECT 'speaker', sp.id
    FROM a JOIN public.speakers sp ON sp.event_id = a.event_id
   WHERE a.audience IN ('all', 'speakers') AND sp.status <> 'cancelled'
     AND (NOT a.by_session
          OR EXISTS (SELECT 1 FROM public.sessions s WHERE s.speaker_id = sp.id AND s.id = ANY (a.target_sessions)))
  UNION ALL
  SELECT 'sponsor', so.id
    FROM a JOIN public.sponsors so ON so.event_id = a.event_id
   WHERE a.audience IN ('all', 'sponsors') AND NOT a.by_session
     AND so.status = 'confirmed' AND so.deleted_at IS NULL
  UNION ALL
  SELECT 'team_member', t.id
    FROM a JOIN public.event_teams t ON t.event_id = a.event_id
   WHERE a.audience IN ('all', 'organizers') AND NOT a.by_session AND t.status = 'active'
$function$;

-- profile_name()
CREATE OR REPLACE FUNCTION public.profile_name(p_profile uuid)
 RETURNS text
 LANGUAGE plpgsql
 STABLE SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT coalesce((SELECT full_name FROM public.profiles WHERE id = p_profile), 'someone')
  );
END
$function$;

-- event_local_time()
CREATE OR REPLACE FUNCTION public.event_local_time(p_event uuid, at timestamp with time zone)
 RETURNS text
 LANGUAGE plpgsql
 STABLE SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT to_char(at AT TIME ZONE coalesce((SELECT time_zone FROM public.events WHERE id = p_event), 'UTC'), 'HH24:MI')
  );
END
$function$;

-- require_permission()
CREATE OR REPLACE FUNCTION public.require_permission(event uuid, VARIADIC perms text[])
 RETURNS void
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  perm text;
BEGIN
  -- An event the caller cannot see at all: the caller's own lookup says "no such ..." more plainly.
  IF event IS NULL THEN
    RETURN;
  END IF;
  FOREACH perm IN ARRAY perms LOOP
    IF public.has_event_permission(event, perm) THEN
      RETURN;
    END IF;
  END LOOP;
  IF public.is_administrator() THEN
    RETURN;
  END IF;
  PERFORM public.refuse('permission_denied', format('your role at this event does not include %s',
                                             replace(array_to_string(perms, ' or '), '_', ' ')));
END
$function$;

-- has_event_permission()
CREATE OR REPLACE FUNCTION public.has_event_permission(event uuid, perm text)
 RETURNS boolean
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT event = ANY (public.member_event_ids(perm))
  );
END
$function$;

-- audit_append()
CREATE OR REPLACE FUNCTION public.audit_append(p_table text, p_row uuid, p_event uuid, p_action text, p_old jsonb, p_new jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  entry public.audit_log;
BEGIN
  -- One writer at a time: the chain's head row is the lock (an advisory lock, which any login may take
  -- and hold, once let a stranger stop the trail).
  SELECT last_hash INTO entry.prev_hash FROM public.audit_chain_head FOR UPDATE;
  entry.id := nextval(pg_get_serial_sequence('public.audit_log', 'id'));
  entry.at := clock_timestamp();
  entry.actor_id := public.acting_profile_id();
  entry.actor_role := session_user;
  entry.table_name := p_table;
  entry.row_id := p_row;
  entry.event_id := p_event;
  entry.action := p_action;
  entry.old_row := p_old;
  entry.new_row := p_new;
  entry.hash := sha256(entry.prev_hash || convert_to(public.audit_payload(entry), 'UTF8'));
  INSERT INTO public.audit_log OVERRIDING SYSTEM VALUE SELECT entry.*;
  UPDATE public.audit_chain_head SET last_id = entry.id, last_hash = entry.hash;
END
$function$;

-- realtime_flush()
CREATE OR REPLACE FUNCTION public.realtime_flush()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  mark record;
  changed record;
  sent integer := 0;
BEGIN
  FOR mark IN
    SELECT stream, flushed_below FROM public.realtime_watermarks
     WHERE flushed_below < horizon
     ORDER BY stream
       FOR UPDATE SKIP LOCKED
  LOOP
    FOR changed IN EXECUTE format(
      'SELECT event_id, count(*) AS n FROM public.%I WHERE change_xid >= $1 AND change_xid < $2 GROUP BY event_id',
      mark.stream) USING mark.flushed_below, horizon
    LOOP
      PERFORM pg_notify('eventos_changes', jsonb_build_object(
        'v', 1, 'table', mark.stream, 'op', 'BATCH', 'event_id', changed.event_id,
        'from_xid', mark.flushed_below::text, 'to_xid', horizon::text, 'count', changed.n)::text);
      sent := sent + 1;
    END LOOP;
    UPDATE public.realtime_watermarks SET flushed_below = horizon, flushed_at = now() WHERE stream = mark.stream;
  END LOOP;
  RETURN sent;
END
$function$;

-- expire_offers()
CREATE OR REPLACE FUNCTION public.expire_offers()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  q record;
  n integer;
  expired integer := 0;
BEGIN
  FOR q IN
    SELECT DISTINCT event_id, session_id FROM public.event_waitlists WHERE status = 'offered' AND expires_at <= clock_timestamp()
  LOOP
    IF (SELECT locked FROM public.waitlist_lock_queue(q.event_id, q.session_id, true)) THEN
      UPDATE public.event_waitlists SET status = 'expired'
       WHERE event_id = q.event_id AND session_id IS NOT DISTINCT FROM q.session_id
         AND status = 'offered' AND expires_at <= clock_timestamp();
      GET DIAGNOSTICS n = ROW_COUNT;
      expired := expired + n;
    END IF;
  END LOOP;
  RETURN expired;
END
$function$;

-- dispatch_due_announcements()
CREATE OR REPLACE FUNCTION public.dispatch_due_announcements(p_limit integer DEFAULT 100)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  due uuid;
  sent integer := 0;
BEGIN
  FOR due IN
    SELECT id FROM public.event_announcements
     WHERE status = 'scheduled' AND scheduled_for <= now()
     ORDER BY scheduled_for
     LIMIT greatest(coalesce(p_limit, 100), 1)
       FOR UPDATE SKIP LOCKED
  LOOP
    UPDATE public.event_announcements SET status = 'sent' WHERE id = due;
    sent := sent + 1;
  END LOOP;
  RETURN sent;
END
$function$;

-- refresh_rollups()
CREATE OR REPLACE FUNCTION public.refresh_rollups()
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  started timestamptz;
  view_name text;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('eventos.refresh_rollups')) THEN
    RETURN false;
  END IF;
  FOREACH view_name IN ARRAY ARRAY['analytics_hourly', 'feedback_summary'] LOOP
    started := clock_timestamp();
    EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', view_name);
    INSERT INTO public.rollup_refreshes AS r (view_name, refreshed_at, duration_ms)
    VALUES (view_name, now(), extract(epoch FROM clock_timestamp() - started) * 1000)
    ON CONFLICT ON CONSTRAINT rollup_refreshes_pkey
    DO UPDATE SET refreshed_at = excluded.refreshed_at, duration_ms = excluded.duration_ms;
  END LOOP;
  RETURN true;
END
$function$;

-- ensure_analytics_partitions()
CREATE OR REPLACE FUNCTION public.ensure_analytics_partitions(first_month date, months integer)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  lo timestamptz;
  hi timestamptz;
  part text;
  created integer := 0;
BEGIN
  IF months < 1 OR months > 120 THEN
    RAISE EXCEPTION 'months must be between 1 and 120, got %', months USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR i IN 0 .. months - 1 LOOP
    lo := date_trunc('month', first_month::timestamp + make_interval(months => i)) AT TIME ZONE 'UTC';
    hi := date_trunc('month', first_month::timestamp + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    part := 'event_analytics_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
    CONTINUE WHEN to_regclass('public.' || quote_ident(part)) IS NOT NULL;
    EXECUTE format('CREATE TABLE public.%I (LIKE public.event_analytics INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format(
      'WITH moved AS (DELETE FROM event_analytics_default
                       WHERE measurement_time >= $1 AND measurement_time < $2 RETURNING *)
       INSERT INTO public.%I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE public.event_analytics ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$function$;

-- realtime_flushed_at()
CREATE OR REPLACE FUNCTION public.realtime_flushed_at()
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  RETURN (SELECT min(flushed_at) FROM public.realtime_watermarks);
END
$function$;


------------------------------------------------------------------------------------------------------
-- The rest gain pg_temp last on their search_path (their bodies are unchanged).
------------------------------------------------------------------------------------------------------

ALTER FUNCTION refuse(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION default_permissions(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION is_currency_code(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION is_iana_time_zone(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION realtime_attach(regclass, text) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION security_owner_policy(regclass) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION security_protect(regclass, text, text, text) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION audit_payload(audit_log) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION audit_first_broken_link() SET search_path = pg_catalog, public, pg_temp;
-- The limit is written into realtime_notify_statement() now: it runs as the caller, who may execute
-- nothing of ours.
DROP FUNCTION realtime_row_hint_limit();

------------------------------------------------------------------------------------------------------
-- Who may execute what. Nobody by default; then the lists, by name.
------------------------------------------------------------------------------------------------------

ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, eventos_operator, eventos_worker;

-- Identity: who is acting and where. Row policies call the first two as the querying operator.
GRANT EXECUTE ON FUNCTION acting_profile_id(), member_event_ids(text), has_event_permission(uuid, text),
  is_administrator() TO eventos_operator, eventos_worker;
-- Pure checks that CHECK constraints call as the writer.
GRANT EXECUTE ON FUNCTION is_currency_code(text), is_iana_time_zone(text) TO eventos_operator;
-- Reading: names on the desks (under row security), recipients, roll-ups, liveness.
GRANT EXECUTE ON FUNCTION profile_name(uuid), announcement_recipients(uuid), event_feedback_summary(uuid),
  event_analytics_hourly(uuid), realtime_flushed_at() TO eventos_operator;
-- The SQL API (docs/sql-api.md).
GRANT EXECUTE ON FUNCTION
  check_in_by_code(uuid, text, text, text, uuid), check_in_attendee(uuid, text, uuid), check_out(uuid, uuid),
  register_session_seat(uuid, uuid), cancel_session_seat(uuid, uuid), set_session_capacity(uuid, integer),
  set_session_status(uuid, text),
  join_waitlist(uuid, uuid, boolean), offer_next(uuid, uuid, integer), accept_offer(uuid),
  cancel_waitlist_entry(uuid, text), extend_offer(uuid, interval),
  create_announcement(uuid, text, text, text, text, uuid[], text[]),
  update_announcement(uuid, text, text, text, text, uuid[], text[]),
  schedule_announcement(uuid, timestamptz), send_announcement_now(uuid), cancel_announcement(uuid),
  submit_expense(uuid, text, numeric, text, text, text, text, text, text, text), approve_expense(uuid),
  reject_expense(uuid, text), mark_expense_paid(uuid, date)
  TO eventos_operator;
-- The worker's steps.
GRANT EXECUTE ON FUNCTION realtime_flush(), expire_offers(), dispatch_due_announcements(integer),
  refresh_rollups(), ensure_analytics_partitions(date, integer), realtime_flushed_at() TO eventos_worker;

-- Large objects have no row security and cost the server's disk: operators create none. The functions
-- belong to the bootstrap superuser; a migrating role that is not one leaves them and says so.
DO $$
BEGIN
  REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer),
    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'large objects stay creatable by every login: only a superuser can revoke lo_create from PUBLIC';
END
$$;
