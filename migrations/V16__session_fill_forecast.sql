-- Session fill forecasts: the Sessions desk reads, for every session it shows, the registrations and the
-- entries at its door over the last minutes (the forecast's rates). The indexes that served the
-- sessions' foreign keys now lead with the session and go on in time, so those are ranges, not every
-- row of the session.
CREATE INDEX session_registrations_session_time_idx ON session_registrations (session_id, registered_at);
DROP INDEX session_registrations_session_all_idx;
CREATE INDEX event_checkins_session_time_idx ON event_checkins (session_id, check_in_time)
  WHERE session_id IS NOT NULL;
DROP INDEX event_checkins_session_id_idx;
