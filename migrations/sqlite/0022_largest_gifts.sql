-- The largest gifts of a range, either way `db::giving_reports::largest_gifts`
-- reads them: a range's gifts by currency and time, or every gift from the
-- largest down. (Replaces the index of 0017, which led with the time and so
-- could only be read whole for a currency.)
drop index payments_kind_occurred_at_idx;
create index payments_gift_time_idx on payments (kind, currency, occurred_at, gross_minor, member_id);
create index payments_gift_size_idx on payments (kind, currency, gross_minor desc, occurred_at, member_id);
