-- Idle timeout of sign-in sessions: when a session was last used. The web application
-- ends a session unused for longer than its idle limit (30 minutes by default) in addition
-- to the absolute expiry, and refreshes this at most once a minute per session.

alter table sessions add column last_seen_at timestamptz;
update sessions set last_seen_at = created_at;
