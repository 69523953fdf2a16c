-- Session doors: a check-in at a session moves sessions.present_count, and the sessions table notified
-- per statement, so every session scan paid a NOTIFY (the cluster-wide commit lock, DESIGN.md; ~3 ms
-- per scan when measured in bulk). Presence is already announced by realtime_flush() through the
-- event_checkins batches (the rows carry session_id), so the sessions trigger now ignores updates that
-- change nothing but counters kept by triggers: present_count (and updated_at, which moves with it).
--
-- realtime_notify_statement() takes the columns to ignore after the event column: TG_ARGV[1..].
-- An UPDATE whose rows differ only in those columns sends nothing.

CREATE OR REPLACE FUNCTION realtime_notify_statement() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
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
  IF total <= realtime_row_hint_limit() THEN
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
$$;

DROP TRIGGER sessions_realtime_update ON sessions;
CREATE TRIGGER sessions_realtime_update AFTER UPDATE ON sessions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION realtime_notify_statement('event_id', 'present_count', 'updated_at');

-- The console's liveness check: when were batched check-ins last announced? If no worker runs
-- realtime_flush(), or a long transaction holds the horizon back, check-ins stop reaching consoles and
-- the console must say its numbers are stale rather than show them as live.
CREATE FUNCTION realtime_flushed_at() RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
  RETURN (SELECT min(flushed_at) FROM realtime_watermarks);
END
$$;
REVOKE ALL ON FUNCTION realtime_flushed_at() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime_flushed_at() TO eventos_operator, eventos_worker;

-- offer_next() runs as the caller and calls waitlist_fill(), which V6 keeps from every role (it is the
-- rules' internal machinery): an operator's "offer next" was refused with "permission denied for
-- function waitlist_fill" (found by the console's Waitlist desk). offer_next becomes a definer function
-- like the rest of the waitlist machinery; it checks manage_attendees itself (require_permission
-- reads session_user, which a definer function does not change) and only operators and the worker
-- may call it.
ALTER FUNCTION offer_next(uuid, uuid, integer) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION offer_next(uuid, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION offer_next(uuid, uuid, integer) TO eventos_operator, eventos_worker;

-- Editing a draft through the API like every other change (the console's Announcements desk): only a
-- draft, by someone who may send announcements, with a title and some content.
CREATE FUNCTION update_announcement(p_announcement uuid, p_title text, p_content text, p_priority text,
                                    p_target_audience text, p_target_sessions uuid[], p_delivery_method text[])
RETURNS event_announcements
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  a event_announcements;
BEGIN
  SELECT * INTO a FROM event_announcements WHERE id = p_announcement;
  IF NOT FOUND THEN
    PERFORM refuse('unknown_announcement', 'no such announcement');
  END IF;
  PERFORM require_permission(a.event_id, 'send_announcements');
  IF btrim(coalesce(p_title, '')) = '' THEN
    PERFORM refuse('announcement_title', 'an announcement needs a title');
  END IF;
  IF btrim(coalesce(p_content, '')) = '' THEN
    PERFORM refuse('announcement_content', 'an announcement needs some content');
  END IF;
  UPDATE event_announcements
     SET title = btrim(p_title), content = p_content, priority = p_priority,
         target_audience = p_target_audience, target_sessions = p_target_sessions,
         delivery_method = p_delivery_method
   WHERE id = p_announcement AND status = 'draft'
  RETURNING * INTO a;
  IF NOT FOUND THEN
    PERFORM refuse('announcement_not_draft',
      format('only a draft can be edited; this one is %s', (SELECT status FROM event_announcements WHERE id = p_announcement)));
  END IF;
  RETURN a;
END
$$;

-- A definer function's search_path must name pg_temp last: left out, pg_temp is searched FIRST for
-- tables, so an operator (TEMPORARY is granted to PUBLIC by default) could create a temp table named
-- like ours and have the owner's code read it. Every SECURITY DEFINER function of the schema gets
-- pg_temp last; tests/catalog.rs checks it stays so.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
END
$$;
