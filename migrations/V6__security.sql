-- Security: group roles, per-event permissions from event_teams, Row Level Security enabled and forced on
-- every table, and a tamper-evident audit trail. See docs/security.md.
--
-- Roles (cluster-wide, created once):
--   eventos_operator  every operator's login role is a member; table and function privileges come from it
--   eventos_worker    the background worker (eventos worker); runs the housekeeping functions only
-- The schema's objects belong to the role that runs `eventos migrate` (an administrator), never to an
-- operator, so FORCE ROW LEVEL SECURITY binds everyone but that administrator.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventos_operator') THEN
    CREATE ROLE eventos_operator NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventos_worker') THEN
    CREATE ROLE eventos_worker NOLOGIN;
  END IF;
END
$$;

------------------------------------------------------------------------------------------------------
-- Permissions: the seed's six plus what the desks need.
------------------------------------------------------------------------------------------------------

ALTER TABLE event_teams DROP CONSTRAINT event_teams_permissions_check;
ALTER TABLE event_teams ADD CONSTRAINT event_teams_permissions_check
  CHECK (permissions <@ ARRAY['manage_event', 'manage_sessions', 'manage_attendees', 'view_analytics',
                              'manage_materials', 'send_announcements',
                              'check_in_attendees', 'submit_expenses', 'approve_expenses']);

-- The permissions a role starts with (docs/security.md).
CREATE FUNCTION default_permissions(team_role text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT CASE team_role
        WHEN 'organizer' THEN ARRAY['manage_event', 'manage_sessions', 'manage_attendees', 'view_analytics',
                                    'manage_materials', 'send_announcements', 'check_in_attendees',
                                    'submit_expenses', 'approve_expenses']
        WHEN 'coordinator' THEN ARRAY['manage_sessions', 'manage_attendees', 'view_analytics', 'manage_materials',
                                      'send_announcements', 'check_in_attendees', 'submit_expenses']
        WHEN 'registration' THEN ARRAY['manage_attendees', 'check_in_attendees']
        WHEN 'volunteer' THEN ARRAY['check_in_attendees']
        WHEN 'speaker_liaison' THEN ARRAY['manage_sessions', 'manage_materials', 'submit_expenses']
        WHEN 'tech_support' THEN ARRAY['manage_sessions', 'manage_materials', 'submit_expenses']
        WHEN 'marketing' THEN ARRAY['send_announcements', 'view_analytics', 'submit_expenses']
        ELSE ARRAY[]::text[]
      END
  );
END
$$;

CREATE FUNCTION event_teams_defaults() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NEW.permissions IS NULL THEN
    NEW.permissions := default_permissions(NEW.role);
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.assigned_by := coalesce(acting_profile_id(), NEW.assigned_by);
    NEW.assigned_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_teams_defaults BEFORE INSERT OR UPDATE ON event_teams
  FOR EACH ROW EXECUTE FUNCTION event_teams_defaults();

------------------------------------------------------------------------------------------------------
-- Policy helpers: SECURITY DEFINER (they read event_teams and profiles past RLS), STABLE, pinned
-- search_path, and used as (SELECT fn(...)) so they run once per statement, not once per row.
------------------------------------------------------------------------------------------------------

-- The events where the acting operator is an active member holding `perm` (any permission when NULL;
-- manage_event holds them all).
CREATE FUNCTION member_event_ids(perm text DEFAULT NULL) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT coalesce(array_agg(t.event_id), ARRAY[]::uuid[])
        FROM public.event_teams t
        JOIN public.profiles p ON p.id = t.member_id
       WHERE p.login_role = session_user AND p.deleted_at IS NULL AND t.status = 'active'
         AND (perm IS NULL OR perm = ANY (t.permissions) OR 'manage_event' = ANY (t.permissions))
  );
END
$$;

-- Whether the acting operator holds `perm` at `event` (for functions that refuse with a reason).
CREATE FUNCTION has_event_permission(event uuid, perm text) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT event = ANY (member_event_ids(perm))
  );
END
$$;

-- An administrator: a superuser, or a member of the role that owns the schema (who ran the migrations).
CREATE FUNCTION is_administrator() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
          OR pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'public.events'::regclass), 'MEMBER')
  );
END
$$;

-- A refusal naming the permission, for functions called without it (any one of `perms` will do).
CREATE FUNCTION require_permission(event uuid, VARIADIC perms text[]) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  perm text;
BEGIN
  -- An event the caller cannot see at all: the caller's own lookup says "no such ..." more plainly.
  IF event IS NULL THEN
    RETURN;
  END IF;
  FOREACH perm IN ARRAY perms LOOP
    IF has_event_permission(event, perm) THEN
      RETURN;
    END IF;
  END LOOP;
  IF is_administrator() THEN
    RETURN;
  END IF;
  PERFORM refuse('permission_denied', format('your role at this event does not include %s',
                                             replace(array_to_string(perms, ' or '), '_', ' ')));
END
$$;

------------------------------------------------------------------------------------------------------
-- The rules' own machinery acts for the database, not for the caller: counters, queue order, offers,
-- the outbox and the realtime/roll-up bookkeeping must not be silently filtered by the caller's row
-- policies. These functions run as their owner (SECURITY DEFINER, search_path pinned); they are reached
-- only through a statement the caller's own privileges and policies already allowed.
------------------------------------------------------------------------------------------------------

ALTER FUNCTION sessions_guard() SECURITY DEFINER;
ALTER FUNCTION session_registrations_guard() SECURITY DEFINER;
ALTER FUNCTION session_registrations_count() SECURITY DEFINER;
ALTER FUNCTION event_checkins_guard() SECURITY DEFINER;
ALTER FUNCTION event_checkins_presence() SECURITY DEFINER;
ALTER FUNCTION event_waitlists_guard() SECURITY DEFINER;
ALTER FUNCTION event_waitlists_after() SECURITY DEFINER;
ALTER FUNCTION capacity_freed() SECURITY DEFINER;
ALTER FUNCTION attendee_cancelled() SECURITY DEFINER;
ALTER FUNCTION event_announcements_guard() SECURITY DEFINER;
ALTER FUNCTION event_announcements_sent() SECURITY DEFINER;
ALTER FUNCTION event_expenses_guard() SECURITY DEFINER;
ALTER FUNCTION announcement_target_sessions_check() SECURITY DEFINER;
ALTER FUNCTION event_teams_defaults() SECURITY DEFINER;
ALTER FUNCTION waitlist_fill(uuid, uuid, integer) SECURITY DEFINER;
ALTER FUNCTION waitlist_renumber(uuid, uuid) SECURITY DEFINER;
ALTER FUNCTION waitlist_lock_queue(uuid, uuid, boolean) SECURITY DEFINER;
ALTER FUNCTION waitlist_offers_outstanding(uuid, uuid) SECURITY DEFINER;
ALTER FUNCTION announcement_write_outbox(uuid) SECURITY DEFINER;
ALTER FUNCTION event_local_time(uuid, timestamptz) SECURITY DEFINER;
-- The worker's steps: definer, and only the worker (and administrators) may call them.
ALTER FUNCTION realtime_flush() SECURITY DEFINER;
ALTER FUNCTION expire_offers() SECURITY DEFINER;
ALTER FUNCTION dispatch_due_announcements(integer) SECURITY DEFINER;
ALTER FUNCTION refresh_rollups() SECURITY DEFINER;
ALTER FUNCTION ensure_analytics_partitions(date, integer) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION realtime_flush(), expire_offers(), dispatch_due_announcements(integer),
  refresh_rollups(), ensure_analytics_partitions(date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_flush(), expire_offers(), dispatch_due_announcements(integer),
  refresh_rollups(), ensure_analytics_partitions(date, integer) TO eventos_worker;
-- Internal pieces nobody calls directly.
REVOKE EXECUTE ON FUNCTION waitlist_fill(uuid, uuid, integer), waitlist_renumber(uuid, uuid),
  announcement_write_outbox(uuid) FROM PUBLIC;
-- The queue lock is reached by the API (as the operator) and the worker; it checks who asks itself.
REVOKE EXECUTE ON FUNCTION waitlist_lock_queue(uuid, uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION waitlist_lock_queue(uuid, uuid, boolean) TO eventos_operator, eventos_worker;

------------------------------------------------------------------------------------------------------
-- Row Level Security: enabled and forced on every table. An operator sees and changes the rows of the
-- events where they are an active team member, as far as their permissions go.
------------------------------------------------------------------------------------------------------

-- FORCE binds the owner too: the role that runs the migrations (and owns the definer functions the
-- worker uses) keeps full access through a policy of its own. It is an administrator, never an operator.
CREATE FUNCTION security_owner_policy(tbl regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  EXECUTE format('CREATE POLICY %I ON %s FOR ALL TO %I USING (true) WITH CHECK (true)',
                 (SELECT relname FROM pg_class WHERE oid = tbl) || '_owner', tbl, current_user);
END
$$;

-- read_perm / write_perm: NULL = any membership; 'none' = no policy for operators.
CREATE FUNCTION security_protect(tbl regclass, event_col text, read_perm text, write_perm text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  name text := (SELECT relname FROM pg_class WHERE oid = tbl);
  readable text := format('%I = ANY ((SELECT public.member_event_ids(%L))::uuid[])', event_col, read_perm);
  writable text := format('%I = ANY ((SELECT public.member_event_ids(%L))::uuid[])', event_col, write_perm);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  PERFORM security_owner_policy(tbl);
  IF read_perm IS DISTINCT FROM 'none' THEN
    EXECUTE format('CREATE POLICY %I ON %s FOR SELECT TO eventos_operator USING (%s)', name || '_read', tbl, readable);
    EXECUTE format('GRANT SELECT ON %s TO eventos_operator', tbl);
  END IF;
  IF write_perm IS DISTINCT FROM 'none' THEN
    EXECUTE format('CREATE POLICY %I ON %s FOR INSERT TO eventos_operator WITH CHECK (%s)', name || '_insert', tbl, writable);
    EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE TO eventos_operator USING (%s) WITH CHECK (%s)',
                   name || '_update', tbl, writable, writable);
    EXECUTE format('GRANT INSERT, UPDATE ON %s TO eventos_operator', tbl);
  END IF;
END
$$;

SELECT security_protect('events', 'id', NULL, 'manage_event');
SELECT security_protect('ticket_types', 'event_id', NULL, 'manage_event');
SELECT security_protect('orders', 'event_id', 'manage_attendees', 'manage_event');
SELECT security_protect('attendees', 'event_id', NULL, 'manage_attendees');
SELECT security_protect('tickets', 'event_id', NULL, 'manage_attendees');
SELECT security_protect('speakers', 'event_id', NULL, 'manage_sessions');
SELECT security_protect('sessions', 'event_id', NULL, 'manage_sessions');
SELECT security_protect('sponsors', 'event_id', NULL, 'manage_event');
SELECT security_protect('event_feedback', 'event_id', 'view_analytics', 'manage_event');
SELECT security_protect('networking_connections', 'event_id', 'manage_attendees', 'manage_attendees');
SELECT security_protect('event_checkins', 'event_id', NULL, 'check_in_attendees');
SELECT security_protect('refused_scans', 'event_id', NULL, 'check_in_attendees');
SELECT security_protect('event_materials', 'event_id', NULL, 'manage_materials');
SELECT security_protect('event_announcements', 'event_id', NULL, 'send_announcements');
SELECT security_protect('event_analytics', 'event_id', 'view_analytics', 'manage_event');
SELECT security_protect('event_waitlists', 'event_id', NULL, 'manage_attendees');
SELECT security_protect('session_registrations', 'event_id', NULL, 'manage_attendees');
SELECT security_protect('event_teams', 'event_id', NULL, 'manage_event');
SELECT security_protect('outbox_messages', 'event_id', 'send_announcements', 'none');
-- Expenses: submitters and approvers see them (a volunteer sees none); submitters add, approvers decide.
SELECT security_protect('event_expenses', 'event_id', 'approve_expenses', 'approve_expenses');
CREATE POLICY event_expenses_read_submitters ON event_expenses FOR SELECT TO eventos_operator
  USING (event_id = ANY ((SELECT member_event_ids('submit_expenses'))::uuid[]));
CREATE POLICY event_expenses_insert_submitters ON event_expenses FOR INSERT TO eventos_operator
  WITH CHECK (event_id = ANY ((SELECT member_event_ids('submit_expenses'))::uuid[]));
-- A submitter may still edit their own pending expense.
CREATE POLICY event_expenses_update_own_pending ON event_expenses FOR UPDATE TO eventos_operator
  USING (event_id = ANY ((SELECT member_event_ids('submit_expenses'))::uuid[])
         AND created_by = (SELECT acting_profile_id()) AND status = 'pending')
  WITH CHECK (created_by = (SELECT acting_profile_id()) AND status = 'pending');

-- Scanners log refusals through checkin_refusal (definer), so refused_scans needs no insert policy;
-- the one made above is harmless and lets a gate app log its own offline refusals.

-- Venues are shared by every event: readable by all operators, changed by administrators.
ALTER TABLE venues ENABLE ROW LEVEL SECURITY;
ALTER TABLE venues FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('venues');
CREATE POLICY venues_read ON venues FOR SELECT TO eventos_operator USING (deleted_at IS NULL);
GRANT SELECT ON venues TO eventos_operator;

-- Profiles: your own, and your teammates' (names on the desks).
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE profiles FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('profiles');
CREATE POLICY profiles_read ON profiles FOR SELECT TO eventos_operator
  USING (login_role = session_user
         OR id IN (SELECT t.member_id FROM event_teams t WHERE t.event_id = ANY ((SELECT member_event_ids(NULL))::uuid[])));
GRANT SELECT ON profiles TO eventos_operator;

-- Bookkeeping: no operator access at all (the worker reaches it through definer functions), except the
-- migration history, which `eventos doctor` reads.
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN SELECT c.oid::regclass FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
              AND (c.relispartition OR c.relname IN ('realtime_watermarks', 'rollup_refreshes', 'refinery_schema_history'))
  LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
    PERFORM security_owner_policy(t);
  END LOOP;
END
$$;
DO $$
BEGIN
  -- The runner's history table exists whenever the runner applies this file.
  IF to_regclass('public.refinery_schema_history') IS NOT NULL THEN
    CREATE POLICY refinery_schema_history_read ON refinery_schema_history FOR SELECT
      TO eventos_operator, eventos_worker USING (true);
    GRANT SELECT ON refinery_schema_history TO eventos_operator, eventos_worker;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO eventos_operator, eventos_worker;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO eventos_operator;
-- Roll-ups: materialized views have no row security, so operators read them through a function that
-- checks view_analytics.
REVOKE ALL ON analytics_hourly, feedback_summary FROM PUBLIC;
CREATE FUNCTION event_feedback_summary(p_event uuid)
RETURNS SETOF feedback_summary
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
  SELECT * FROM public.feedback_summary
   WHERE event_id = p_event AND (p_event = ANY (public.member_event_ids('view_analytics')) OR public.is_administrator())
$$;
CREATE FUNCTION event_analytics_hourly(p_event uuid)
RETURNS SETOF analytics_hourly
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
  SELECT * FROM public.analytics_hourly
   WHERE event_id = p_event AND (p_event = ANY (public.member_event_ids('view_analytics')) OR public.is_administrator())
$$;

------------------------------------------------------------------------------------------------------
-- The audit trail: append-only, written by triggers, each row hash-chained to the one before.
------------------------------------------------------------------------------------------------------

CREATE TABLE audit_log (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  actor_id     UUID,          -- the acting profile (no foreign key: the trail outlives the profile)
  actor_role   TEXT NOT NULL, -- the login role (session_user)
  table_name   TEXT NOT NULL,
  row_id       UUID,
  event_id     UUID,          -- no foreign key either: the trail outlives the event
  action       TEXT NOT NULL,
  old_row      JSONB,
  new_row      JSONB,
  prev_hash    BYTEA NOT NULL,
  hash         BYTEA NOT NULL UNIQUE
);
CREATE INDEX audit_log_event_idx ON audit_log (event_id, id);

-- What a row's hash covers: every field but the hashes, in a fixed text form.
CREATE FUNCTION audit_payload(a audit_log) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT concat_ws('|', a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       coalesce(a.actor_id::text, ''), a.actor_role, a.table_name, coalesce(a.row_id::text, ''),
                       coalesce(a.event_id::text, ''), a.action, coalesce(a.old_row::text, ''), coalesce(a.new_row::text, ''))
  );
END
$$;

-- Appends one entry. One writer at a time (an advisory lock held to commit), so the chain has no forks.
CREATE FUNCTION audit_append(p_table text, p_row uuid, p_event uuid, p_action text, p_old jsonb, p_new jsonb)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  entry audit_log;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('eventos.audit_log'));
  SELECT hash INTO entry.prev_hash FROM audit_log ORDER BY id DESC LIMIT 1;
  entry.prev_hash := coalesce(entry.prev_hash, '\x'::bytea);
  entry.id := nextval(pg_get_serial_sequence('public.audit_log', 'id'));
  entry.at := clock_timestamp();
  entry.actor_id := acting_profile_id();
  entry.actor_role := session_user;
  entry.table_name := p_table;
  entry.row_id := p_row;
  entry.event_id := p_event;
  entry.action := p_action;
  entry.old_row := p_old;
  entry.new_row := p_new;
  entry.hash := sha256(entry.prev_hash || convert_to(audit_payload(entry), 'UTF8'));
  INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT entry.*;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_append(text, uuid, uuid, text, jsonb, jsonb) FROM PUBLIC;

-- Nobody edits the past, not even the owner through a trigger-less path: UPDATE, DELETE and TRUNCATE
-- are refused by triggers, and no operator holds the privileges anyway.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  PERFORM refuse('audit_append_only', 'the audit log is append-only');
  RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('audit_log');
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO eventos_operator
  USING (event_id = ANY ((SELECT member_event_ids('manage_event'))::uuid[]));
GRANT SELECT ON audit_log TO eventos_operator;

-- The sensitive transitions, one trigger function for all: TG_ARGV[0] names what to record.
CREATE FUNCTION audit_transition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  what text := TG_ARGV[0];
  old_j jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  rec jsonb := coalesce(new_j, old_j);
  action text;
BEGIN
  action := CASE
    WHEN what = 'status' THEN TG_TABLE_NAME || '.' || coalesce(new_j ->> 'status', 'deleted')
    WHEN what = 'team' THEN 'event_teams.' || lower(TG_OP)
    WHEN what = 'capacity' THEN 'sessions.capacity'
    WHEN what = 'checkin' AND TG_OP = 'INSERT' THEN 'event_checkins.manual_check_in'
    WHEN what = 'checkin' THEN 'event_checkins.check_out'
    ELSE TG_TABLE_NAME || '.' || lower(TG_OP)
  END;
  PERFORM audit_append(TG_TABLE_NAME, (rec ->> 'id')::uuid,
                       CASE WHEN TG_TABLE_NAME = 'events' THEN (rec ->> 'id')::uuid ELSE (rec ->> 'event_id')::uuid END,
                       action, old_j, new_j);
  RETURN NULL;
END
$$;

CREATE TRIGGER event_expenses_audit AFTER UPDATE OF status ON event_expenses
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
CREATE TRIGGER event_expenses_audit_insert AFTER INSERT ON event_expenses
  FOR EACH ROW EXECUTE FUNCTION audit_transition('status');
CREATE TRIGGER event_teams_audit AFTER INSERT OR UPDATE OR DELETE ON event_teams
  FOR EACH ROW EXECUTE FUNCTION audit_transition('team');
CREATE TRIGGER event_announcements_audit AFTER UPDATE OF status ON event_announcements
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
CREATE TRIGGER event_waitlists_audit AFTER UPDATE OF status ON event_waitlists
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('offered', 'converted', 'expired', 'cancelled'))
  EXECUTE FUNCTION audit_transition('status');
CREATE TRIGGER event_checkins_audit_manual AFTER INSERT ON event_checkins
  FOR EACH ROW WHEN (NEW.check_in_method = 'manual') EXECUTE FUNCTION audit_transition('checkin');
CREATE TRIGGER event_checkins_audit_checkout AFTER UPDATE ON event_checkins
  FOR EACH ROW WHEN (OLD.is_present AND NOT NEW.is_present) EXECUTE FUNCTION audit_transition('checkin');
CREATE TRIGGER tickets_audit AFTER UPDATE OF status ON tickets
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
CREATE TRIGGER sessions_audit_capacity AFTER UPDATE OF max_attendees ON sessions
  FOR EACH ROW WHEN (OLD.max_attendees IS DISTINCT FROM NEW.max_attendees) EXECUTE FUNCTION audit_transition('capacity');
CREATE TRIGGER sessions_audit_status AFTER UPDATE OF status ON sessions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');

-- The first entry whose hash does not match its content or its predecessor: NULL when the chain holds.
CREATE FUNCTION audit_first_broken_link() RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
  a audit_log;
  prev bytea := '\x'::bytea;
BEGIN
  FOR a IN SELECT * FROM audit_log ORDER BY id LOOP
    IF a.prev_hash <> prev OR a.hash <> sha256(prev || convert_to(audit_payload(a), 'UTF8')) THEN
      RETURN a.id;
    END IF;
    prev := a.hash;
  END LOOP;
  RETURN NULL;
END
$$;
