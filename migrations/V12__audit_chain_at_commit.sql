-- The audit trail is chained as each transaction commits, and nobody waits for its head ("Realtime at
-- any size", deliver 2: a write transaction held open anywhere delays no other check-in).
--
-- Until now an audited write (a manual check-in, a check-out, an expense, a team change, a waitlist
-- offer, ...) took the chain's head row FOR UPDATE when it was written and held it until its
-- transaction ended. One transaction left open after an audited write — a superuser's manual entry in
-- psql, an operator's `BEGIN; SELECT check_out(...)` — stopped every other audited write of the
-- database until it ended; a gate whose next step was a check-out stopped there, and scanned nothing
-- more (tests/held_writes.rs).
--
-- 1. The audit triggers are deferred constraint triggers (the same tables, events and conditions): an
--    entry is written as its transaction commits, from the row as the statement left it, so the head is
--    taken for the commit only, not from the write to the end of the transaction.
-- 2. Nobody waits for the head. A transaction that finds it held (another one is committing, or ran
--    `SET CONSTRAINTS ALL IMMEDIATE`, which anyone may, to chain its entries at once, and then sat)
--    leaves its entries in audit_pending, committed with its change, and goes on. Whoever takes the
--    head next chains what waits there first, oldest first: the next audited commit, or the worker's
--    heartbeat every second.
-- 3. The chain itself is unchanged: one list in id order, each entry's prev_hash the hash of the one
--    before, its hash sha256(prev_hash || audit_payload(entry)). Ids are drawn under the head, so they
--    follow the chain. `eventos audit verify`, its checkpoint and audit_first_broken_link() read it as
--    before.
--
-- An entry's `at` is when its transaction committed (when it fired, under SET CONSTRAINTS ... IMMEDIATE),
-- not when the statement ran; an entry that waited keeps that time and is chained after entries that
-- did not wait, so `at` is not always increasing with `id`.

------------------------------------------------------------------------------------------------------
-- Entries waiting for the head: their content, without a place in the chain yet.
------------------------------------------------------------------------------------------------------

CREATE TABLE audit_pending (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         TIMESTAMPTZ NOT NULL,
  actor_id   UUID,
  actor_role TEXT NOT NULL,
  table_name TEXT NOT NULL,
  row_id     UUID,
  event_id   UUID,
  action     TEXT NOT NULL,
  old_row    JSONB,
  new_row    JSONB
);
ALTER TABLE audit_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_pending FORCE ROW LEVEL SECURITY;
SELECT security_owner_policy('audit_pending');
-- Written by the owner's code, emptied only as it is chained: never rewritten.
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

------------------------------------------------------------------------------------------------------
-- Chaining.
------------------------------------------------------------------------------------------------------

-- Chains what waits in audit_pending (what this transaction can see, oldest first) and then `p_entry`
-- (unless its action is NULL), if the chain's head can be taken at once. Returns false, having done
-- nothing, when another transaction holds the head: the caller keeps `p_entry` waiting.
CREATE FUNCTION audit_chain(p_entry audit_pending) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  head public.audit_chain_head;
  entries public.audit_pending[];
  waiting public.audit_pending;
  waited integer;
  entry public.audit_log;
BEGIN
  -- A snapshot older than the statement (REPEATABLE READ, SERIALIZABLE) may predate the head's last
  -- move, and locking the head would then fail the whole transaction: its entries wait instead.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN false;
  END IF;
  -- Nothing to chain: the head is not touched (the worker's sweep asks every second).
  IF p_entry.action IS NULL AND NOT EXISTS (SELECT 1 FROM public.audit_pending) THEN
    RETURN true;
  END IF;
  -- Never wait: only the owner's code locks the head, and it holds it until its transaction ends.
  SELECT * INTO head FROM public.audit_chain_head FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- Under the head, this statement's snapshot holds every entry chained so far: what waits is what it
  -- sees in audit_pending (entries of transactions still open are chained after they commit).
  entries := ARRAY(SELECT p FROM public.audit_pending p ORDER BY p.seq);
  waited := cardinality(entries);
  IF p_entry.action IS NOT NULL THEN
    entries := entries || p_entry;
  END IF;
  FOREACH waiting IN ARRAY entries LOOP
    -- audit_log's columns in order: id, at, actor_id, actor_role, table_name, row_id, event_id, action,
    -- old_row, new_row, prev_hash, hash.
    entry := ROW(nextval(pg_get_serial_sequence('public.audit_log', 'id')), waiting.at, waiting.actor_id,
                 waiting.actor_role, waiting.table_name, waiting.row_id, waiting.event_id, waiting.action,
                 waiting.old_row, waiting.new_row, head.last_hash, NULL);
    entry.hash := sha256(entry.prev_hash || convert_to(public.audit_payload(entry), 'UTF8'));
    INSERT INTO public.audit_log OVERRIDING SYSTEM VALUE SELECT entry.*;
    head.last_id := entry.id;
    head.last_hash := entry.hash;
  END LOOP;
  IF waited > 0 THEN
    DELETE FROM public.audit_pending WHERE seq = ANY (ARRAY(SELECT (e).seq FROM unnest(entries[1:waited]) e));
  END IF;
  UPDATE public.audit_chain_head SET last_id = head.last_id, last_hash = head.last_hash;
  RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_chain(audit_pending) FROM PUBLIC;

-- audit_append() (restated whole): called by audit_transition() as the transaction commits; chains the
-- entry at once when the head is free, else leaves it waiting.
CREATE OR REPLACE FUNCTION public.audit_append(p_table text, p_row uuid, p_event uuid, p_action text, p_old jsonb, p_new jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  -- audit_pending's columns in order: seq (drawn only if it waits), at, actor_id, actor_role, table_name,
  -- row_id, event_id, action, old_row, new_row.
  entry public.audit_pending := ROW(NULL, clock_timestamp(), public.acting_profile_id(), session_user,
                                    p_table, p_row, p_event, p_action, p_old, p_new);
BEGIN
  IF NOT public.audit_chain(entry) THEN
    entry.seq := nextval(pg_get_serial_sequence('public.audit_pending', 'seq'));
    INSERT INTO public.audit_pending OVERRIDING SYSTEM VALUE SELECT entry.*;
  END IF;
END
$function$;
REVOKE EXECUTE ON FUNCTION audit_append(text, uuid, uuid, text, jsonb, jsonb) FROM PUBLIC;

-- worker_heartbeat() (restated whole): the worker's sweep also chains entries left waiting.
CREATE OR REPLACE FUNCTION public.worker_heartbeat()
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
  INSERT INTO public.worker_heartbeat AS h (only_row, seen_at) VALUES (true, now())
  ON CONFLICT (only_row) DO UPDATE SET seen_at = EXCLUDED.seen_at;
  PERFORM public.audit_chain(NULL);
END
$function$;

------------------------------------------------------------------------------------------------------
-- The audit triggers, deferred to commit (same tables, events, conditions and function as V6).
------------------------------------------------------------------------------------------------------

DROP TRIGGER event_expenses_audit ON event_expenses;
CREATE CONSTRAINT TRIGGER event_expenses_audit AFTER UPDATE OF status ON event_expenses
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
DROP TRIGGER event_expenses_audit_insert ON event_expenses;
CREATE CONSTRAINT TRIGGER event_expenses_audit_insert AFTER INSERT ON event_expenses
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_transition('status');
DROP TRIGGER event_teams_audit ON event_teams;
CREATE CONSTRAINT TRIGGER event_teams_audit AFTER INSERT OR UPDATE OR DELETE ON event_teams
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_transition('team');
DROP TRIGGER event_announcements_audit ON event_announcements;
CREATE CONSTRAINT TRIGGER event_announcements_audit AFTER UPDATE OF status ON event_announcements
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
DROP TRIGGER event_waitlists_audit ON event_waitlists;
CREATE CONSTRAINT TRIGGER event_waitlists_audit AFTER UPDATE OF status ON event_waitlists
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('offered', 'converted', 'expired', 'cancelled'))
  EXECUTE FUNCTION audit_transition('status');
DROP TRIGGER event_checkins_audit_manual ON event_checkins;
CREATE CONSTRAINT TRIGGER event_checkins_audit_manual AFTER INSERT ON event_checkins
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.check_in_method = 'manual') EXECUTE FUNCTION audit_transition('checkin');
DROP TRIGGER event_checkins_audit_checkout ON event_checkins;
CREATE CONSTRAINT TRIGGER event_checkins_audit_checkout AFTER UPDATE ON event_checkins
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.is_present AND NOT NEW.is_present) EXECUTE FUNCTION audit_transition('checkin');
DROP TRIGGER tickets_audit ON tickets;
CREATE CONSTRAINT TRIGGER tickets_audit AFTER UPDATE OF status ON tickets
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
DROP TRIGGER sessions_audit_capacity ON sessions;
CREATE CONSTRAINT TRIGGER sessions_audit_capacity AFTER UPDATE OF max_attendees ON sessions
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.max_attendees IS DISTINCT FROM NEW.max_attendees) EXECUTE FUNCTION audit_transition('capacity');
DROP TRIGGER sessions_audit_status ON sessions;
CREATE CONSTRAINT TRIGGER sessions_audit_status AFTER UPDATE OF status ON sessions
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_transition('status');
