-- The feedback on early-warning alerts: every state change (who, when, from which state to
-- which, with an optional note) is kept, so false alarms can tune the signals later. The
-- alert row itself keeps only its current state.

create table alert_events (
    id bigint generated always as identity primary key,
    alert_id bigint not null references alerts (id),
    from_state text not null,
    to_state text not null check (to_state in ('new', 'acknowledged', 'action_taken', 'false_alarm')),
    changed_at timestamptz not null,
    -- the staff user's e-mail address
    changed_by text not null,
    note text
);
create index alert_events_alert on alert_events (alert_id, id);
create index alerts_customer on alerts (customer_id, id);
