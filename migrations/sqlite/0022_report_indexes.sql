-- The largest gifts of a range, either way `db::giving_reports::largest_gifts`
-- reads them: a range's gifts by currency and time, or every gift from the
-- largest down. (Replaces the index of 0017, which led with the time and so
-- could only be read whole for a currency.)
drop index payments_kind_occurred_at_idx;
create index payments_gift_time_idx on payments (kind, currency, occurred_at, gross_minor, member_id);
create index payments_gift_size_idx on payments (kind, currency, gross_minor desc, occurred_at, member_id);

-- The tiers report reads every subscription that paid, grouped by tier, interval
-- and currency: in that order from the index alone, with no sort (replaces the
-- index of 0017, which led with first_paid_at and so needed one).
drop index subscriptions_tier_report_idx;
create index subscriptions_tier_report_idx on subscriptions (tier_id, interval, currency, first_paid_at, mrr_minor, ended_at, status, updated_at);
