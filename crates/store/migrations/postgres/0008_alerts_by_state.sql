-- The alert inbox lists one state's alerts newest first (`where state = ? and id < ?
-- order by id desc`): with (state, id) that is a walk down the index; with (state,
-- raised_on) it was a sort of every alert in the state (0.3-0.8 s at 138,000 alerts).
create index alerts_state_id on alerts (state, id);
