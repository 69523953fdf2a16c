-- The twelve tables of the seed document, with every column, type, default, CHECK and UNIQUE it gives,
-- and the departures listed in docs/schema.md (marked "departure:" here), plus the two tables the desks
-- need behind them: session_registrations and refused_scans.

CREATE TABLE speakers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  profile_id UUID REFERENCES profiles(id) ON DELETE CASCADE,

  bio TEXT,
  expertise_areas TEXT[],
  social_links JSONB,
  headshot_url TEXT,

  presentation_title TEXT,
  presentation_description TEXT,
  presentation_duration INTEGER, -- minutes
  presentation_slides_url TEXT,

  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled')), -- departure: NOT NULL
  speaker_fee DECIMAL(10,2),
  travel_arrangements TEXT,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX speakers_event_id_idx ON speakers (event_id);
CREATE INDEX speakers_profile_id_idx ON speakers (profile_id);

CREATE TABLE sessions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  speaker_id UUID REFERENCES speakers(id) ON DELETE SET NULL,
  venue_id UUID REFERENCES venues(id) ON DELETE SET NULL,

  title TEXT NOT NULL,
  description TEXT,
  session_type TEXT CHECK (session_type IN ('keynote', 'workshop', 'panel', 'networking', 'break')),
  difficulty_level TEXT CHECK (difficulty_level IN ('beginner', 'intermediate', 'advanced')),

  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ NOT NULL,
  -- departure: explicit integer cast (the seed relies on an implicit numeric -> integer assignment).
  duration_minutes INTEGER GENERATED ALWAYS AS ((EXTRACT(EPOCH FROM (end_time - start_time)) / 60)::integer) STORED,

  max_attendees INTEGER CHECK (max_attendees >= 0), -- departure: CHECK
  current_registrations INTEGER NOT NULL DEFAULT 0 CHECK (current_registrations >= 0), -- departure: NOT NULL, CHECK
  registration_required BOOLEAN DEFAULT false,
  registration_deadline TIMESTAMPTZ,

  materials_urls TEXT[],
  recording_url TEXT,
  chat_enabled BOOLEAN DEFAULT true,

  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'completed', 'cancelled')), -- departure: NOT NULL

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  CHECK (end_time > start_time) -- departure
);
CREATE INDEX sessions_event_id_idx ON sessions (event_id, start_time);
CREATE INDEX sessions_speaker_id_idx ON sessions (speaker_id);
CREATE INDEX sessions_venue_id_idx ON sessions (venue_id);

CREATE TABLE sponsors (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL

  company_name TEXT NOT NULL,
  contact_name TEXT,
  contact_email TEXT,
  contact_phone TEXT,

  sponsorship_tier TEXT CHECK (sponsorship_tier IN ('platinum', 'gold', 'silver', 'bronze', 'partner')),
  sponsorship_amount DECIMAL(10,2),
  benefits_included TEXT[],

  logo_url TEXT,
  website_url TEXT,
  marketing_materials JSONB,
  social_media_links JSONB,

  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled')), -- departure: NOT NULL

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMPTZ -- departure: soft delete (a sponsorship is money; it must not vanish)
);
CREATE INDEX sponsors_event_id_idx ON sponsors (event_id);

CREATE TABLE event_feedback (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  attendee_id UUID REFERENCES attendees(id) ON DELETE CASCADE,
  session_id UUID REFERENCES sessions(id) ON DELETE CASCADE,

  overall_rating INTEGER CHECK (overall_rating BETWEEN 1 AND 5),
  content_rating INTEGER CHECK (content_rating BETWEEN 1 AND 5),
  speaker_rating INTEGER CHECK (speaker_rating BETWEEN 1 AND 5),
  venue_rating INTEGER CHECK (venue_rating BETWEEN 1 AND 5),
  organization_rating INTEGER CHECK (organization_rating BETWEEN 1 AND 5),

  comments TEXT,
  suggestions TEXT,
  best_aspects TEXT,
  improvement_areas TEXT,

  is_anonymous BOOLEAN DEFAULT false,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX event_feedback_event_id_idx ON event_feedback (event_id);
CREATE INDEX event_feedback_attendee_id_idx ON event_feedback (attendee_id);
CREATE INDEX event_feedback_session_id_idx ON event_feedback (session_id);

CREATE TABLE networking_connections (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  requester_id UUID REFERENCES attendees(id) ON DELETE CASCADE,
  target_id UUID REFERENCES attendees(id) ON DELETE CASCADE,

  connection_type TEXT CHECK (connection_type IN ('business', 'collaboration', 'mentorship', 'friendship')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'blocked')), -- departure: NOT NULL
  message TEXT,

  meeting_requested BOOLEAN DEFAULT false,
  meeting_scheduled TIMESTAMPTZ,
  meeting_location TEXT,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  UNIQUE(event_id, requester_id, target_id),
  CHECK (requester_id <> target_id) -- departure: nobody connects to themselves
);
-- event_id leads the UNIQUE index above, which serves its foreign key.
CREATE INDEX networking_connections_requester_id_idx ON networking_connections (requester_id);
CREATE INDEX networking_connections_target_id_idx ON networking_connections (target_id);

CREATE TABLE event_checkins (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  attendee_id UUID NOT NULL REFERENCES attendees(id) ON DELETE CASCADE, -- departure: NOT NULL
  session_id UUID REFERENCES sessions(id) ON DELETE SET NULL,

  check_in_time TIMESTAMPTZ NOT NULL DEFAULT NOW(), -- departure: NOT NULL
  check_out_time TIMESTAMPTZ,
  location TEXT, -- GPS coordinates or venue area

  qr_code_scanned TEXT,
  check_in_method TEXT CHECK (check_in_method IN ('qr_code', 'manual', 'nfc', 'app')),

  attendance_duration INTEGER, -- minutes
  is_present BOOLEAN NOT NULL DEFAULT true, -- departure: NOT NULL

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  -- departure: the desks need the ticket, the gate and the operator behind an entry.
  ticket_id UUID REFERENCES tickets(id) ON DELETE SET NULL,
  gate TEXT CHECK (length(gate) <= 100),
  checked_in_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  checked_out_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  -- departure: the transaction that last wrote the row; the realtime notifier reads it (V3).
  change_xid XID8 NOT NULL DEFAULT pg_current_xact_id(),

  CHECK (check_out_time IS NULL OR check_out_time >= check_in_time),
  CHECK (is_present = (check_out_time IS NULL))
);
-- FK index for event_id and the notifier's "what changed in this event since" range scan.
CREATE INDEX event_checkins_event_change_idx ON event_checkins (event_id, change_xid);
CREATE INDEX event_checkins_change_xid_idx ON event_checkins (change_xid);
CREATE INDEX event_checkins_attendee_id_idx ON event_checkins (attendee_id, check_in_time DESC);
CREATE INDEX event_checkins_session_id_idx ON event_checkins (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX event_checkins_ticket_id_idx ON event_checkins (ticket_id);
CREATE INDEX event_checkins_checked_in_by_idx ON event_checkins (checked_in_by) WHERE checked_in_by IS NOT NULL;
CREATE INDEX event_checkins_checked_out_by_idx ON event_checkins (checked_out_by) WHERE checked_out_by IS NOT NULL;
-- The live feed: newest entries of an event first.
CREATE INDEX event_checkins_feed_idx ON event_checkins (event_id, check_in_time DESC);
-- People present now. Unique: one open entry per attendee at the event, and one per session.
CREATE UNIQUE INDEX event_checkins_present_at_event_key ON event_checkins (event_id, attendee_id)
  WHERE is_present AND session_id IS NULL;
CREATE UNIQUE INDEX event_checkins_present_in_session_key ON event_checkins (session_id, attendee_id)
  WHERE is_present AND session_id IS NOT NULL;

CREATE TABLE event_materials (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  session_id UUID REFERENCES sessions(id) ON DELETE SET NULL,
  uploaded_by UUID REFERENCES profiles(id) ON DELETE SET NULL,

  title TEXT NOT NULL,
  description TEXT,
  material_type TEXT CHECK (material_type IN ('presentation', 'document', 'video', 'audio', 'image', 'link')),

  file_url TEXT,
  file_size BIGINT,
  file_format TEXT,
  download_count INTEGER DEFAULT 0,

  access_level TEXT DEFAULT 'public' CHECK (access_level IN ('public', 'attendees_only', 'speakers_only', 'sponsors_only')),
  requires_download BOOLEAN DEFAULT true,

  tags TEXT[],
  language TEXT DEFAULT 'en',

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMPTZ -- departure: soft delete
);
CREATE INDEX event_materials_event_id_idx ON event_materials (event_id);
CREATE INDEX event_materials_session_id_idx ON event_materials (session_id);
CREATE INDEX event_materials_uploaded_by_idx ON event_materials (uploaded_by);

CREATE TABLE event_announcements (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  author_id UUID REFERENCES profiles(id) ON DELETE SET NULL,

  title TEXT NOT NULL,
  content TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')), -- departure: NOT NULL

  target_audience TEXT CHECK (target_audience IN ('all', 'attendees', 'speakers', 'sponsors', 'organizers')),
  -- departure: PostgreSQL has no foreign keys on array elements; announcement_target_sessions_check (below)
  -- keeps every element a session of the same event.
  target_sessions UUID[],

  delivery_method TEXT[] CHECK (delivery_method <@ ARRAY['email', 'push', 'in_app', 'sms']),
  scheduled_for TIMESTAMPTZ,
  sent_at TIMESTAMPTZ,

  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'sent', 'cancelled')), -- departure: NOT NULL

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX event_announcements_event_id_idx ON event_announcements (event_id, status);
CREATE INDEX event_announcements_author_id_idx ON event_announcements (author_id);
-- The dispatcher's queue: scheduled announcements by due time.
CREATE INDEX event_announcements_due_idx ON event_announcements (scheduled_for) WHERE status = 'scheduled';

-- event_analytics is range-partitioned by measurement_time (one partition a month); see V4.
CREATE TABLE event_analytics (
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  session_id UUID REFERENCES sessions(id) ON DELETE SET NULL,

  metric_name TEXT NOT NULL,
  metric_value DECIMAL(15,4),
  metric_unit TEXT,

  measurement_time TIMESTAMPTZ NOT NULL DEFAULT NOW(), -- departure: NOT NULL (partition key)
  data_source TEXT, -- 'registration', 'check_in', 'feedback', 'engagement'

  dimension_1 TEXT,
  dimension_2 TEXT,
  dimension_3 TEXT,

  raw_data JSONB,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  -- departure: a partitioned table's primary key must include the partition key.
  PRIMARY KEY (id, measurement_time)
) PARTITION BY RANGE (measurement_time);
CREATE INDEX event_analytics_event_id_idx ON event_analytics (event_id, measurement_time);
CREATE INDEX event_analytics_session_id_idx ON event_analytics (session_id);
CREATE TABLE event_analytics_default PARTITION OF event_analytics DEFAULT;

CREATE TABLE event_waitlists (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  attendee_id UUID NOT NULL REFERENCES attendees(id) ON DELETE CASCADE, -- departure: NOT NULL

  waitlist_position INTEGER CHECK (waitlist_position > 0), -- departure: CHECK
  waitlist_reason TEXT CHECK (waitlist_reason IN ('event_full', 'session_full', 'registration_closed')), -- departure: CHECK

  notify_on_availability BOOLEAN DEFAULT true,
  notification_sent_at TIMESTAMPTZ,

  status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'converted', 'expired', 'cancelled')), -- departure: NOT NULL
  expires_at TIMESTAMPTZ,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  -- departure: a queue per session as well as per event, and the history of an entry.
  session_id UUID REFERENCES sessions(id) ON DELETE CASCADE,
  offered_at TIMESTAMPTZ,
  converted_at TIMESTAMPTZ,
  cancelled_at TIMESTAMPTZ,
  cancel_reason TEXT,
  CHECK (status <> 'offered' OR (offered_at IS NOT NULL AND expires_at IS NOT NULL)),
  CHECK ((waitlist_reason = 'session_full') <= (session_id IS NOT NULL))
);
CREATE INDEX event_waitlists_event_id_idx ON event_waitlists (event_id);
CREATE INDEX event_waitlists_attendee_id_idx ON event_waitlists (attendee_id);
CREATE INDEX event_waitlists_session_id_idx ON event_waitlists (session_id);
-- The open queues (waiting and offered), in order, per event and per session.
CREATE INDEX event_waitlists_open_queue_idx ON event_waitlists (event_id, session_id, waitlist_position)
  WHERE status IN ('waiting', 'offered');
-- The expiry sweep: outstanding offers by deadline.
CREATE INDEX event_waitlists_offer_expiry_idx ON event_waitlists (expires_at) WHERE status = 'offered';

CREATE TABLE event_expenses (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  created_by UUID REFERENCES profiles(id) ON DELETE SET NULL,

  expense_name TEXT NOT NULL,
  expense_category TEXT CHECK (expense_category IN ('venue', 'catering', 'speakers', 'marketing', 'technology', 'travel', 'miscellaneous')),
  description TEXT,

  amount DECIMAL(10,2) NOT NULL CHECK (amount > 0), -- departure: CHECK
  currency TEXT NOT NULL DEFAULT 'CAD' CHECK (is_currency_code(currency)), -- departure: NOT NULL, ISO 4217
  vendor_name TEXT,
  invoice_number TEXT,

  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'paid')), -- departure: NOT NULL
  approved_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  approved_at TIMESTAMPTZ,
  payment_date DATE,

  receipt_url TEXT,
  invoice_url TEXT,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  -- departure: who rejected it and why; who marked it paid; soft delete.
  rejected_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  rejected_at TIMESTAMPTZ,
  rejection_reason TEXT,
  paid_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  deleted_at TIMESTAMPTZ
);
CREATE INDEX event_expenses_event_id_idx ON event_expenses (event_id, status);
CREATE INDEX event_expenses_created_by_idx ON event_expenses (created_by);
CREATE INDEX event_expenses_approved_by_idx ON event_expenses (approved_by) WHERE approved_by IS NOT NULL;
CREATE INDEX event_expenses_rejected_by_idx ON event_expenses (rejected_by) WHERE rejected_by IS NOT NULL;
CREATE INDEX event_expenses_paid_by_idx ON event_expenses (paid_by) WHERE paid_by IS NOT NULL;
-- The approval queue: pending expenses of an event, oldest first.
CREATE INDEX event_expenses_pending_idx ON event_expenses (event_id, created_at)
  WHERE status = 'pending' AND deleted_at IS NULL;

CREATE TABLE event_teams (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE, -- departure: NOT NULL
  member_id UUID NOT NULL REFERENCES profiles(id) ON DELETE CASCADE, -- departure: NOT NULL

  role TEXT NOT NULL CHECK (role IN ('organizer', 'coordinator', 'volunteer', 'speaker_liaison', 'tech_support', 'registration', 'marketing')),
  permissions TEXT[] CHECK (permissions <@ ARRAY['manage_event', 'manage_sessions', 'manage_attendees', 'view_analytics', 'manage_materials', 'send_announcements']),

  assigned_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  assigned_at TIMESTAMPTZ DEFAULT NOW(),

  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'removed')), -- departure: NOT NULL

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  UNIQUE(event_id, member_id)
);
-- event_id leads the UNIQUE index above, which serves its foreign key.
CREATE INDEX event_teams_member_id_idx ON event_teams (member_id);
CREATE INDEX event_teams_assigned_by_idx ON event_teams (assigned_by);

-- Behind sessions.current_registrations: one row per seat taken (or given back).
CREATE TABLE session_registrations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  session_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  attendee_id UUID NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'cancelled')),
  registered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  cancelled_at TIMESTAMPTZ,
  -- The waitlist entry this seat came from, when it came from one.
  waitlist_id UUID REFERENCES event_waitlists(id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX session_registrations_event_id_idx ON session_registrations (event_id);
CREATE INDEX session_registrations_session_id_idx ON session_registrations (session_id) WHERE status = 'registered';
CREATE INDEX session_registrations_session_all_idx ON session_registrations (session_id);
CREATE INDEX session_registrations_attendee_id_idx ON session_registrations (attendee_id);
CREATE INDEX session_registrations_waitlist_id_idx ON session_registrations (waitlist_id) WHERE waitlist_id IS NOT NULL;
-- One active seat per attendee per session.
CREATE UNIQUE INDEX session_registrations_active_key ON session_registrations (session_id, attendee_id)
  WHERE status = 'registered';

-- Every refused scan, with what was scanned, where, when and why (pretix keeps failed scans too).
-- Accepted scans are the rows of event_checkins.
CREATE TABLE refused_scans (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  session_id UUID REFERENCES sessions(id) ON DELETE SET NULL,
  -- What the scanner sent, cut to 512 characters (code_length keeps the true length).
  code TEXT NOT NULL CHECK (length(code) <= 512),
  code_length INTEGER NOT NULL CHECK (code_length >= 0),
  gate TEXT CHECK (length(gate) <= 100),
  method TEXT CHECK (method IN ('qr_code', 'manual', 'nfc', 'app')),
  reason_code TEXT NOT NULL CHECK (reason_code IN (
    'unknown_code', 'already_checked_in', 'ticket_void', 'ticket_refunded', 'wrong_event',
    'attendee_cancelled', 'session_full', 'session_not_open', 'not_registered', 'invalid_code')),
  reason TEXT NOT NULL,
  ticket_id UUID REFERENCES tickets(id) ON DELETE SET NULL,
  attendee_id UUID REFERENCES attendees(id) ON DELETE SET NULL,
  -- For duplicates: the entry that already holds the attendee.
  conflicting_checkin_id UUID REFERENCES event_checkins(id) ON DELETE SET NULL,
  scanned_by UUID REFERENCES profiles(id) ON DELETE SET NULL,
  scanned_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  change_xid XID8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX refused_scans_event_change_idx ON refused_scans (event_id, change_xid);
CREATE INDEX refused_scans_change_xid_idx ON refused_scans (change_xid);
CREATE INDEX refused_scans_feed_idx ON refused_scans (event_id, scanned_at DESC);
CREATE INDEX refused_scans_session_id_idx ON refused_scans (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX refused_scans_ticket_id_idx ON refused_scans (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX refused_scans_attendee_id_idx ON refused_scans (attendee_id) WHERE attendee_id IS NOT NULL;
CREATE INDEX refused_scans_conflicting_checkin_id_idx ON refused_scans (conflicting_checkin_id)
  WHERE conflicting_checkin_id IS NOT NULL;
CREATE INDEX refused_scans_scanned_by_idx ON refused_scans (scanned_by) WHERE scanned_by IS NOT NULL;

-- target_sessions holds sessions of the announcement's own event, and nothing else.
CREATE FUNCTION announcement_target_sessions_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  missing uuid;
BEGIN
  IF NEW.target_sessions IS NULL OR cardinality(NEW.target_sessions) = 0 THEN
    RETURN NEW;
  END IF;
  SELECT t.id INTO missing
    FROM unnest(NEW.target_sessions) AS t(id)
   WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.id AND s.event_id = NEW.event_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'target session % is not a session of this event', missing
      USING ERRCODE = 'foreign_key_violation', HINT = 'target_sessions may only name sessions of the same event';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER event_announcements_target_sessions
  BEFORE INSERT OR UPDATE OF target_sessions, event_id ON event_announcements
  FOR EACH ROW EXECUTE FUNCTION announcement_target_sessions_check();

CREATE TRIGGER speakers_updated_at BEFORE UPDATE ON speakers FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER sessions_updated_at BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER sponsors_updated_at BEFORE UPDATE ON sponsors FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_feedback_updated_at BEFORE UPDATE ON event_feedback FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER networking_connections_updated_at BEFORE UPDATE ON networking_connections FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_materials_updated_at BEFORE UPDATE ON event_materials FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_announcements_updated_at BEFORE UPDATE ON event_announcements FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_waitlists_updated_at BEFORE UPDATE ON event_waitlists FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_expenses_updated_at BEFORE UPDATE ON event_expenses FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER event_teams_updated_at BEFORE UPDATE ON event_teams FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER session_registrations_updated_at BEFORE UPDATE ON session_registrations FOR EACH ROW EXECUTE FUNCTION set_updated_at();
