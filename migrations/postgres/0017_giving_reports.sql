-- The tiers and donations reports.

-- How many gifts a donor gave in the month: donors who gave more than once in
-- a range are its repeat donors.
alter table donor_monthly add column gifts bigint not null default 1;
update donor_monthly set gifts = (
    select count(*) from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
    where p.kind = 'donation' and m.month = donor_monthly.month and p.currency = donor_monthly.currency
        and coalesce(p.member_id, p.provider_id) = donor_monthly.donor
);
create index donor_monthly_donor_idx on donor_monthly (currency, donor, month, gifts);

-- One-time gifts per month, currency and amount: gifts cluster at the suggested
-- amounts, so the median gift of any range is exact and read from a few rows.
-- Kept with each gift, in the transaction that books it (db/payments.rs).
create table donation_amounts_monthly (
    month text not null,
    currency text not null,
    amount_minor bigint not null,
    gifts bigint not null,
    constraint donation_amounts_monthly_key primary key (month, currency, amount_minor)
);
insert into donation_amounts_monthly (month, currency, amount_minor, gifts)
select m.month, p.currency, p.gross_minor, count(*)
from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
where p.kind = 'donation'
group by m.month, p.currency, p.gross_minor;

-- The largest gifts of a range.
create index payments_kind_occurred_at_idx on payments (kind, occurred_at, currency, gross_minor, member_id);

-- A live subscription moved to another tier or interval (a plan change in the
-- portal): upgrades and downgrades between tiers. Written by billing in the
-- transaction that applies the change; history before this table is unknown.
create table tier_changes (
    id text primary key,
    subscription_id text not null references subscriptions (id),
    member_id text references members (id),
    from_tier_id text references tiers (id),
    from_interval text not null,
    to_tier_id text references tiers (id),
    to_interval text not null,
    currency text not null,
    mrr_before_minor bigint not null,
    mrr_after_minor bigint not null,
    occurred_at bigint not null
);
create index tier_changes_occurred_at_idx on tier_changes (occurred_at);

-- The tiers report reads every subscription that paid, from the index alone.
create index subscriptions_tier_report_idx on subscriptions (first_paid_at, tier_id, interval, currency, mrr_minor, ended_at, status, updated_at);
