-- The ledger mirrors Stripe's balance transactions. A row keeps the charge's
-- amount and currency (gross_minor, currency: what the reader paid) beside the
-- balance transaction's amount, fee and net in the settlement currency
-- (settlement_gross_minor, fee_minor, net_minor, settlement_currency), so the two
-- are never added together. A refund that fails after it was booked is reversed
-- by a 'refund_failed' row.
alter table payments drop constraint payments_kind_check;
alter table payments add constraint payments_kind_check
    check (kind in ('subscription', 'donation', 'refund', 'refund_failed', 'dispute', 'dispute_won'));
alter table payments add column settlement_gross_minor bigint;
-- Rows written before kept fee and net in the settlement currency (or none):
-- a balance transaction's amount is its fee plus its net.
update payments set settlement_gross_minor = fee_minor + net_minor, settlement_currency = coalesce(settlement_currency, currency);
alter table payments alter column settlement_gross_minor set not null;
alter table payments alter column settlement_currency set not null;
alter table payments drop column settlement_net_minor;

-- A refund or dispute that arrives before its payment waits for it: the charge
-- it waits for, so recording that payment wakes it at once.
alter table stripe_events add column waits_for text;
create index stripe_events_waits_for_idx on stripe_events (waits_for);
