-- The Stripe events queue. A claim takes the oldest pending event that is due:
-- an index of the pending events only, in the claim's order, keeps that one
-- index step however long the backlog. With (status, due_at) and the claim's
-- "this id, or any" condition, PostgreSQL's generic plan read every pending row
-- and sorted them: 52 ms a claim at 95,000 pending, 32 events a second.
drop index stripe_events_status_due_idx;
create index stripe_events_queue_idx on stripe_events (due_at, received_at, id) where status = 'pending';
