-- The card each Stripe customer last paid with, or last attached (the Customer
-- Portal's "update payment method"): Stripe sends no "expiring" event for a
-- PaymentMethod as it does for a card source, so Patronage reminds patrons
-- itself, in the month before the card expires and in that month.
-- expires_month is exp_year * 12 + exp_month - 1 (one number to compare);
-- seen_at orders what we learn (a charge or an event of an older card never
-- replaces a newer one); reminded_at is set once the reminder is decided, and
-- cleared when the card changes.
create table payment_cards (
    customer_id text primary key,
    payment_method_id text,
    brand text not null,
    last4 text not null,
    exp_month integer not null,
    exp_year integer not null,
    expires_month integer not null,
    seen_at integer not null,
    reminded_at integer
);
create index payment_cards_due_idx on payment_cards (expires_month) where reminded_at is null;
