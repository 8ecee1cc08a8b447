-- A member's payment history (account page) reads their newest rows first; with
-- this index neither backend is tempted to walk the whole ledger by date.
drop index payments_member_id_idx;
create index payments_member_occurred_idx on payments (member_id, occurred_at);
