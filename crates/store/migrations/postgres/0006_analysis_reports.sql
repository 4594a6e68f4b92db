-- How well the analysis holds up on the company's own data, kept with its run: the model's
-- holdout validation (weekly tracking, conditional expectations by frequency) and the
-- backtest of the statuses (what was predicted a while ago against what happened since).
-- The body is the report as JSON, written and read by the application.

create table analysis_reports (
    run_id bigint not null references analysis_runs (id),
    kind text not null check (kind in ('validation', 'backtest')),
    body text not null,
    primary key (run_id, kind)
);
