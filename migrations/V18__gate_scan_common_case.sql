-- The gate's scan, faster in its common case. check_in_by_code() writes the entry itself when every
-- rule passes (a valid ticket of this event, a registered attendee, the gate's permission, the doors
-- rather than a session, a known method) instead of handing the ticket to checkin_admit_ticket(),
-- whose call and checks one by one cost about a twentieth of the scan: 1.276 to 1.208 million
-- instructions a scan (benches/scan_instructions.sh). Everything else
-- still goes the whole way, so every refusal and its sentence are unchanged; the tests of each
-- refusal go through this function. The rules stay in checkin_admit_ticket(): a stricter rule there
-- must also be added to the condition below, or the door's common case would not see it.

CREATE OR REPLACE FUNCTION public.check_in_by_code(p_event uuid, p_code text, p_gate text DEFAULT NULL::text, p_method text DEFAULT 'qr_code'::text, p_session uuid DEFAULT NULL::uuid)
 RETURNS public.checkin_result
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
  scanned text := btrim(p_code, E' \t\r\n');
  allowed boolean;
  t public.checkin_ticket;
  entry record;
BEGIN
  -- One statement for the gate's own permission and the ticket behind the code (with its attendee and
  -- type, as admitting needs them); anyone without the permission goes through the general check for
  -- its refusal.
  SELECT may.ok, tk.id, tk.event_id, tk.status, tk.attendee_id, a.status,
         btrim(a.first_name || ' ' || a.last_name), tt.name
    INTO allowed, t.id, t.event_id, t.status, t.attendee_id, t.attendee_status, t.name, t.ticket_type
    FROM (SELECT EXISTS (SELECT 1 FROM public.event_teams m JOIN public.profiles p ON p.id = m.member_id
                          WHERE m.event_id = p_event AND p.login_role = session_user AND p.deleted_at IS NULL
                            AND m.status = 'active'
                            AND ('check_in_attendees' = ANY (m.permissions) OR 'manage_event' = ANY (m.permissions)))
                 AS ok) may
    LEFT JOIN (public.tickets tk
               LEFT JOIN public.attendees a ON a.id = tk.attendee_id
               LEFT JOIN public.ticket_types tt ON tt.id = tk.ticket_type_id)
      ON tk.code = scanned;
  -- The door's common case: every rule below and in checkin_admit_ticket() passes, so the entry is
  -- written here, without the call and its checks one by one. A found ticket's code already passed the
  -- tickets table's own check, so the code's shape needs no test here. Any other case (a conflict
  -- included) goes the whole way below, which decides and says why.
  IF allowed AND p_session IS NULL AND t.event_id = p_event AND t.status = 'valid'
     AND t.attendee_status = 'registered' AND p_method IN ('qr_code', 'manual', 'nfc', 'app') THEN
    INSERT INTO public.event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
    VALUES (p_event, t.attendee_id, t.id, p_gate, p_method, scanned, p_gate)
    ON CONFLICT (event_id, attendee_id) WHERE is_present AND session_id IS NULL DO NOTHING
    RETURNING id, check_in_time INTO entry;
    IF FOUND THEN
      RETURN ROW(true, 'accepted', format('%s checked in', t.name), entry.id, t.attendee_id, t.name, t.ticket_type,
                 entry.check_in_time)::public.checkin_result;
    END IF;
  END IF;
  IF NOT allowed THEN
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
  IF t.id IS NULL OR (t.event_id <> p_event AND NOT public.event_visible(t.event_id)) THEN
    RETURN public.checkin_refusal(p_event, p_session, scanned, p_gate, p_method, 'unknown_code', 'unknown ticket code');
  END IF;
  RETURN public.checkin_admit_ticket(p_event, p_session, t, scanned, p_gate, p_method);
END
$function$;
