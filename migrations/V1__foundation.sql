-- EventOS foundation: shared helpers and the six core tables (profiles, venues, events, orders,
-- attendees, tickets). The seed document assumes these exist; their design is ours (docs/schema.md).

-- Keeps updated_at honest for every client, not only the ones that remember to set it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- IANA zone names only ('Europe/Paris'), not abbreviations or POSIX strings that AT TIME ZONE also takes.
CREATE FUNCTION is_iana_time_zone(zone text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = zone AND name !~ '^(posix|right)/')
  );
END
$$;

-- Active ISO 4217 currency codes (funds, metals and testing codes excluded: nobody pays a caterer in XAU).
CREATE FUNCTION is_currency_code(code text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
  -- plpgsql, not sql: a non-inlinable sql function is planned again on every call.
  RETURN (
    SELECT code = ANY ('{AED,AFN,ALL,AMD,AOA,ARS,AUD,AWG,AZN,BAM,BBD,BDT,BHD,BIF,BMD,BND,BOB,BRL,BSD,BTN,
        BWP,BYN,BZD,CAD,CDF,CHF,CLP,CNY,COP,CRC,CUP,CVE,CZK,DJF,DKK,DOP,DZD,EGP,ERN,ETB,EUR,FJD,FKP,GBP,GEL,
        GHS,GIP,GMD,GNF,GTQ,GYD,HKD,HNL,HTG,HUF,IDR,ILS,INR,IQD,IRR,ISK,JMD,JOD,JPY,KES,KGS,KHR,KMF,KPW,KRW,
        KWD,KYD,KZT,LAK,LBP,LKR,LRD,LSL,LYD,MAD,MDL,MGA,MKD,MMK,MNT,MOP,MRU,MUR,MVR,MWK,MXN,MYR,MZN,NAD,NGN,
        NIO,NOK,NPR,NZD,OMR,PAB,PEN,PGK,PHP,PKR,PLN,PYG,QAR,RON,RSD,RUB,RWF,SAR,SBD,SCR,SDG,SEK,SGD,SHP,SLE,
        SOS,SRD,SSP,STN,SVC,SYP,SZL,THB,TJS,TMT,TND,TOP,TRY,TTD,TWD,TZS,UAH,UGX,USD,UYU,UZS,VED,VES,VND,VUV,
        WST,XAF,XCD,XCG,XOF,XPF,YER,ZAR,ZMW,ZWG}'::text[])
  );
END
$$;

-- People: operators, speakers, buyers, attendees with an account.
CREATE TABLE profiles (
  id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  email        TEXT NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
  full_name    TEXT NOT NULL CHECK (btrim(full_name) <> '' AND length(full_name) <= 200),
  phone        TEXT CHECK (length(phone) <= 40),
  organization TEXT CHECK (length(organization) <= 200),
  job_title    TEXT CHECK (length(job_title) <= 200),
  avatar_url   TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at   TIMESTAMPTZ
);
-- One live profile per address, whatever its case; a soft-deleted one frees the address.
CREATE UNIQUE INDEX profiles_email_key ON profiles (lower(email)) WHERE deleted_at IS NULL;

-- A site (parent_id NULL) and its rooms, halls and stages (parent_id = the site).
CREATE TABLE venues (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  parent_id   UUID REFERENCES venues(id) ON DELETE CASCADE,
  name        TEXT NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  venue_type  TEXT NOT NULL DEFAULT 'site'
              CHECK (venue_type IN ('site', 'room', 'hall', 'stage', 'outdoor', 'online')),
  capacity    INTEGER CHECK (capacity > 0),
  floor       TEXT,
  address_line TEXT,
  city        TEXT,
  region      TEXT,
  postal_code TEXT,
  country_code TEXT CHECK (country_code ~ '^[A-Z]{2}$'),
  time_zone   TEXT CHECK (is_iana_time_zone(time_zone)),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at  TIMESTAMPTZ,
  -- A site has no parent; everything inside a site has one.
  CHECK ((venue_type = 'site') = (parent_id IS NULL))
);
CREATE INDEX venues_parent_id_idx ON venues (parent_id);
CREATE UNIQUE INDEX venues_room_name_key ON venues (parent_id, lower(name))
  WHERE parent_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE events (
  id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  slug         TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
  name         TEXT NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  description  TEXT,
  venue_id     UUID REFERENCES venues(id) ON DELETE SET NULL,
  organizer_id UUID REFERENCES profiles(id) ON DELETE SET NULL,
  starts_at    TIMESTAMPTZ NOT NULL,
  ends_at      TIMESTAMPTZ NOT NULL,
  time_zone    TEXT NOT NULL DEFAULT 'UTC' CHECK (is_iana_time_zone(time_zone)),
  currency     TEXT NOT NULL DEFAULT 'CAD' CHECK (is_currency_code(currency)),
  capacity     INTEGER CHECK (capacity > 0),
  status       TEXT NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'published', 'cancelled', 'completed', 'archived')),
  -- How long a waitlist offer stays open before it rolls to the next person (event day wants minutes).
  waitlist_offer_window INTERVAL NOT NULL DEFAULT interval '15 minutes'
               CHECK (waitlist_offer_window >= interval '1 minute' AND waitlist_offer_window <= interval '30 days'),
  archived_at  TIMESTAMPTZ,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at   TIMESTAMPTZ,
  CHECK (ends_at > starts_at)
);
CREATE INDEX events_venue_id_idx ON events (venue_id);
CREATE INDEX events_organizer_id_idx ON events (organizer_id);
-- "Which events are on today?" for the console's picker.
CREATE INDEX events_live_window_idx ON events (starts_at, ends_at) WHERE deleted_at IS NULL;

CREATE TABLE ticket_types (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  name        TEXT NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
  price       NUMERIC(10,2) NOT NULL DEFAULT 0 CHECK (price >= 0),
  currency    TEXT NOT NULL DEFAULT 'CAD' CHECK (is_currency_code(currency)),
  quantity    INTEGER CHECK (quantity >= 0),
  sales_start TIMESTAMPTZ,
  sales_end   TIMESTAMPTZ,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (event_id, name)
);

CREATE TABLE orders (
  id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id          UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  buyer_id          UUID REFERENCES profiles(id) ON DELETE SET NULL,
  order_number      TEXT NOT NULL UNIQUE CHECK (length(order_number) BETWEEN 1 AND 64),
  buyer_email       TEXT NOT NULL CHECK (buyer_email ~ '^[^@\s]+@[^@\s]+$'),
  buyer_name        TEXT NOT NULL CHECK (btrim(buyer_name) <> ''),
  status            TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'cancelled')),
  subtotal_amount   NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (subtotal_amount >= 0),
  fee_amount        NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (fee_amount >= 0),
  tax_amount        NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
  discount_amount   NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
  total_amount      NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (total_amount >= 0),
  refunded_amount   NUMERIC(12,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  currency          TEXT NOT NULL DEFAULT 'CAD' CHECK (is_currency_code(currency)),
  payment_provider  TEXT,
  payment_reference TEXT,
  paid_at           TIMESTAMPTZ,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at        TIMESTAMPTZ,
  CHECK (total_amount = subtotal_amount + fee_amount + tax_amount - discount_amount),
  CHECK (refunded_amount <= total_amount),
  CHECK (status <> 'paid' OR paid_at IS NOT NULL)
);
CREATE INDEX orders_event_id_idx ON orders (event_id, created_at);
CREATE INDEX orders_buyer_id_idx ON orders (buyer_id);
CREATE UNIQUE INDEX orders_payment_reference_key ON orders (payment_provider, payment_reference)
  WHERE payment_reference IS NOT NULL;

CREATE TABLE attendees (
  id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id     UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  order_id     UUID REFERENCES orders(id) ON DELETE SET NULL,
  profile_id   UUID REFERENCES profiles(id) ON DELETE SET NULL,
  first_name   TEXT NOT NULL CHECK (btrim(first_name) <> '' AND length(first_name) <= 100),
  last_name    TEXT NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
  email        TEXT NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
  company      TEXT CHECK (length(company) <= 200),
  job_title    TEXT CHECK (length(job_title) <= 200),
  status       TEXT NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'cancelled')),
  cancelled_at TIMESTAMPTZ,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at   TIMESTAMPTZ,
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX attendees_event_id_idx ON attendees (event_id, status);
CREATE INDEX attendees_order_id_idx ON attendees (order_id);
CREATE INDEX attendees_profile_id_idx ON attendees (profile_id);
-- The desk's search box: by name or email, case-insensitively, within one event.
CREATE INDEX attendees_event_email_idx ON attendees (event_id, lower(email));
CREATE INDEX attendees_event_name_idx ON attendees (event_id, lower(last_name), lower(first_name));

CREATE TABLE tickets (
  id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id       UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  attendee_id    UUID NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
  order_id       UUID REFERENCES orders(id) ON DELETE SET NULL,
  ticket_type_id UUID NOT NULL REFERENCES ticket_types(id),
  -- What the QR code or barcode holds. Printable, no spaces: scanners type it and end with Enter.
  code           TEXT NOT NULL UNIQUE CHECK (code ~ '^[[:graph:]]{4,128}$'),
  status         TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'void', 'refunded')),
  price_paid     NUMERIC(10,2) NOT NULL DEFAULT 0 CHECK (price_paid >= 0),
  currency       TEXT NOT NULL DEFAULT 'CAD' CHECK (is_currency_code(currency)),
  status_changed_at TIMESTAMPTZ,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tickets_event_id_idx ON tickets (event_id, status);
CREATE INDEX tickets_attendee_id_idx ON tickets (attendee_id);
CREATE INDEX tickets_order_id_idx ON tickets (order_id);
CREATE INDEX tickets_ticket_type_id_idx ON tickets (ticket_type_id);

CREATE TRIGGER profiles_updated_at BEFORE UPDATE ON profiles FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER venues_updated_at BEFORE UPDATE ON venues FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER events_updated_at BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER ticket_types_updated_at BEFORE UPDATE ON ticket_types FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER attendees_updated_at BEFORE UPDATE ON attendees FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER tickets_updated_at BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION set_updated_at();
