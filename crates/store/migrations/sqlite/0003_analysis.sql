-- Results of `winback analyze`: one run per analysis (as of a date, with the fitted
-- model), each customer's status in that run, early-warning alerts with their lifecycle,
-- and business settings with their history.

create table analysis_runs (
    id integer primary key,
    as_of_on text not null,
    model text not null,
    -- the fitted parameters as JSON ({"r": 0.24, ...}) and the fit's log-likelihood
    params text not null,
    loglik real,
    n_customers integer not null,
    started_at text not null,
    finished_at text not null
);

-- The latest run's status per customer; earlier runs keep theirs for the P(alive) history.
create table customer_status (
    run_id integer not null references analysis_runs (id),
    customer_id integer not null references customers (id),
    status text not null check (status in ('active', 'at_risk', 'sleeping', 'lost')),
    loss_kind text,
    lost_on text,
    likely_cause text,
    p_alive real not null,
    expected_transactions_52w real not null,
    clv_cents integer not null,
    bargain_hunter integer not null default 0 check (bargain_hunter in (0, 1)),
    -- machine-readable evidence as JSON, rendered per language by the web layer
    evidence text not null,
    primary key (run_id, customer_id)
);
create index customer_status_customer on customer_status (customer_id, run_id);
create index customer_status_status on customer_status (run_id, status);

create table alerts (
    id integer primary key,
    customer_id integer not null references customers (id),
    signal text not null,
    raised_on text not null,
    evidence text not null,
    state text not null default 'new' check (state in ('new', 'acknowledged', 'action_taken', 'false_alarm')),
    state_changed_at text,
    -- the staff user who gave the feedback, kept so false alarms can tune the signals
    state_changed_by text,
    note text,
    first_run_id integer not null references analysis_runs (id),
    -- one alert per customer, signal and day: re-running an analysis does not duplicate it
    unique (customer_id, signal, raised_on)
);
create index alerts_state on alerts (state, raised_on);

-- Business settings (thresholds, weights), edited in the UI; every change is a new row.
create table settings (
    id integer primary key,
    key text not null,
    value text not null,
    changed_at text not null,
    changed_by text
);
create index settings_key on settings (key, id);
