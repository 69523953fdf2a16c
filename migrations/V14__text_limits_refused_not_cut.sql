-- Text too long is refused in the rule's own sentence, not cut or left to a constraint's name.
--
-- An announcement's title and content were held to 200 and 10,000 characters by CHECK constraints only,
-- so a longer one failed with the constraint's name; the console held content to 5,000 itself, a second
-- and different number. A waitlist cancellation's reason was cut to 500 characters and an expense
-- rejection's to 1,000 without a word. Each limit is now the SQL API's, said in its refusal with the
-- rule's code, and the console checks none of them: it shows the refusal (docs/architecture.md, "Compute
-- a number once"). The four functions are restated whole.

CREATE OR REPLACE FUNCTION public.create_announcement(p_event uuid, p_title text, p_content text, p_priority text DEFAULT 'normal'::text, p_target_audience text DEFAULT 'all'::text, p_target_sessions uuid[] DEFAULT NULL::uuid[], p_delivery_method text[] DEFAULT ARRAY['in_app'::text])
 RETURNS event_announcements
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
  IF length(btrim(p_title)) > 200 THEN
    PERFORM public.refuse('announcement_title', format('a title is at most 200 characters, not %s', length(btrim(p_title))));
  END IF;
  IF length(p_content) > 10000 THEN
    PERFORM public.refuse('announcement_content', format('the content is at most 10,000 characters, not %s', length(p_content)));
  END IF;
  INSERT INTO public.event_announcements (event_id, title, content, priority, target_audience, target_sessions, delivery_method)
  VALUES (p_event, btrim(p_title), p_content, p_priority, p_target_audience, p_target_sessions, p_delivery_method)
  RETURNING * INTO a;
  RETURN a;
END
$function$;

CREATE OR REPLACE FUNCTION public.update_announcement(p_announcement uuid, p_title text, p_content text, p_priority text, p_target_audience text, p_target_sessions uuid[], p_delivery_method text[])
 RETURNS event_announcements
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
  IF length(btrim(p_title)) > 200 THEN
    PERFORM public.refuse('announcement_title', format('a title is at most 200 characters, not %s', length(btrim(p_title))));
  END IF;
  IF length(p_content) > 10000 THEN
    PERFORM public.refuse('announcement_content', format('the content is at most 10,000 characters, not %s', length(p_content)));
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

CREATE OR REPLACE FUNCTION public.cancel_waitlist_entry(p_entry uuid, p_reason text)
 RETURNS event_waitlists
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
  IF length(btrim(p_reason)) > 500 THEN
    PERFORM public.refuse('cancel_reason', format('a reason is at most 500 characters, not %s', length(btrim(p_reason))));
  END IF;
  entry := public.waitlist_lock_entry(p_entry);
  IF entry.status NOT IN ('waiting', 'offered') THEN
    PERFORM public.refuse('waitlist_final', format('this entry is already %s', entry.status));
  END IF;
  UPDATE public.event_waitlists SET status = 'cancelled', cancel_reason = btrim(p_reason)
   WHERE id = p_entry RETURNING * INTO entry;
  RETURN entry;
END
$function$;

CREATE OR REPLACE FUNCTION public.reject_expense(p_expense uuid, p_reason text)
 RETURNS event_expenses
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
  IF length(btrim(p_reason)) > 1000 THEN
    PERFORM public.refuse('rejection_reason', format('a reason is at most 1,000 characters, not %s', length(btrim(p_reason))));
  END IF;
  PERFORM public.expense_lock_pending(p_expense, 'rejected');
  UPDATE public.event_expenses SET status = 'rejected', rejection_reason = btrim(p_reason)
   WHERE id = p_expense RETURNING * INTO e;
  RETURN e;
END
$function$;
