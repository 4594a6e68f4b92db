-- A customer's statuses are found by run: the primary key (run_id, customer_id), one
-- lookup per run (the P(alive) history walks the runs). The index by (customer_id, run_id)
-- cost every analysis a write in the middle of the index for each customer (1.5 s of a
-- million-customer run) and grew with every run.
drop index customer_status_customer;
