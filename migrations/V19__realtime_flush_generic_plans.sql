-- realtime_flush() plans each of its statements once, not on every flush. With plan_cache_mode left to
-- PostgreSQL, its statements (whose parameters are the batch's transaction range and arrays) were
-- planned again on every call: with 8 gates scanning through the API at about 3,300 a second, planning
-- was 35% of the flushing backend's CPU (perf, 6 s of the worker's backend), and a flush cost 2.2 ms of
-- server CPU. Generic plans (every xid test has its index; seqscans are off in this function) bring a
-- flush to 1.0 ms: the worker's backend used 136 ticks instead of 186 over the same 12 s while making
-- 1,304 batches instead of 880. tests/realtime_totals.rs counts the rows one flush reads, views included.
-- The setting holds for everything the flush calls (the batch views' summary, the push, the hints), and
-- for a console's flush (realtime_flush_for_console() calls this one).
ALTER FUNCTION realtime_flush() SET plan_cache_mode = force_generic_plan;
