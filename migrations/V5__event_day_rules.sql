-- Event-day rules: the invariants of check-in, capacity, waitlist, announcements and expenses, enforced by
-- constraints and triggers so they hold for every client (gate scanners, the web app, consoles, psql),
-- and the SQL API the console and every other client call. See docs/sql-api.md.
--
-- A refusal is an error with SQLSTATE EV001, a one-sentence message for the person at the terminal, and
-- the rule's code in the error's CONSTRAINT field ("already_checked_in", "four_eyes", ...). Refused scans
-- are the exception: they are returned, not raised, so that the scan log row they write survives.
-- The API functions check the caller's permission with require_permission() (V6__security.sql).

------------------------------------------------------------------------------------------------------
-- Identity: who is acting. An operator logs in as their own PostgreSQL role; the role maps to a profile.
-- session_user, not current_user: SET ROLE changes current_user, nothing a client can do changes the
-- session user (SET SESSION AUTHORIZATION needs a superuser).
------------------------------------------------------------------------------------------------------

ALTER TABLE profiles ADD COLUMN login_role NAME UNIQUE;

CREATE FUNCTION acting_profile_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT id FROM public.profiles WHERE login_role = session_user AND deleted_at IS NULL
  );
END
$$;

CREATE FUNCTION refuse(code text, message text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'EV001', MESSAGE = message, CONSTRAINT = code;
END
$$;

-- hh:mm in the event's own time zone, for messages ("already checked in at 10:02 at North Gate").
CREATE FUNCTION event_local_time(p_event uuid, at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT to_char(at AT TIME ZONE coalesce((SELECT time_zone FROM public.events WHERE id = p_event), 'UTC'), 'HH24:MI')
  );
END
$$;

CREATE FUNCTION profile_name(p_profile uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT coalesce((SELECT full_name FROM public.profiles WHERE id = p_profile), 'someone')
  );
END
$$;

------------------------------------------------------------------------------------------------------
-- Attendees: a person on the event's waitlist has an attendee row with status 'waitlisted'.
------------------------------------------------------------------------------------------------------

ALTER TABLE attendees DROP CONSTRAINT attendees_status_check;
ALTER TABLE attendees ADD CONSTRAINT attendees_status_check
  CHECK (status IN ('registered', 'waitlisted', 'cancelled'));

------------------------------------------------------------------------------------------------------
-- Sessions: counters the database keeps, capacity, and legal status moves.
------------------------------------------------------------------------------------------------------

ALTER TABLE sessions ADD COLUMN present_count INTEGER NOT NULL DEFAULT 0 CHECK (present_count >= 0);
ALTER TABLE sessions ADD CONSTRAINT sessions_registrations_within_capacity
  CHECK (max_attendees IS NULL OR current_registrations <= max_attendees);
ALTER TABLE sessions ADD CONSTRAINT sessions_presence_within_capacity
  CHECK (max_attendees IS NULL OR present_count <= max_attendees);

-- Outstanding waitlist offers of a queue (session_id NULL: the event's own queue).
CREATE FUNCTION waitlist_offers_outstanding(p_event uuid, p_session uuid) RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT count(*)::integer FROM public.event_waitlists
       WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status = 'offered'
  );
END
$$;

CREATE FUNCTION sessions_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  offers integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- The counters start from the rows behind them, never from a client's number.
    NEW.current_registrations := 0;
    NEW.present_count := 0;
    IF NEW.status NOT IN ('scheduled', 'live') THEN
      PERFORM refuse('session_status', format('a new session starts as scheduled or live, not %s', NEW.status));
    END IF;
    RETURN NEW;
  END IF;

  -- Counters: only the triggers that keep them may move them (they run nested, at depth > 1).
  IF pg_trigger_depth() = 1 AND (NEW.current_registrations IS DISTINCT FROM OLD.current_registrations
                                 OR NEW.present_count IS DISTINCT FROM OLD.present_count) THEN
    PERFORM refuse('session_counters', 'registrations and attendance are counted by the database, not set');
  END IF;

  IF NEW.event_id IS DISTINCT FROM OLD.event_id THEN
    PERFORM refuse('session_event', 'a session cannot move to another event');
  END IF;

  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('live', 'cancelled'))
         OR (OLD.status = 'live' AND NEW.status IN ('completed', 'cancelled'))) THEN
      PERFORM refuse('session_status', format('a session cannot go from %s to %s (scheduled -> live -> completed, or cancelled)',
                                              OLD.status, NEW.status));
    END IF;
  END IF;

  IF NEW.max_attendees IS DISTINCT FROM OLD.max_attendees AND NEW.max_attendees IS NOT NULL THEN
    offers := waitlist_offers_outstanding(NEW.event_id, NEW.id);
    IF NEW.max_attendees < NEW.current_registrations + offers THEN
      PERFORM refuse('capacity_below_registrations',
        format('capacity cannot go below %s: %s registered and %s waitlist offers outstanding',
               NEW.current_registrations + offers, NEW.current_registrations, offers));
    END IF;
    IF NEW.max_attendees < NEW.present_count THEN
      PERFORM refuse('capacity_below_presence',
        format('capacity cannot go below the %s people in the room now', NEW.present_count));
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER sessions_guard BEFORE INSERT OR UPDATE ON sessions
  FOR EACH ROW EXECUTE FUNCTION sessions_guard();

------------------------------------------------------------------------------------------------------
-- Session registrations: one seat per attendee, the counter exact, never over capacity, offers respected.
------------------------------------------------------------------------------------------------------

CREATE FUNCTION session_registrations_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  s record;
  a record;
  offers integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id
       OR NEW.event_id IS DISTINCT FROM OLD.event_id THEN
      PERFORM refuse('registration_immutable', 'a registration cannot move; cancel it and register again');
    END IF;
    IF OLD.status = 'cancelled' AND NEW.status = 'registered' THEN
      PERFORM refuse('registration_final', 'a cancelled registration stays cancelled; register again');
    END IF;
    IF NEW.status = 'cancelled' AND NEW.cancelled_at IS NULL THEN
      NEW.cancelled_at := now();
    END IF;
    RETURN NEW;
  END IF;

  IF NEW.status <> 'registered' THEN
    PERFORM refuse('registration_status', 'a new registration is registered, not cancelled');
  END IF;
  NEW.cancelled_at := NULL;
  -- The session row is the queue's lock: registrations, offers and capacity changes take turns on it.
  SELECT id, event_id, title, status, max_attendees, current_registrations INTO s
    FROM sessions WHERE id = NEW.session_id FOR NO KEY UPDATE;
  IF NOT FOUND OR s.event_id <> NEW.event_id THEN
    PERFORM refuse('wrong_event', 'that session is not part of this event');
  END IF;
  IF s.status IN ('completed', 'cancelled') THEN
    PERFORM refuse('session_not_open', format('"%s" is %s', s.title, s.status));
  END IF;
  SELECT status, event_id INTO a FROM attendees WHERE id = NEW.attendee_id AND deleted_at IS NULL;
  IF NOT FOUND OR a.event_id <> NEW.event_id THEN
    PERFORM refuse('wrong_event', 'that attendee is not registered for this event');
  END IF;
  IF a.status <> 'registered' THEN
    PERFORM refuse('attendee_cancelled', format('the attendee is %s for the event', a.status));
  END IF;
  IF s.max_attendees IS NOT NULL THEN
    -- A seat that comes from an accepted offer uses the place the offer held.
    offers := CASE WHEN NEW.waitlist_id IS NULL THEN waitlist_offers_outstanding(s.event_id, s.id) ELSE 0 END;
    IF s.current_registrations + offers >= s.max_attendees THEN
      PERFORM refuse('session_full', CASE WHEN offers > 0
        THEN format('session is full: %s of %s places taken, %s held for waitlist offers',
                    s.current_registrations, s.max_attendees, offers)
        ELSE format('session is full: %s of %s places taken', s.current_registrations, s.max_attendees) END);
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER session_registrations_guard BEFORE INSERT OR UPDATE ON session_registrations
  FOR EACH ROW EXECUTE FUNCTION session_registrations_guard();

CREATE FUNCTION session_registrations_count() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  delta integer := 0;
  target uuid;
BEGIN
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
    UPDATE sessions SET current_registrations = current_registrations + delta WHERE id = target;
    IF delta < 0 THEN
      PERFORM waitlist_fill(coalesce(NEW.event_id, OLD.event_id), target);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER session_registrations_count AFTER INSERT OR UPDATE OF status OR DELETE ON session_registrations
  FOR EACH ROW EXECUTE FUNCTION session_registrations_count();

------------------------------------------------------------------------------------------------------
-- Check-ins: an entry needs a valid ticket of the event and an attendee who is not cancelled; one open
-- entry per attendee at the event and per session (the unique partial indexes of V2); check-out is final
-- and fills check_out_time, attendance_duration and is_present together; presence within capacity.
------------------------------------------------------------------------------------------------------

CREATE FUNCTION event_checkins_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a record;
  t record;
  s record;
  actor uuid := acting_profile_id();
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id
       OR NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.check_in_time IS DISTINCT FROM OLD.check_in_time THEN
      -- A session deleted under a check-in sets session_id to NULL (the seed's ON DELETE SET NULL).
      IF NOT (NEW.session_id IS NULL AND OLD.session_id IS NOT NULL AND pg_trigger_depth() > 1
              AND NEW.event_id = OLD.event_id AND NEW.attendee_id = OLD.attendee_id) THEN
        PERFORM refuse('checkin_immutable', 'a check-in cannot be moved or back-dated; check out and check in again');
      END IF;
    END IF;
    IF OLD.check_out_time IS NOT NULL AND (NEW.is_present OR NEW.check_out_time IS DISTINCT FROM OLD.check_out_time) THEN
      PERFORM refuse('checkout_final', 'a check-out is final; check in again instead');
    END IF;
    IF OLD.is_present AND (NOT NEW.is_present OR NEW.check_out_time IS NOT NULL) THEN
      -- Checking out: one of the two is enough, the database fills in the rest.
      NEW.is_present := false;
      NEW.check_out_time := coalesce(NEW.check_out_time, now());
      IF NEW.check_out_time < NEW.check_in_time THEN
        PERFORM refuse('checkout_before_checkin', 'a check-out cannot come before its check-in');
      END IF;
      NEW.attendance_duration := floor(extract(epoch FROM NEW.check_out_time - NEW.check_in_time) / 60)::integer;
      IF pg_trigger_depth() = 1 OR NEW.checked_out_by IS NULL THEN
        NEW.checked_out_by := coalesce(actor, NEW.checked_out_by);
      END IF;
    END IF;
    RETURN NEW;
  END IF;

  -- INSERT: a new entry is open.
  IF NOT NEW.is_present OR NEW.check_out_time IS NOT NULL THEN
    PERFORM refuse('checkin_open', 'a new check-in is open: record the check-out separately');
  END IF;
  NEW.attendance_duration := NULL;
  NEW.checked_out_by := NULL;
  IF NEW.check_in_time > now() + interval '1 minute' THEN
    PERFORM refuse('checkin_future', 'a check-in cannot be in the future');
  END IF;
  IF NEW.checked_in_by IS NULL OR actor IS NOT NULL THEN
    NEW.checked_in_by := actor;
  END IF;

  SELECT event_id, status, deleted_at INTO a FROM attendees WHERE id = NEW.attendee_id;
  IF NOT FOUND OR a.event_id <> NEW.event_id OR a.deleted_at IS NOT NULL THEN
    PERFORM refuse('wrong_event', 'that attendee is not registered for this event');
  END IF;
  IF a.status <> 'registered' THEN
    PERFORM refuse('attendee_cancelled', format('the attendee is %s', a.status));
  END IF;

  IF NEW.ticket_id IS NOT NULL THEN
    SELECT event_id, attendee_id, status INTO t FROM tickets WHERE id = NEW.ticket_id;
    IF t.event_id <> NEW.event_id THEN
      PERFORM refuse('wrong_event', 'the ticket belongs to another event');
    END IF;
    IF t.attendee_id <> NEW.attendee_id THEN
      PERFORM refuse('wrong_attendee', 'the ticket belongs to another attendee');
    END IF;
    IF t.status <> 'valid' THEN
      PERFORM refuse('ticket_' || t.status, format('ticket is %s', t.status));
    END IF;
  ELSE
    SELECT id INTO NEW.ticket_id FROM tickets
     WHERE attendee_id = NEW.attendee_id AND event_id = NEW.event_id AND status = 'valid'
     ORDER BY created_at LIMIT 1;
    IF NOT FOUND THEN
      PERFORM refuse('no_valid_ticket', 'the attendee holds no valid ticket for this event');
    END IF;
  END IF;

  IF NEW.session_id IS NOT NULL THEN
    SELECT event_id, status, title, registration_required INTO s FROM sessions WHERE id = NEW.session_id;
    IF s.event_id <> NEW.event_id THEN
      PERFORM refuse('wrong_event', 'that session is not part of this event');
    END IF;
    IF s.status IN ('completed', 'cancelled') THEN
      PERFORM refuse('session_not_open', format('"%s" is %s', s.title, s.status));
    END IF;
    IF s.registration_required AND NOT EXISTS (
         SELECT 1 FROM session_registrations
          WHERE session_id = NEW.session_id AND attendee_id = NEW.attendee_id AND status = 'registered') THEN
      PERFORM refuse('not_registered', format('not registered for "%s"', s.title));
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_checkins_guard BEFORE INSERT OR UPDATE ON event_checkins
  FOR EACH ROW EXECUTE FUNCTION event_checkins_guard();

-- People present in a session, kept on the session row (its CHECK keeps it within capacity).
CREATE FUNCTION event_checkins_presence() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.session_id IS NOT NULL AND OLD.is_present THEN
    UPDATE sessions SET present_count = present_count - 1 WHERE id = OLD.session_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.session_id IS NOT NULL AND NEW.is_present THEN
    UPDATE sessions SET present_count = present_count + 1 WHERE id = NEW.session_id;
    IF NOT FOUND THEN
      PERFORM refuse('wrong_event', 'that session does not exist');
    END IF;
  END IF;
  RETURN NULL;
END
$$;
-- WHEN keeps the event-entry hot path (session_id NULL) from calling the function at all.
CREATE TRIGGER event_checkins_presence_insert AFTER INSERT ON event_checkins
  FOR EACH ROW WHEN (NEW.session_id IS NOT NULL) EXECUTE FUNCTION event_checkins_presence();
CREATE TRIGGER event_checkins_presence_update AFTER UPDATE ON event_checkins
  FOR EACH ROW WHEN (OLD.session_id IS NOT NULL OR NEW.session_id IS NOT NULL) EXECUTE FUNCTION event_checkins_presence();
CREATE TRIGGER event_checkins_presence_delete AFTER DELETE ON event_checkins
  FOR EACH ROW WHEN (OLD.session_id IS NOT NULL) EXECUTE FUNCTION event_checkins_presence();

------------------------------------------------------------------------------------------------------
-- Waitlists: a queue per event (session_id NULL) and per session. Positions dense and unique among the
-- open entries (waiting, offered); an attendee waits once per queue; outstanding offers never exceed the
-- free places; 'converted' only from an unexpired offer; a freed place offers the next in line.
------------------------------------------------------------------------------------------------------

CREATE UNIQUE INDEX event_waitlists_open_position_key
  ON event_waitlists (event_id, session_id, waitlist_position) NULLS NOT DISTINCT
  WHERE status IN ('waiting', 'offered');
CREATE UNIQUE INDEX event_waitlists_open_attendee_key
  ON event_waitlists (event_id, session_id, attendee_id) NULLS NOT DISTINCT
  WHERE status IN ('waiting', 'offered');

-- Takes the queue's lock: the session row (a session's queue) or the event row (the event's queue).
-- FOR NO KEY UPDATE does not block the foreign-key checks of check-ins and registrations.
-- Returns the free places (NULL: unlimited) before outstanding offers are counted.
CREATE FUNCTION waitlist_lock_queue(p_event uuid, p_session uuid, skip_locked boolean DEFAULT false)
RETURNS TABLE (locked boolean, free_places integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  cap integer;
  used integer;
BEGIN
  -- Called directly (not from a trigger), only a team member, the worker or an administrator may lock.
  IF pg_trigger_depth() = 0 AND to_regprocedure('public.is_administrator()') IS NOT NULL
     AND NOT (p_event = ANY (member_event_ids(NULL)) OR is_administrator()
              OR pg_has_role(session_user, 'eventos_worker', 'MEMBER')) THEN
    PERFORM refuse('permission_denied', 'you are not on this event''s team');
  END IF;
  IF p_session IS NOT NULL THEN
    IF skip_locked THEN
      SELECT max_attendees, current_registrations INTO cap, used FROM sessions
       WHERE id = p_session FOR NO KEY UPDATE SKIP LOCKED;
    ELSE
      SELECT max_attendees, current_registrations INTO cap, used FROM sessions
       WHERE id = p_session FOR NO KEY UPDATE;
    END IF;
  ELSE
    IF skip_locked THEN
      SELECT capacity INTO cap FROM events WHERE id = p_event FOR NO KEY UPDATE SKIP LOCKED;
    ELSE
      SELECT capacity INTO cap FROM events WHERE id = p_event FOR NO KEY UPDATE;
    END IF;
    IF FOUND THEN
      SELECT count(*)::integer INTO used FROM attendees
       WHERE event_id = p_event AND status = 'registered' AND deleted_at IS NULL;
    END IF;
  END IF;
  locked := FOUND;
  free_places := CASE WHEN cap IS NULL THEN NULL ELSE greatest(cap - coalesce(used, 0), 0) END;
  RETURN NEXT;
END
$$;

-- Offers the next waiting entries while free places remain (at most `up_to`). Returns how many.
CREATE FUNCTION waitlist_fill(p_event uuid, p_session uuid, up_to integer DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  q record;
  room integer;
  offered integer := 0;
  win interval;
  entry record;
BEGIN
  SELECT * INTO q FROM waitlist_lock_queue(p_event, p_session);
  IF NOT q.locked THEN
    RETURN 0;
  END IF;
  room := CASE WHEN q.free_places IS NULL THEN coalesce(up_to, 0)
               ELSE q.free_places - waitlist_offers_outstanding(p_event, p_session) END;
  IF up_to IS NOT NULL THEN
    room := least(room, up_to);
  END IF;
  IF room <= 0 THEN
    RETURN 0;
  END IF;
  SELECT waitlist_offer_window INTO win FROM events WHERE id = p_event;
  FOR entry IN
    SELECT id, notify_on_availability FROM event_waitlists
     WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status = 'waiting'
     ORDER BY waitlist_position
     LIMIT room
       FOR UPDATE
  LOOP
    UPDATE event_waitlists
       SET status = 'offered', offered_at = now(), expires_at = now() + win,
           notification_sent_at = CASE WHEN notify_on_availability THEN now() END
     WHERE id = entry.id;
    IF entry.notify_on_availability THEN
      INSERT INTO outbox_messages (event_id, kind, source_id, channel, recipient_type, recipient_id)
      SELECT p_event, 'waitlist_offer', entry.id, 'email', 'attendee', w.attendee_id
        FROM event_waitlists w WHERE w.id = entry.id;
    END IF;
    offered := offered + 1;
  END LOOP;
  RETURN offered;
END
$$;

-- Renumbers the open entries of a queue 1..n in their order. Moving rows down in ascending order never
-- collides with the unique index: each row's target slot has already been vacated.
CREATE FUNCTION waitlist_renumber(p_event uuid, p_session uuid) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT id, waitlist_position AS pos, row_number() OVER (ORDER BY waitlist_position, created_at)::integer AS want
      FROM event_waitlists
     WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session AND status IN ('waiting', 'offered')
     ORDER BY waitlist_position, created_at
  LOOP
    IF r.pos IS DISTINCT FROM r.want THEN
      UPDATE event_waitlists SET waitlist_position = r.want WHERE id = r.id;
    END IF;
  END LOOP;
END
$$;

CREATE FUNCTION event_waitlists_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  q record;
  a record;
  s record;
  outstanding integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'waiting' THEN
      PERFORM refuse('waitlist_status', 'a new waitlist entry is waiting');
    END IF;
    SELECT event_id, status, deleted_at INTO a FROM attendees WHERE id = NEW.attendee_id;
    IF a.event_id IS DISTINCT FROM NEW.event_id OR a.deleted_at IS NOT NULL THEN
      PERFORM refuse('wrong_event', 'that attendee belongs to another event');
    END IF;
    IF NEW.session_id IS NOT NULL THEN
      SELECT event_id, status, title INTO s FROM sessions WHERE id = NEW.session_id;
      IF s.event_id IS DISTINCT FROM NEW.event_id THEN
        PERFORM refuse('wrong_event', 'that session is not part of this event');
      END IF;
      IF s.status IN ('completed', 'cancelled') THEN
        PERFORM refuse('session_not_open', format('"%s" is %s', s.title, s.status));
      END IF;
      IF a.status <> 'registered' THEN
        PERFORM refuse('attendee_cancelled', format('the attendee is %s for the event', a.status));
      END IF;
      IF EXISTS (SELECT 1 FROM session_registrations WHERE session_id = NEW.session_id
                    AND attendee_id = NEW.attendee_id AND status = 'registered') THEN
        PERFORM refuse('already_registered', format('already registered for "%s"', s.title));
      END IF;
      NEW.waitlist_reason := coalesce(NEW.waitlist_reason, 'session_full');
    ELSE
      IF a.status = 'registered' THEN
        PERFORM refuse('already_registered', 'already registered for the event');
      END IF;
      NEW.waitlist_reason := coalesce(NEW.waitlist_reason, 'event_full');
    END IF;
    PERFORM 1 FROM waitlist_lock_queue(NEW.event_id, NEW.session_id);
    IF EXISTS (SELECT 1 FROM event_waitlists
                WHERE event_id = NEW.event_id AND session_id IS NOT DISTINCT FROM NEW.session_id
                  AND attendee_id = NEW.attendee_id AND status IN ('waiting', 'offered')) THEN
      PERFORM refuse('already_waiting', 'already on this waitlist');
    END IF;
    -- The position is the queue's next, whatever a client sent.
    SELECT coalesce(max(waitlist_position), 0) + 1 INTO NEW.waitlist_position FROM event_waitlists
     WHERE event_id = NEW.event_id AND session_id IS NOT DISTINCT FROM NEW.session_id
       AND status IN ('waiting', 'offered');
    NEW.offered_at := NULL; NEW.expires_at := NULL; NEW.converted_at := NULL;
    NEW.cancelled_at := NULL; NEW.notification_sent_at := NULL;
    RETURN NEW;
  END IF;

  -- UPDATE
  IF NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.session_id IS DISTINCT FROM OLD.session_id
     OR NEW.attendee_id IS DISTINCT FROM OLD.attendee_id THEN
    PERFORM refuse('waitlist_immutable', 'a waitlist entry cannot move to another queue or person');
  END IF;
  IF NEW.waitlist_position IS DISTINCT FROM OLD.waitlist_position AND pg_trigger_depth() = 1 THEN
    PERFORM refuse('waitlist_position', 'positions are kept by the database: they follow the order of joining');
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'waiting' AND NEW.status IN ('offered', 'cancelled'))
         OR (OLD.status = 'offered' AND NEW.status IN ('converted', 'expired', 'cancelled'))) THEN
      PERFORM refuse('waitlist_status', format('a waitlist entry cannot go from %s to %s', OLD.status, NEW.status));
    END IF;
    IF NEW.status = 'offered' THEN
      SELECT * INTO q FROM waitlist_lock_queue(NEW.event_id, NEW.session_id);
      outstanding := waitlist_offers_outstanding(NEW.event_id, NEW.session_id);
      IF q.free_places IS NOT NULL AND outstanding + 1 > q.free_places THEN
        PERFORM refuse('no_free_place', format('no free place to offer: %s free, %s offers outstanding',
                                               q.free_places, outstanding));
      END IF;
      NEW.offered_at := coalesce(NEW.offered_at, now());
      IF NEW.expires_at IS NULL THEN
        SELECT now() + waitlist_offer_window INTO NEW.expires_at FROM events WHERE id = NEW.event_id;
      END IF;
    ELSIF NEW.status = 'converted' THEN
      IF OLD.expires_at <= now() THEN
        PERFORM refuse('offer_expired', format('the offer expired at %s', event_local_time(NEW.event_id, OLD.expires_at)));
      END IF;
      NEW.converted_at := now();
    ELSIF NEW.status = 'cancelled' THEN
      NEW.cancelled_at := now();
    END IF;
  ELSIF NEW.status = 'offered' AND NEW.expires_at IS DISTINCT FROM OLD.expires_at AND NEW.expires_at <= now() THEN
    PERFORM refuse('offer_expired', 'an offer can only be extended into the future');
  END IF;
  IF NEW.status NOT IN ('waiting', 'offered') AND OLD.status NOT IN ('waiting', 'offered') THEN
    PERFORM refuse('waitlist_final', format('this waitlist entry is %s and final', OLD.status));
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_waitlists_guard BEFORE INSERT OR UPDATE ON event_waitlists
  FOR EACH ROW EXECUTE FUNCTION event_waitlists_guard();

-- An entry that leaves the open queue closes its gap; an offer that lapses passes the place on.
CREATE FUNCTION event_waitlists_after() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  ev uuid := coalesce(NEW.event_id, OLD.event_id);
  se uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.session_id ELSE NEW.session_id END;
BEGIN
  PERFORM 1 FROM waitlist_lock_queue(ev, se);
  PERFORM waitlist_renumber(ev, se);
  IF TG_OP = 'DELETE' AND OLD.status = 'offered'
     OR TG_OP = 'UPDATE' AND OLD.status = 'offered' AND NEW.status IN ('expired', 'cancelled') THEN
    PERFORM waitlist_fill(ev, se);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER event_waitlists_after_update AFTER UPDATE OF status ON event_waitlists
  FOR EACH ROW WHEN (OLD.status IN ('waiting', 'offered') AND NEW.status NOT IN ('waiting', 'offered'))
  EXECUTE FUNCTION event_waitlists_after();
CREATE TRIGGER event_waitlists_after_delete AFTER DELETE ON event_waitlists
  FOR EACH ROW WHEN (OLD.status IN ('waiting', 'offered'))
  EXECUTE FUNCTION event_waitlists_after();

-- More room (raised capacity, a cancelled attendee) offers the next in line.
CREATE FUNCTION capacity_freed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    PERFORM waitlist_fill(NEW.event_id, NEW.id);
  ELSIF TG_TABLE_NAME = 'events' THEN
    PERFORM waitlist_fill(NEW.id, NULL);
  ELSE
    PERFORM waitlist_fill(NEW.event_id, NULL);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_capacity_freed AFTER UPDATE OF max_attendees ON sessions
  FOR EACH ROW WHEN (NEW.max_attendees IS NULL OR NEW.max_attendees > coalesce(OLD.max_attendees, 0))
  EXECUTE FUNCTION capacity_freed();
CREATE TRIGGER events_capacity_freed AFTER UPDATE OF capacity ON events
  FOR EACH ROW WHEN (NEW.capacity IS NULL OR NEW.capacity > coalesce(OLD.capacity, 0))
  EXECUTE FUNCTION capacity_freed();
CREATE TRIGGER attendees_capacity_freed AFTER UPDATE OF status ON attendees
  FOR EACH ROW WHEN (OLD.status = 'registered' AND NEW.status <> 'registered')
  EXECUTE FUNCTION capacity_freed();

-- A cancelled attendee gives back their seats and leaves every queue.
CREATE FUNCTION attendee_cancelled() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  UPDATE session_registrations SET status = 'cancelled'
   WHERE attendee_id = NEW.id AND status = 'registered';
  UPDATE event_waitlists SET status = 'cancelled', cancel_reason = 'attendee cancelled'
   WHERE attendee_id = NEW.id AND status IN ('waiting', 'offered');
  RETURN NULL;
END
$$;
CREATE TRIGGER attendees_cancelled AFTER UPDATE OF status ON attendees
  FOR EACH ROW WHEN (OLD.status <> 'cancelled' AND NEW.status = 'cancelled')
  EXECUTE FUNCTION attendee_cancelled();

------------------------------------------------------------------------------------------------------
-- The outbox: one row per recipient and channel, for the email / push / sms / in-app integrations.
------------------------------------------------------------------------------------------------------

CREATE TABLE outbox_messages (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL CHECK (kind IN ('announcement', 'waitlist_offer')),
  -- The announcement or waitlist entry the message comes from.
  source_id      UUID NOT NULL,
  channel        TEXT NOT NULL CHECK (channel IN ('email', 'push', 'in_app', 'sms')),
  recipient_type TEXT NOT NULL CHECK (recipient_type IN ('attendee', 'speaker', 'sponsor', 'team_member')),
  recipient_id   UUID NOT NULL,
  status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error     TEXT,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  sent_at        TIMESTAMPTZ
);
CREATE INDEX outbox_messages_event_id_idx ON outbox_messages (event_id);
-- Exactly once per announcement, recipient and channel.
CREATE UNIQUE INDEX outbox_messages_announcement_key ON outbox_messages (source_id, channel, recipient_type, recipient_id)
  WHERE kind = 'announcement';
-- What the integrations pick up.
CREATE INDEX outbox_messages_pending_idx ON outbox_messages (created_at) WHERE status = 'pending';

------------------------------------------------------------------------------------------------------
-- Announcements: 'scheduled' needs scheduled_for (not in the past); 'sent' happens once; sent and
-- cancelled are final.
------------------------------------------------------------------------------------------------------

ALTER TABLE event_announcements ADD COLUMN recipient_count INTEGER CHECK (recipient_count >= 0);
ALTER TABLE event_announcements ADD COLUMN cancelled_at TIMESTAMPTZ;
ALTER TABLE event_announcements ADD CONSTRAINT event_announcements_scheduled_has_time
  CHECK (status <> 'scheduled' OR scheduled_for IS NOT NULL);
ALTER TABLE event_announcements ADD CONSTRAINT event_announcements_sent_has_time
  CHECK ((status = 'sent') = (sent_at IS NOT NULL));
ALTER TABLE event_announcements ADD CONSTRAINT event_announcements_title_present
  CHECK (btrim(title) <> '' AND length(title) <= 200);
ALTER TABLE event_announcements ADD CONSTRAINT event_announcements_content_present
  CHECK (btrim(content) <> '' AND length(content) <= 10000);

CREATE FUNCTION event_announcements_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status IN ('sent', 'cancelled') THEN
      PERFORM refuse('announcement_status', 'a new announcement is a draft or scheduled; send it afterwards');
    END IF;
    NEW.sent_at := NULL;
    NEW.recipient_count := NULL;
    NEW.author_id := coalesce(acting_profile_id(), NEW.author_id);
  ELSE
    -- Nested (depth > 1): the sending trigger recording the recipient count.
    IF OLD.status IN ('sent', 'cancelled') AND pg_trigger_depth() = 1 THEN
      PERFORM refuse('announcement_final', format('this announcement was %s and is final', OLD.status));
    END IF;
    IF NEW.event_id IS DISTINCT FROM OLD.event_id THEN
      PERFORM refuse('announcement_event', 'an announcement cannot move to another event');
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
         (OLD.status = 'draft' AND NEW.status IN ('scheduled', 'sent', 'cancelled'))
      OR (OLD.status = 'scheduled' AND NEW.status IN ('draft', 'sent', 'cancelled'))) THEN
      PERFORM refuse('announcement_status', format('an announcement cannot go from %s to %s', OLD.status, NEW.status));
    END IF;
    IF NEW.status = 'cancelled' THEN
      NEW.cancelled_at := now();
    END IF;
    IF NEW.status <> 'sent' AND NEW.sent_at IS NOT NULL THEN
      PERFORM refuse('announcement_sent_at', 'sent_at is set by sending');
    END IF;
  END IF;
  IF NEW.status = 'sent' AND (TG_OP = 'INSERT' OR OLD.status <> 'sent') THEN
    -- Sent now, once: the moment is the database's, not the client's.
    NEW.sent_at := now();
    IF NEW.target_audience IS NULL THEN
      PERFORM refuse('announcement_audience', 'choose an audience before sending');
    END IF;
    IF coalesce(cardinality(NEW.delivery_method), 0) = 0 THEN
      PERFORM refuse('announcement_channels', 'choose at least one delivery method before sending');
    END IF;
  END IF;
  IF NEW.status = 'scheduled' AND (TG_OP = 'INSERT' OR OLD.status <> 'scheduled'
                                   OR NEW.scheduled_for IS DISTINCT FROM OLD.scheduled_for) THEN
    IF NEW.scheduled_for < now() - interval '1 minute' THEN
      PERFORM refuse('schedule_in_past', format('%s is in the past', event_local_time(NEW.event_id, NEW.scheduled_for)));
    END IF;
    IF NEW.target_audience IS NULL THEN
      PERFORM refuse('announcement_audience', 'choose an audience before scheduling');
    END IF;
    IF coalesce(cardinality(NEW.delivery_method), 0) = 0 THEN
      PERFORM refuse('announcement_channels', 'choose at least one delivery method before scheduling');
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_announcements_guard BEFORE INSERT OR UPDATE ON event_announcements
  FOR EACH ROW EXECUTE FUNCTION event_announcements_guard();

-- The recipients of an announcement: (recipient_type, recipient_id), from its audience and sessions.
-- With target_sessions: attendees registered for or present in one of them, and their speakers.
CREATE FUNCTION announcement_recipients(p_announcement uuid)
RETURNS TABLE (recipient_type text, recipient_id uuid)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
  WITH a AS (
    SELECT event_id, coalesce(target_audience, 'all') AS audience,
           coalesce(cardinality(target_sessions), 0) > 0 AS by_session, target_sessions
      FROM event_announcements WHERE id = p_announcement
  )
  SELECT 'attendee', at.id
    FROM a JOIN attendees at ON at.event_id = a.event_id
   WHERE a.audience IN ('all', 'attendees') AND at.status = 'registered' AND at.deleted_at IS NULL
     AND (NOT a.by_session
          OR EXISTS (SELECT 1 FROM session_registrations r
                      WHERE r.attendee_id = at.id AND r.status = 'registered' AND r.session_id = ANY (a.target_sessions))
          OR EXISTS (SELECT 1 FROM event_checkins c
                      WHERE c.attendee_id = at.id AND c.is_present AND c.session_id = ANY (a.target_sessions)))
  UNION ALL
  SELECT 'speaker', sp.id
    FROM a JOIN speakers sp ON sp.event_id = a.event_id
   WHERE a.audience IN ('all', 'speakers') AND sp.status <> 'cancelled'
     AND (NOT a.by_session
          OR EXISTS (SELECT 1 FROM sessions s WHERE s.speaker_id = sp.id AND s.id = ANY (a.target_sessions)))
  UNION ALL
  SELECT 'sponsor', so.id
    FROM a JOIN sponsors so ON so.event_id = a.event_id
   WHERE a.audience IN ('all', 'sponsors') AND NOT a.by_session
     AND so.status = 'confirmed' AND so.deleted_at IS NULL
  UNION ALL
  SELECT 'team_member', t.id
    FROM a JOIN event_teams t ON t.event_id = a.event_id
   WHERE a.audience IN ('all', 'organizers') AND NOT a.by_session AND t.status = 'active'
$$;

-- Writes the outbox for a sent announcement: one row per recipient and channel, never twice.
CREATE FUNCTION announcement_write_outbox(p_announcement uuid) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  written integer;
  people integer;
BEGIN
  INSERT INTO outbox_messages (event_id, kind, source_id, channel, recipient_type, recipient_id)
  SELECT a.event_id, 'announcement', a.id, ch.channel, r.recipient_type, r.recipient_id
    FROM event_announcements a
    CROSS JOIN LATERAL unnest(a.delivery_method) AS ch(channel)
    CROSS JOIN LATERAL announcement_recipients(a.id) AS r
   WHERE a.id = p_announcement
  ON CONFLICT (source_id, channel, recipient_type, recipient_id) WHERE kind = 'announcement' DO NOTHING;
  GET DIAGNOSTICS written = ROW_COUNT;
  SELECT count(*) INTO people FROM announcement_recipients(p_announcement);
  UPDATE event_announcements SET recipient_count = people WHERE id = p_announcement;
  RETURN written;
END
$$;

-- Whoever sends (the API, the dispatcher, a raw UPDATE) gets the outbox written in the same transaction.
CREATE FUNCTION event_announcements_sent() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  PERFORM announcement_write_outbox(NEW.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER event_announcements_sent AFTER UPDATE OF status ON event_announcements
  FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent')
  EXECUTE FUNCTION event_announcements_sent();

------------------------------------------------------------------------------------------------------
-- Expenses: pending -> approved | rejected, approved -> paid; four eyes; the deciding operator is the
-- one logged in, never a value the client passes; a rejection needs its reason; amounts are frozen once
-- decided.
------------------------------------------------------------------------------------------------------

ALTER TABLE event_expenses ADD CONSTRAINT event_expenses_rejection_has_reason
  CHECK (status <> 'rejected' OR btrim(coalesce(rejection_reason, '')) <> '');
ALTER TABLE event_expenses ADD CONSTRAINT event_expenses_four_eyes
  CHECK (approved_by IS NULL OR created_by IS NULL OR approved_by <> created_by);
ALTER TABLE event_expenses ADD CONSTRAINT event_expenses_name_present
  CHECK (btrim(expense_name) <> '' AND length(expense_name) <= 200);
-- An absurd amount is a typo: DECIMAL(10,2) already stops at 99,999,999.99.

CREATE FUNCTION event_expenses_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  actor uuid := acting_profile_id();
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' THEN
      PERFORM refuse('expense_status', 'a new expense is pending until someone else approves it');
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
     OR (NEW.created_by IS DISTINCT FROM OLD.created_by AND NOT (NEW.created_by IS NULL AND pg_trigger_depth() > 1)) THEN
    PERFORM refuse('expense_immutable', 'an expense keeps its event and its submitter');
  END IF;
  IF OLD.status <> 'pending' AND (NEW.amount IS DISTINCT FROM OLD.amount OR NEW.currency IS DISTINCT FROM OLD.currency) THEN
    PERFORM refuse('expense_decided', format('the amount of an %s expense cannot change', OLD.status));
  END IF;

  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected'))
         OR (OLD.status = 'approved' AND NEW.status = 'paid')) THEN
      IF OLD.status = 'approved' AND NEW.status IN ('approved', 'rejected') OR OLD.status IN ('paid', 'rejected') THEN
        PERFORM refuse('expense_decided', format('already %s by %s at %s', OLD.status,
          profile_name(CASE OLD.status WHEN 'rejected' THEN OLD.rejected_by WHEN 'paid' THEN OLD.paid_by ELSE OLD.approved_by END),
          event_local_time(OLD.event_id, CASE OLD.status WHEN 'rejected' THEN OLD.rejected_at WHEN 'paid' THEN OLD.updated_at ELSE OLD.approved_at END)));
      END IF;
      PERFORM refuse('expense_status', format('an expense cannot go from %s to %s (pending -> approved or rejected, approved -> paid)',
                                              OLD.status, NEW.status));
    END IF;
    IF actor IS NULL THEN
      PERFORM refuse('not_an_operator', format('only an operator with a profile can mark an expense %s', NEW.status));
    END IF;
    IF NEW.status IN ('approved', 'rejected') AND actor = OLD.created_by THEN
      PERFORM refuse('four_eyes', 'you submitted this expense: someone else must decide it');
    END IF;
    IF NEW.status = 'approved' THEN
      NEW.approved_by := actor;
      NEW.approved_at := now();
    ELSIF NEW.status = 'rejected' THEN
      IF btrim(coalesce(NEW.rejection_reason, '')) = '' THEN
        PERFORM refuse('rejection_reason', 'a rejection needs a reason');
      END IF;
      NEW.rejected_by := actor;
      NEW.rejected_at := now();
    ELSIF NEW.status = 'paid' THEN
      NEW.paid_by := actor;
      NEW.payment_date := coalesce(NEW.payment_date, current_date);
      IF NEW.payment_date > current_date + 1 THEN
        PERFORM refuse('payment_date', 'a payment date cannot be in the future');
      END IF;
    END IF;
  ELSE
    -- The decision's fields belong to the decision.
    IF NEW.approved_by IS DISTINCT FROM OLD.approved_by OR NEW.approved_at IS DISTINCT FROM OLD.approved_at
       OR NEW.rejected_by IS DISTINCT FROM OLD.rejected_by OR NEW.rejected_at IS DISTINCT FROM OLD.rejected_at
       OR NEW.paid_by IS DISTINCT FROM OLD.paid_by
       OR (OLD.status <> 'pending' AND NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason)
       OR NEW.payment_date IS DISTINCT FROM OLD.payment_date THEN
      -- ON DELETE SET NULL of a deleted profile is the one nested change allowed.
      IF pg_trigger_depth() = 1 THEN
        PERFORM refuse('expense_decision_fields', 'who decided and when is recorded by approving, rejecting or paying');
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_expenses_guard BEFORE INSERT OR UPDATE ON event_expenses
  FOR EACH ROW EXECUTE FUNCTION event_expenses_guard();

------------------------------------------------------------------------------------------------------
-- The SQL API. SECURITY INVOKER (the default): Row Level Security and privileges apply to the caller.
------------------------------------------------------------------------------------------------------

-- What a check-in attempt came to. Refusals are returned (and logged in refused_scans), not raised.
CREATE TYPE checkin_result AS (
  accepted      boolean,
  reason_code   text,
  message       text,
  checkin_id    uuid,
  attendee_id   uuid,
  attendee_name text,
  ticket_type   text,
  checked_in_at timestamptz
);

-- Records a refused scan and returns the refusal.
CREATE FUNCTION checkin_refusal(p_event uuid, p_session uuid, p_code text, p_gate text, p_method text,
                                p_reason_code text, p_message text, p_ticket uuid DEFAULT NULL,
                                p_attendee uuid DEFAULT NULL, p_conflict uuid DEFAULT NULL)
RETURNS checkin_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  result checkin_result;
BEGIN
  -- Checked here, off the accepted path: a scan for an event that does not exist is an error, not a log row.
  IF NOT EXISTS (SELECT 1 FROM events WHERE id = p_event) THEN
    PERFORM refuse('unknown_event', 'no such event');
  END IF;
  INSERT INTO refused_scans (event_id, session_id, code, code_length, gate, method, reason_code, reason,
                             ticket_id, attendee_id, conflicting_checkin_id, scanned_by)
  VALUES (p_event, p_session, left(coalesce(p_code, ''), 512), length(coalesce(p_code, '')), left(p_gate, 100),
          p_method, p_reason_code, p_message, p_ticket, p_attendee, p_conflict, acting_profile_id());
  result.accepted := false;
  result.reason_code := p_reason_code;
  result.message := p_message;
  result.attendee_id := p_attendee;
  IF p_attendee IS NOT NULL THEN
    SELECT btrim(first_name || ' ' || last_name) INTO result.attendee_name FROM attendees WHERE id = p_attendee;
  END IF;
  RETURN result;
END
$$;

-- The one path every check-in takes once the ticket is known (by code at a gate, or by an operator).
CREATE FUNCTION checkin_admit(p_event uuid, p_session uuid, p_ticket uuid, p_code text, p_gate text, p_method text)
RETURNS checkin_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  t record;
  s record;
  open_entry record;
  new_id uuid;
  result checkin_result;
BEGIN
  SELECT tk.id, tk.event_id, tk.status, tk.attendee_id, a.status AS attendee_status,
         btrim(a.first_name || ' ' || a.last_name) AS name, tt.name AS ticket_type
    INTO t
    FROM tickets tk JOIN attendees a ON a.id = tk.attendee_id JOIN ticket_types tt ON tt.id = tk.ticket_type_id
   WHERE tk.id = p_ticket;
  IF t.event_id <> p_event THEN
    RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'wrong_event',
                           'ticket is for another event', t.id);
  END IF;
  IF t.status = 'void' THEN
    RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'ticket_void', 'ticket is void', t.id, t.attendee_id);
  END IF;
  IF t.status = 'refunded' THEN
    RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'ticket_refunded', 'ticket was refunded', t.id, t.attendee_id);
  END IF;
  IF t.attendee_status <> 'registered' THEN
    RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'attendee_cancelled',
                           format('%s is %s', t.name, t.attendee_status), t.id, t.attendee_id);
  END IF;

  IF p_session IS NOT NULL THEN
    -- The session row serializes its door, so "present" never passes capacity.
    SELECT id, event_id, title, status, max_attendees, present_count, registration_required INTO s
      FROM sessions WHERE id = p_session FOR NO KEY UPDATE;
    IF NOT FOUND OR s.event_id <> p_event THEN
      RETURN checkin_refusal(p_event, NULL, p_code, p_gate, p_method, 'wrong_event',
                             'that session is not part of this event', t.id, t.attendee_id);
    END IF;
    IF s.status IN ('completed', 'cancelled') THEN
      RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'session_not_open',
                             format('"%s" is %s', s.title, s.status), t.id, t.attendee_id);
    END IF;
    IF s.registration_required AND NOT EXISTS (
         SELECT 1 FROM session_registrations
          WHERE session_id = p_session AND attendee_id = t.attendee_id AND status = 'registered') THEN
      RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'not_registered',
                             format('%s is not registered for "%s"', t.name, s.title), t.id, t.attendee_id);
    END IF;
  END IF;

  -- Two spellings so each uses its unique partial index (IS NOT DISTINCT FROM would use neither).
  IF p_session IS NULL THEN
    SELECT id, check_in_time, gate INTO open_entry FROM event_checkins
     WHERE event_id = p_event AND attendee_id = t.attendee_id AND is_present AND session_id IS NULL;
  ELSE
    SELECT id, check_in_time, gate INTO open_entry FROM event_checkins
     WHERE session_id = p_session AND attendee_id = t.attendee_id AND is_present;
  END IF;
  IF NOT FOUND THEN
    IF p_session IS NOT NULL THEN
      IF s.max_attendees IS NOT NULL AND s.present_count >= s.max_attendees THEN
        RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'session_full',
                               format('session is full: %s of %s present', s.present_count, s.max_attendees),
                               t.id, t.attendee_id);
      END IF;
    END IF;
    IF p_session IS NULL THEN
      INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
      VALUES (p_event, t.attendee_id, t.id, p_gate, p_method, left(p_code, 512), p_gate)
      ON CONFLICT (event_id, attendee_id) WHERE is_present AND session_id IS NULL DO NOTHING
      RETURNING id INTO new_id;
    ELSE
      INSERT INTO event_checkins (event_id, attendee_id, session_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
      VALUES (p_event, t.attendee_id, p_session, t.id, p_gate, p_method, left(p_code, 512), p_gate)
      ON CONFLICT (session_id, attendee_id) WHERE is_present AND session_id IS NOT NULL DO NOTHING
      RETURNING id INTO new_id;
    END IF;
    IF new_id IS NOT NULL THEN
      result.accepted := true;
      result.reason_code := 'accepted';
      result.message := format('%s checked in', t.name);
      result.checkin_id := new_id;
      result.attendee_id := t.attendee_id;
      result.attendee_name := t.name;
      result.ticket_type := t.ticket_type;
      result.checked_in_at := now();
      RETURN result;
    END IF;
    -- Another gate admitted the same person a moment ago: their entry is the one that stands.
    IF p_session IS NULL THEN
      SELECT id, check_in_time, gate INTO open_entry FROM event_checkins
       WHERE event_id = p_event AND attendee_id = t.attendee_id AND is_present AND session_id IS NULL;
    ELSE
      SELECT id, check_in_time, gate INTO open_entry FROM event_checkins
       WHERE session_id = p_session AND attendee_id = t.attendee_id AND is_present;
    END IF;
  END IF;
  RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'already_checked_in',
    format('already checked in at %s%s', event_local_time(p_event, open_entry.check_in_time),
           CASE WHEN open_entry.gate IS NOT NULL THEN ' at ' || open_entry.gate ELSE '' END),
    t.id, t.attendee_id, open_entry.id);
END
$$;

-- A gate scan. The code is what the scanner typed (its trailing Enter already stripped).
CREATE FUNCTION check_in_by_code(p_event uuid, p_code text, p_gate text DEFAULT NULL,
                                 p_method text DEFAULT 'qr_code', p_session uuid DEFAULT NULL)
RETURNS checkin_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  ticket uuid;
  scanned text := btrim(p_code, E' \t\r\n');
BEGIN
  PERFORM require_permission(p_event, 'check_in_attendees');
  IF p_method IS NULL OR p_method NOT IN ('qr_code', 'manual', 'nfc', 'app') THEN
    PERFORM refuse('invalid_method', format('check-in method must be qr_code, manual, nfc or app, not %s', coalesce(p_method, 'nothing')));
  END IF;
  IF scanned IS NULL OR scanned = '' THEN
    RETURN checkin_refusal(p_event, p_session, coalesce(p_code, ''), p_gate, p_method, 'invalid_code', 'empty scan');
  END IF;
  IF length(scanned) > 128 OR scanned !~ '^[[:graph:]]+$' THEN
    RETURN checkin_refusal(p_event, p_session, p_code, p_gate, p_method, 'invalid_code',
      CASE WHEN length(scanned) > 128 THEN format('not a ticket code (%s characters)', length(scanned))
           ELSE 'not a ticket code (it holds spaces or control characters)' END);
  END IF;
  SELECT id INTO ticket FROM tickets WHERE code = scanned;
  IF NOT FOUND THEN
    RETURN checkin_refusal(p_event, p_session, scanned, p_gate, p_method, 'unknown_code', 'unknown ticket code');
  END IF;
  RETURN checkin_admit(p_event, p_session, ticket, scanned, p_gate, p_method);
END
$$;

-- An operator checks a person in by hand (found by name or email on the desk).
CREATE FUNCTION check_in_attendee(p_attendee uuid, p_gate text DEFAULT NULL, p_session uuid DEFAULT NULL)
RETURNS checkin_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a record;
  ticket uuid;
BEGIN
  SELECT id, event_id, status, btrim(first_name || ' ' || last_name) AS name INTO a
    FROM attendees WHERE id = p_attendee AND deleted_at IS NULL;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_attendee', 'no such attendee');
  END IF;
  PERFORM require_permission(a.event_id, 'check_in_attendees');
  SELECT id INTO ticket FROM tickets
   WHERE attendee_id = a.id AND event_id = a.event_id
   ORDER BY (status = 'valid') DESC, created_at LIMIT 1;
  IF NOT FOUND THEN
    RETURN checkin_refusal(a.event_id, p_session, '', p_gate, 'manual', 'no_valid_ticket',
                           format('%s holds no ticket', a.name), NULL, a.id);
  END IF;
  RETURN checkin_admit(a.event_id, p_session, ticket, '', p_gate, 'manual');
END
$$;

-- Closes a person's open entry at the event (p_session NULL) or in a session.
CREATE FUNCTION check_out(p_attendee uuid, p_session uuid DEFAULT NULL) RETURNS event_checkins
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry event_checkins;
  ev uuid;
BEGIN
  SELECT event_id INTO ev FROM attendees WHERE id = p_attendee;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_attendee', 'no such attendee');
  END IF;
  PERFORM require_permission(ev, 'check_in_attendees');
  IF p_session IS NULL THEN
    UPDATE event_checkins SET is_present = false, check_out_time = now()
     WHERE attendee_id = p_attendee AND is_present AND session_id IS NULL
    RETURNING * INTO entry;
  ELSE
    UPDATE event_checkins SET is_present = false, check_out_time = now()
     WHERE session_id = p_session AND attendee_id = p_attendee AND is_present
    RETURNING * INTO entry;
  END IF;
  IF NOT FOUND THEN
    PERFORM refuse('not_checked_in', CASE WHEN p_session IS NULL THEN 'not checked in' ELSE 'not checked in to that session' END);
  END IF;
  RETURN entry;
END
$$;

-- Sessions ------------------------------------------------------------------------------------------

CREATE FUNCTION register_session_seat(p_session uuid, p_attendee uuid) RETURNS session_registrations
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  ev uuid;
  seat session_registrations;
BEGIN
  SELECT event_id INTO ev FROM sessions WHERE id = p_session;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_session', 'no such session');
  END IF;
  PERFORM require_permission(ev, 'manage_attendees');
  IF EXISTS (SELECT 1 FROM session_registrations WHERE session_id = p_session AND attendee_id = p_attendee
                AND status = 'registered') THEN
    PERFORM refuse('already_registered', 'already registered for this session');
  END IF;
  INSERT INTO session_registrations (event_id, session_id, attendee_id)
  VALUES (ev, p_session, p_attendee)
  RETURNING * INTO seat;
  RETURN seat;
EXCEPTION WHEN unique_violation THEN
  PERFORM refuse('already_registered', 'already registered for this session');
END
$$;

CREATE FUNCTION cancel_session_seat(p_session uuid, p_attendee uuid) RETURNS session_registrations
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  seat session_registrations;
BEGIN
  PERFORM require_permission((SELECT event_id FROM sessions WHERE id = p_session), 'manage_attendees');
  UPDATE session_registrations SET status = 'cancelled', cancelled_at = now()
   WHERE session_id = p_session AND attendee_id = p_attendee AND status = 'registered'
  RETURNING * INTO seat;
  IF NOT FOUND THEN
    PERFORM refuse('not_registered', 'not registered for this session');
  END IF;
  RETURN seat;
END
$$;

CREATE FUNCTION set_session_capacity(p_session uuid, p_max_attendees integer) RETURNS sessions
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  s sessions;
BEGIN
  IF p_max_attendees IS NOT NULL AND (p_max_attendees < 0 OR p_max_attendees > 1000000) THEN
    PERFORM refuse('capacity_range', format('capacity must be between 0 and 1,000,000, not %s', p_max_attendees));
  END IF;
  PERFORM require_permission((SELECT event_id FROM sessions WHERE id = p_session), 'manage_sessions');
  UPDATE sessions SET max_attendees = p_max_attendees WHERE id = p_session RETURNING * INTO s;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_session', 'no such session');
  END IF;
  SELECT * INTO s FROM sessions WHERE id = p_session;  -- after the waitlist took its offers
  RETURN s;
END
$$;

CREATE FUNCTION set_session_status(p_session uuid, p_status text) RETURNS sessions
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  s sessions;
BEGIN
  IF p_status IS NULL OR p_status NOT IN ('scheduled', 'live', 'completed', 'cancelled') THEN
    PERFORM refuse('session_status', format('a session is scheduled, live, completed or cancelled, not %s', coalesce(p_status, 'nothing')));
  END IF;
  PERFORM require_permission((SELECT event_id FROM sessions WHERE id = p_session), 'manage_sessions');
  UPDATE sessions SET status = p_status WHERE id = p_session RETURNING * INTO s;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_session', 'no such session');
  END IF;
  RETURN s;
END
$$;

-- Waitlists -----------------------------------------------------------------------------------------

CREATE FUNCTION join_waitlist(p_attendee uuid, p_session uuid DEFAULT NULL, p_notify boolean DEFAULT true)
RETURNS event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  ev uuid;
  entry event_waitlists;
BEGIN
  SELECT event_id INTO ev FROM attendees WHERE id = p_attendee AND deleted_at IS NULL;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_attendee', 'no such attendee');
  END IF;
  PERFORM require_permission(ev, 'manage_attendees');
  INSERT INTO event_waitlists (event_id, attendee_id, session_id, notify_on_availability)
  VALUES (ev, p_attendee, p_session, coalesce(p_notify, true))
  RETURNING * INTO entry;
  RETURN entry;
EXCEPTION WHEN unique_violation THEN
  PERFORM refuse('already_waiting', 'already on this waitlist');
END
$$;

-- "Offer next" (p_places = 1) and "release N places": offers the next waiting entries, as many as asked
-- and as the free places allow. Returns the entries offered.
CREATE FUNCTION offer_next(p_event uuid, p_session uuid DEFAULT NULL, p_places integer DEFAULT 1)
RETURNS SETOF event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  q record;
  offered integer;
BEGIN
  IF p_places IS NULL OR p_places < 1 OR p_places > 10000 THEN
    PERFORM refuse('places_range', format('places must be between 1 and 10,000, not %s', coalesce(p_places::text, 'nothing')));
  END IF;
  PERFORM require_permission(p_event, 'manage_attendees');
  SELECT * INTO q FROM waitlist_lock_queue(p_event, p_session);
  IF NOT q.locked THEN
    PERFORM refuse('unknown_queue', 'no such event or session');
  END IF;
  offered := waitlist_fill(p_event, p_session, p_places);
  IF offered = 0 THEN
    IF NOT EXISTS (SELECT 1 FROM event_waitlists WHERE event_id = p_event
                      AND session_id IS NOT DISTINCT FROM p_session AND status = 'waiting') THEN
      PERFORM refuse('queue_empty', 'nobody is waiting');
    END IF;
    PERFORM refuse('no_free_place', format('no free place to offer: %s free, %s offers outstanding (raise the capacity first)',
                                           coalesce(q.free_places::text, 'unlimited'),
                                           waitlist_offers_outstanding(p_event, p_session)));
  END IF;
  RETURN QUERY SELECT * FROM event_waitlists
                WHERE event_id = p_event AND session_id IS NOT DISTINCT FROM p_session
                  AND status = 'offered' AND offered_at = now()
                ORDER BY waitlist_position;
END
$$;

-- Locks an entry's queue, then the entry, in that order (the order every waitlist path takes).
CREATE FUNCTION waitlist_lock_entry(p_entry uuid) RETURNS event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry event_waitlists;
BEGIN
  SELECT * INTO entry FROM event_waitlists WHERE id = p_entry;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_waitlist_entry', 'no such waitlist entry');
  END IF;
  PERFORM require_permission(entry.event_id, 'manage_attendees');
  PERFORM 1 FROM waitlist_lock_queue(entry.event_id, entry.session_id);
  SELECT * INTO entry FROM event_waitlists WHERE id = p_entry FOR UPDATE;
  RETURN entry;
END
$$;

-- The person takes the offered place: a session seat (session queue) or registration (event queue).
CREATE FUNCTION accept_offer(p_entry uuid) RETURNS event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry event_waitlists;
BEGIN
  entry := waitlist_lock_entry(p_entry);
  IF entry.status <> 'offered' THEN
    PERFORM refuse('not_offered', format('this entry is %s, not offered', entry.status));
  END IF;
  IF entry.expires_at <= now() THEN
    PERFORM refuse('offer_expired', format('the offer expired at %s', event_local_time(entry.event_id, entry.expires_at)));
  END IF;
  IF entry.session_id IS NOT NULL THEN
    INSERT INTO session_registrations (event_id, session_id, attendee_id, waitlist_id)
    VALUES (entry.event_id, entry.session_id, entry.attendee_id, entry.id);
  ELSE
    UPDATE attendees SET status = 'registered', cancelled_at = NULL WHERE id = entry.attendee_id;
  END IF;
  UPDATE event_waitlists SET status = 'converted' WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$$;

-- Declines an offer or takes someone off a queue; a declined offer passes to the next in line.
CREATE FUNCTION cancel_waitlist_entry(p_entry uuid, p_reason text) RETURNS event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry event_waitlists;
BEGIN
  IF btrim(coalesce(p_reason, '')) = '' THEN
    PERFORM refuse('cancel_reason', 'say why the entry is cancelled');
  END IF;
  entry := waitlist_lock_entry(p_entry);
  IF entry.status NOT IN ('waiting', 'offered') THEN
    PERFORM refuse('waitlist_final', format('this entry is already %s', entry.status));
  END IF;
  UPDATE event_waitlists SET status = 'cancelled', cancel_reason = left(btrim(p_reason), 500)
   WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$$;

CREATE FUNCTION extend_offer(p_entry uuid, p_by interval) RETURNS event_waitlists
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry event_waitlists;
BEGIN
  IF p_by IS NULL OR p_by <= interval '0' OR p_by > interval '7 days' THEN
    PERFORM refuse('extension_range', 'an extension is between a minute and 7 days');
  END IF;
  entry := waitlist_lock_entry(p_entry);
  IF entry.status <> 'offered' THEN
    PERFORM refuse('not_offered', format('this entry is %s, not offered', entry.status));
  END IF;
  IF entry.expires_at <= now() THEN
    PERFORM refuse('offer_expired', format('the offer already expired at %s', event_local_time(entry.event_id, entry.expires_at)));
  END IF;
  UPDATE event_waitlists SET expires_at = expires_at + p_by WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$$;

-- Expires every offer past its deadline; each lapsed offer passes to the next in line. Safe to run from
-- several workers: a queue another worker holds is skipped this round. Returns the offers expired.
CREATE FUNCTION expire_offers() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  q record;
  n integer;
  expired integer := 0;
BEGIN
  FOR q IN
    SELECT DISTINCT event_id, session_id FROM event_waitlists WHERE status = 'offered' AND expires_at <= now()
  LOOP
    IF (SELECT locked FROM waitlist_lock_queue(q.event_id, q.session_id, true)) THEN
      UPDATE event_waitlists SET status = 'expired'
       WHERE event_id = q.event_id AND session_id IS NOT DISTINCT FROM q.session_id
         AND status = 'offered' AND expires_at <= now();
      GET DIAGNOSTICS n = ROW_COUNT;
      expired := expired + n;
    END IF;
  END LOOP;
  RETURN expired;
END
$$;

-- Announcements -------------------------------------------------------------------------------------

CREATE FUNCTION create_announcement(p_event uuid, p_title text, p_content text, p_priority text DEFAULT 'normal',
                                    p_target_audience text DEFAULT 'all', p_target_sessions uuid[] DEFAULT NULL,
                                    p_delivery_method text[] DEFAULT ARRAY['in_app'])
RETURNS event_announcements
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a event_announcements;
BEGIN
  PERFORM require_permission(p_event, 'send_announcements');
  IF btrim(coalesce(p_title, '')) = '' THEN
    PERFORM refuse('announcement_title', 'an announcement needs a title');
  END IF;
  IF btrim(coalesce(p_content, '')) = '' THEN
    PERFORM refuse('announcement_content', 'an announcement needs some content');
  END IF;
  INSERT INTO event_announcements (event_id, title, content, priority, target_audience, target_sessions, delivery_method)
  VALUES (p_event, btrim(p_title), p_content, p_priority, p_target_audience, p_target_sessions, p_delivery_method)
  RETURNING * INTO a;
  RETURN a;
END
$$;

CREATE FUNCTION schedule_announcement(p_announcement uuid, p_at timestamptz) RETURNS event_announcements
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a event_announcements;
BEGIN
  IF p_at IS NULL THEN
    PERFORM refuse('schedule_time', 'say when to send it');
  END IF;
  PERFORM require_permission((SELECT event_id FROM event_announcements WHERE id = p_announcement), 'send_announcements');
  UPDATE event_announcements SET status = 'scheduled', scheduled_for = p_at
   WHERE id = p_announcement RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_announcement', 'no such announcement');
  END IF;
  RETURN a;
END
$$;

-- Sends now, once: a second call (or a dispatcher that got there first) is refused.
CREATE FUNCTION send_announcement_now(p_announcement uuid) RETURNS event_announcements
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a event_announcements;
BEGIN
  PERFORM require_permission((SELECT event_id FROM event_announcements WHERE id = p_announcement), 'send_announcements');
  SELECT * INTO a FROM event_announcements WHERE id = p_announcement FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_announcement', 'no such announcement');
  END IF;
  IF a.status = 'sent' THEN
    PERFORM refuse('announcement_final', format('already sent at %s', event_local_time(a.event_id, a.sent_at)));
  END IF;
  UPDATE event_announcements SET status = 'sent' WHERE id = p_announcement;
  SELECT * INTO a FROM event_announcements WHERE id = p_announcement;
  RETURN a;
END
$$;

CREATE FUNCTION cancel_announcement(p_announcement uuid) RETURNS event_announcements
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a event_announcements;
BEGIN
  PERFORM require_permission((SELECT event_id FROM event_announcements WHERE id = p_announcement), 'send_announcements');
  UPDATE event_announcements SET status = 'cancelled' WHERE id = p_announcement RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_announcement', 'no such announcement');
  END IF;
  RETURN a;
END
$$;

-- Sends every scheduled announcement whose time has come, each exactly once even with several
-- dispatchers: each takes rows the others have not locked. Returns the announcements sent.
CREATE FUNCTION dispatch_due_announcements(p_limit integer DEFAULT 100) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  due uuid;
  sent integer := 0;
BEGIN
  FOR due IN
    SELECT id FROM event_announcements
     WHERE status = 'scheduled' AND scheduled_for <= now()
     ORDER BY scheduled_for
     LIMIT greatest(coalesce(p_limit, 100), 1)
       FOR UPDATE SKIP LOCKED
  LOOP
    UPDATE event_announcements SET status = 'sent' WHERE id = due;
    sent := sent + 1;
  END LOOP;
  RETURN sent;
END
$$;

-- Expenses ------------------------------------------------------------------------------------------

CREATE FUNCTION submit_expense(p_event uuid, p_name text, p_amount numeric, p_category text,
                               p_currency text DEFAULT NULL, p_vendor text DEFAULT NULL,
                               p_description text DEFAULT NULL, p_invoice_number text DEFAULT NULL,
                               p_receipt_url text DEFAULT NULL, p_invoice_url text DEFAULT NULL)
RETURNS event_expenses
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  e event_expenses;
  cur text;
BEGIN
  PERFORM require_permission(p_event, 'submit_expenses');
  IF btrim(coalesce(p_name, '')) = '' THEN
    PERFORM refuse('expense_name', 'an expense needs a name');
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 THEN
    PERFORM refuse('expense_amount', format('an amount must be more than zero, not %s', coalesce(p_amount::text, 'nothing')));
  END IF;
  IF p_amount >= 100000000 OR p_amount <> round(p_amount, 2) THEN
    PERFORM refuse('expense_amount', format('%s is not an amount this ledger takes (at most 99,999,999.99, two decimals)', p_amount));
  END IF;
  SELECT coalesce(p_currency, currency) INTO cur FROM events WHERE id = p_event;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_event', 'no such event');
  END IF;
  IF NOT is_currency_code(upper(cur)) THEN
    PERFORM refuse('expense_currency', format('%s is not an ISO 4217 currency code', cur));
  END IF;
  IF p_category IS NULL OR p_category NOT IN ('venue', 'catering', 'speakers', 'marketing', 'technology', 'travel', 'miscellaneous') THEN
    PERFORM refuse('expense_category', format('category must be venue, catering, speakers, marketing, technology, travel or miscellaneous, not %s', coalesce(p_category, 'nothing')));
  END IF;
  INSERT INTO event_expenses (event_id, expense_name, amount, currency, expense_category, vendor_name,
                              description, invoice_number, receipt_url, invoice_url)
  VALUES (p_event, btrim(p_name), p_amount, upper(cur), p_category, p_vendor, p_description, p_invoice_number,
          p_receipt_url, p_invoice_url)
  RETURNING * INTO e;
  RETURN e;
END
$$;

-- Locks the expense and refuses a decision already taken, naming who took it.
CREATE FUNCTION expense_lock_pending(p_expense uuid, wanted text) RETURNS event_expenses
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  e event_expenses;
BEGIN
  PERFORM require_permission((SELECT event_id FROM event_expenses WHERE id = p_expense), 'approve_expenses');
  SELECT * INTO e FROM event_expenses WHERE id = p_expense AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_expense', 'no such expense');
  END IF;
  IF e.status = wanted OR (wanted <> 'paid' AND e.status <> 'pending') OR e.status = 'paid' THEN
    PERFORM refuse('expense_decided', format('already %s by %s at %s', e.status,
      profile_name(CASE e.status WHEN 'approved' THEN e.approved_by WHEN 'rejected' THEN e.rejected_by ELSE e.paid_by END),
      event_local_time(e.event_id, CASE e.status WHEN 'approved' THEN e.approved_at WHEN 'rejected' THEN e.rejected_at ELSE e.updated_at END)));
  END IF;
  RETURN e;
END
$$;

CREATE FUNCTION approve_expense(p_expense uuid) RETURNS event_expenses
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  e event_expenses;
BEGIN
  PERFORM expense_lock_pending(p_expense, 'approved');
  UPDATE event_expenses SET status = 'approved' WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$$;

CREATE FUNCTION reject_expense(p_expense uuid, p_reason text) RETURNS event_expenses
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  e event_expenses;
BEGIN
  IF btrim(coalesce(p_reason, '')) = '' THEN
    PERFORM refuse('rejection_reason', 'a rejection needs a reason');
  END IF;
  PERFORM expense_lock_pending(p_expense, 'rejected');
  UPDATE event_expenses SET status = 'rejected', rejection_reason = left(btrim(p_reason), 1000)
   WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$$;

CREATE FUNCTION mark_expense_paid(p_expense uuid, p_payment_date date DEFAULT NULL) RETURNS event_expenses
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  e event_expenses;
BEGIN
  e := expense_lock_pending(p_expense, 'paid');
  IF e.status <> 'approved' THEN
    PERFORM refuse('expense_not_approved', format('only an approved expense can be paid; this one is %s', e.status));
  END IF;
  UPDATE event_expenses SET status = 'paid', payment_date = coalesce(p_payment_date, current_date)
   WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$$;
