-- The ledger mirrors Stripe's balance transactions. A row keeps the charge's
-- amount and currency (gross_minor, currency: what the reader paid) beside the
-- balance transaction's amount, fee and net in the settlement currency
-- (settlement_gross_minor, fee_minor, net_minor, settlement_currency), so the two
-- are never added together. A refund that fails after it was booked is reversed
-- by a 'refund_failed' row. SQLite cannot change a check constraint in place:
-- the table is rebuilt (nothing references it).
create table payments_new (
    id text primary key,
    kind text not null constraint payments_kind_check check (kind in ('subscription', 'donation', 'refund', 'refund_failed', 'dispute', 'dispute_won')),
    -- the Stripe object the row stands for: in_…, ch_…, re_…, du_… (or demo ids)
    provider_id text not null,
    member_id text references members (id),
    subscription_id text references subscriptions (id),
    -- in the charge's currency; negative for money going back (refunds, disputes)
    gross_minor integer not null,
    currency text not null,
    -- the balance transaction: amount, fee and net in the settlement currency
    settlement_gross_minor integer not null,
    fee_minor integer not null default 0,
    net_minor integer not null,
    settlement_currency text not null,
    charge_id text,
    description text,
    occurred_at integer not null,
    created_at integer not null,
    constraint payments_kind_provider_id_key unique (kind, provider_id)
);
-- Rows written before kept fee and net in the settlement currency (or none):
-- a balance transaction's amount is its fee plus its net.
insert into payments_new (id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
        settlement_gross_minor, fee_minor, net_minor, settlement_currency, charge_id, description, occurred_at, created_at)
    select id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
        fee_minor + net_minor, fee_minor, net_minor, coalesce(settlement_currency, currency), charge_id, description,
        occurred_at, created_at
    from payments;
drop table payments;
alter table payments_new rename to payments;
create index payments_member_occurred_idx on payments (member_id, occurred_at);
create index payments_occurred_at_idx on payments (occurred_at);
create index payments_charge_id_idx on payments (charge_id);

-- A refund or dispute that arrives before its payment waits for it: the charge
-- it waits for, so recording that payment wakes it at once.
alter table stripe_events add column waits_for text;
create index stripe_events_waits_for_idx on stripe_events (waits_for);
