-- Revenue reports read monthly aggregates kept current in the transaction that
-- writes a ledger row or an MRR movement (db/payments.rs), never a nightly batch.
--
-- Months are calendar months in the newsroom's time zone (NEWSROOM_TIMEZONE).
-- SQL cannot apply a time zone portably, so the zone is turned into data: one
-- row per month with the instants it starts and ends at (UTC microseconds),
-- written at start-up for the configured zone (services/reports.rs); a change
-- of zone rewrites them and rebuilds the aggregates from the ledger.
create table report_months (
    -- 'YYYY-MM', in the newsroom's zone
    month text primary key,
    starts_at integer not null,
    ends_at integer not null
);
create unique index report_months_starts_at_key on report_months (starts_at);

-- The ledger per month, kind, charge currency and settlement currency: sums of
-- the rows' columns, so the report's totals equal the ledger's to the minor unit.
-- Amounts in different currencies are never added together.
create table ledger_monthly (
    month text not null,
    kind text not null,
    currency text not null,
    settlement_currency text not null,
    rows_count integer not null,
    gross_minor integer not null,
    settlement_gross_minor integer not null,
    fee_minor integer not null,
    net_minor integer not null,
    constraint ledger_monthly_key primary key (month, kind, currency, settlement_currency)
);

-- MRR movements per month, currency and kind (churn split into voluntary and
-- involuntary: the subscription ended after its payments failed).
create table mrr_monthly (
    month text not null,
    currency text not null,
    kind text not null,
    involuntary integer not null,
    movements integer not null,
    delta_minor integer not null,
    constraint mrr_monthly_key primary key (month, currency, kind, involuntary)
);

-- 1 when a churn came from failed payments rather than a cancellation.
alter table mrr_movements add column involuntary integer not null default 0;

-- Dunning: a subscription's steps in and out of past due, written by billing in
-- the transaction that applies the change: 'failed' (a renewal failed: now past
-- due), 'recovered' (paid after all), 'lost' (ended unpaid). mrr_minor is the
-- monthly revenue at stake.
create table dunning_events (
    id text primary key,
    subscription_id text not null references subscriptions (id),
    member_id text references members (id),
    kind text not null constraint dunning_events_kind_check check (kind in ('failed', 'recovered', 'lost')),
    mrr_minor integer not null,
    currency text not null,
    occurred_at integer not null
);
create index dunning_events_occurred_at_idx on dunning_events (occurred_at);
create index dunning_events_subscription_idx on dunning_events (subscription_id, occurred_at);
-- Patrons now by status (paying, past due), read from the index alone.
create index subscriptions_status_idx on subscriptions (status, member_id, mrr_minor, past_due_since);
-- Was this member a patron at that time (votes and revenue).
create index subscriptions_member_paid_idx on subscriptions (member_id, first_paid_at, ended_at);
create index votes_topic_member_idx on votes (topic_id, member_id, created_at);
create index members_comped_until_idx on members (comped_until);

-- Donors per month and currency (the gift's): counting the rows of a month counts
-- its donors; an anonymous gift is a donor of its own. Kept with each gift.
create table donor_monthly (
    month text not null,
    currency text not null,
    -- the member's id, or the gift's provider id when anonymous
    donor text not null,
    constraint donor_monthly_key primary key (month, currency, donor)
);

-- Retention cohorts: a member's cohort is the month of their first MRR movement
-- (their first payment). Per cohort, month and currency, the change in how many
-- of its members pay (0 → some MRR: +1, some → 0: −1) and in their MRR; a
-- cohort's figure in a month is the sum of its changes up to that month.
create table cohort_monthly (
    cohort text not null,
    month text not null,
    currency text not null,
    patrons_delta integer not null,
    mrr_delta integer not null,
    constraint cohort_monthly_key primary key (cohort, month, currency)
);
-- MRR now per currency, from the index alone.
create index subscriptions_mrr_idx on subscriptions (mrr_minor, currency);

-- A covered topic's voters, and how many of them were patrons when they voted:
-- worked out when the topic is marked covered (its votes are final by then), so
-- the dashboard reads a row instead of checking every vote.
create table topic_vote_figures (
    topic_id text primary key references topics (id),
    voters integer not null,
    patron_voters integer not null,
    computed_at integer not null
);
