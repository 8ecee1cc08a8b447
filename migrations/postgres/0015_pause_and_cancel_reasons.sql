-- Pausing instead of cancelling, and why patrons cancel.
--
-- Stripe's pause_collection, mirrored: how invoices are treated while paused
-- ('void', 'keep_as_draft', 'mark_uncollectible'; null: not paused) and when
-- collection resumes (null: until resumed by hand).
alter table subscriptions add column pause_behavior text;
alter table subscriptions add column pause_resumes_at bigint;

-- The cancel survey: at most one answer per subscription (a resume withdraws it),
-- written in the transaction that records the cancellation. reason is one of the
-- fixed list in src/domain/retention.rs; comment is the patron's own words.
-- currency is the subscription's, so the churn report can group by it.
create table cancel_reasons (
    id text primary key,
    subscription_id text not null references subscriptions (id),
    reason text not null,
    comment text,
    currency text not null,
    created_at bigint not null,
    constraint cancel_reasons_subscription_key unique (subscription_id)
);
create index cancel_reasons_created_at_idx on cancel_reasons (created_at);
