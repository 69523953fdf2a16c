-- Analytics: monthly partitions of event_analytics, and roll-ups as materialized views.

-- Creates the monthly partitions covering [first month, first month + months). Rows that already sit in
-- the default partition for such a month are moved into the new partition, so this never fails on
-- existing data. Idempotent. Returns the number of partitions created.
CREATE FUNCTION ensure_analytics_partitions(first_month date, months integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
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
$$;

-- Last month through a year ahead; the worker keeps extending it.
SELECT ensure_analytics_partitions((date_trunc('month', now()) - interval '1 month')::date, 14);

-- Hourly roll-up of every metric, per event and session.
CREATE MATERIALIZED VIEW analytics_hourly AS
SELECT event_id,
       session_id,
       metric_name,
       date_trunc('hour', measurement_time) AS hour,
       count(*)           AS samples,
       sum(metric_value)  AS total,
       avg(metric_value)  AS average,
       min(metric_value)  AS minimum,
       max(metric_value)  AS maximum
  FROM event_analytics
 GROUP BY event_id, session_id, metric_name, date_trunc('hour', measurement_time)
WITH DATA;
CREATE UNIQUE INDEX analytics_hourly_key ON analytics_hourly (event_id, session_id, metric_name, hour) NULLS NOT DISTINCT;

-- Feedback per session (session_id NULL: the event as a whole).
CREATE MATERIALIZED VIEW feedback_summary AS
SELECT event_id,
       session_id,
       count(*)                          AS responses,
       round(avg(overall_rating), 2)     AS overall,
       round(avg(content_rating), 2)     AS content,
       round(avg(speaker_rating), 2)     AS speaker,
       round(avg(venue_rating), 2)       AS venue,
       round(avg(organization_rating), 2) AS organization
  FROM event_feedback
 GROUP BY event_id, session_id
WITH DATA;
CREATE UNIQUE INDEX feedback_summary_key ON feedback_summary (event_id, session_id) NULLS NOT DISTINCT;

CREATE TABLE rollup_refreshes (
  view_name    TEXT PRIMARY KEY,
  refreshed_at TIMESTAMPTZ NOT NULL,
  duration_ms  NUMERIC(12,3) NOT NULL
);

-- Refreshes the roll-ups without blocking their readers. One refresher at a time: a second caller
-- returns false at once instead of queueing behind the first.
CREATE FUNCTION refresh_rollups() RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
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
    INSERT INTO rollup_refreshes AS r (view_name, refreshed_at, duration_ms)
    VALUES (view_name, now(), extract(epoch FROM clock_timestamp() - started) * 1000)
    ON CONFLICT ON CONSTRAINT rollup_refreshes_pkey
    DO UPDATE SET refreshed_at = excluded.refreshed_at, duration_ms = excluded.duration_ms;
  END LOOP;
  RETURN true;
END
$$;
