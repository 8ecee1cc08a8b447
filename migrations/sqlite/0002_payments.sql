-- Payments: tiers and their prices, the Stripe customer of each member,
-- subscriptions (mirroring Stripe's), the payment ledger, MRR movements and the
-- Stripe event log. Money is integer minor units plus a lower-case ISO currency.

create table tiers (
    id text primary key,
    slug text not null constraint tiers_slug_key unique,
    name text not null,
    description text not null default '',
    -- one benefit per line
    benefits text not null default '',
    vote_weight integer not null default 1 constraint tiers_vote_weight_check check (vote_weight between 1 and 100),
    position integer not null default 0,
    status text not null default 'active' constraint tiers_status_check check (status in ('active', 'archived')),
    stripe_product_id text constraint tiers_stripe_product_id_key unique,
    created_at integer not null,
    updated_at integer not null
);

create table tier_prices (
    id text primary key,
    tier_id text not null references tiers (id),
    interval text not null constraint tier_prices_interval_check check (interval in ('month', 'year')),
    currency text not null,
    amount_minor integer not null constraint tier_prices_amount_check check (amount_minor > 0),
    -- pay-what-you-want: the amount above is the minimum
    flexible integer not null default 0,
    stripe_price_id text constraint tier_prices_stripe_price_id_key unique,
    created_at integer not null,
    archived_at integer
);
-- One live price per tier, interval and currency; old ones stay for existing subscribers.
create unique index tier_prices_live_key on tier_prices (tier_id, interval, currency) where archived_at is null;

alter table members add column stripe_customer_id text;
create unique index members_stripe_customer_id_key on members (stripe_customer_id);
-- Staff can grant patron status without payment until this time.
alter table members add column comped_until integer;

create table subscriptions (
    id text primary key,
    -- Stripe's id (sub_…), or demo_sub_… for demo payments
    provider_id text not null constraint subscriptions_provider_id_key unique,
    member_id text references members (id),
    customer_id text not null,
    tier_id text references tiers (id),
    price_id text,
    status text not null,
    interval text not null,
    amount_minor integer not null,
    currency text not null,
    current_period_end integer,
    cancel_at_period_end integer not null default 0,
    started_at integer,
    canceled_at integer,
    ended_at integer,
    -- when it last became past_due (grace period counts from here)
    past_due_since integer,
    -- when the first invoice was paid: voting counts only after this
    first_paid_at integer,
    -- the monthly amount this subscription currently contributes to MRR
    mrr_minor integer not null default 0,
    created_at integer not null,
    updated_at integer not null
);
create index subscriptions_member_id_idx on subscriptions (member_id);
create index subscriptions_customer_id_idx on subscriptions (customer_id);

-- The ledger: every money movement, once. Reports come only from here.
create table payments (
    id text primary key,
    kind text not null constraint payments_kind_check check (kind in ('subscription', 'donation', 'refund', 'dispute', 'dispute_won')),
    -- the Stripe object the row stands for: in_…, ch_…, re_…, du_… (or demo ids)
    provider_id text not null,
    member_id text references members (id),
    subscription_id text references subscriptions (id),
    -- negative for money going back (refunds, disputes)
    gross_minor integer not null,
    fee_minor integer not null default 0,
    net_minor integer not null,
    currency text not null,
    settlement_currency text,
    settlement_net_minor integer,
    charge_id text,
    description text,
    occurred_at integer not null,
    created_at integer not null,
    constraint payments_kind_provider_id_key unique (kind, provider_id)
);
create index payments_member_id_idx on payments (member_id);
create index payments_occurred_at_idx on payments (occurred_at);
create index payments_charge_id_idx on payments (charge_id);

create table mrr_movements (
    id text primary key,
    subscription_id text not null references subscriptions (id),
    member_id text references members (id),
    kind text not null constraint mrr_movements_kind_check check (kind in ('new', 'expansion', 'contraction', 'churn', 'reactivation')),
    delta_minor integer not null,
    mrr_after_minor integer not null,
    currency text not null,
    occurred_at integer not null,
    created_at integer not null
);
create index mrr_movements_occurred_at_idx on mrr_movements (occurred_at);
create index mrr_movements_member_id_idx on mrr_movements (member_id);

create table stripe_events (
    id text primary key,
    type text not null,
    object_id text,
    api_version text,
    -- the raw body, exactly as signed
    payload text not null,
    status text not null constraint stripe_events_status_check check (status in ('pending', 'applied', 'ignored', 'unmatched', 'failed', 'unreadable')),
    attempts integer not null default 0,
    due_at integer,
    locked_until integer,
    locked_by text,
    last_error text,
    stripe_created_at integer,
    received_at integer not null,
    applied_at integer
);
create index stripe_events_status_due_idx on stripe_events (status, due_at);
create index stripe_events_received_at_idx on stripe_events (received_at);

-- Default tiers so a new newsroom can take patrons at once; staff edit or archive them.
insert into tiers (id, slug, name, description, benefits, vote_weight, position, status, created_at, updated_at) values ('00000000-0000-7000-8000-000000000001', 'reader', 'Reader', 'A cup of coffee a month. Keeps our reporting free for everyone.', 'One vote on every ballot
Our thanks in every newsletter', 1, 1, 'active', 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000001', '00000000-0000-7000-8000-000000000001', 'month', 'eur', 300, 1, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000002', '00000000-0000-7000-8000-000000000001', 'year', 'eur', 3000, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000003', '00000000-0000-7000-8000-000000000001', 'month', 'usd', 300, 1, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000004', '00000000-0000-7000-8000-000000000001', 'year', 'usd', 3000, 0, 0);
insert into tiers (id, slug, name, description, benefits, vote_weight, position, status, created_at, updated_at) values ('00000000-0000-7000-8000-000000000002', 'supporter', 'Supporter', 'Two cups a month, and your vote counts twice.', 'Double vote weight
Suggest topics for the ballot', 2, 2, 'active', 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000005', '00000000-0000-7000-8000-000000000002', 'month', 'eur', 600, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000006', '00000000-0000-7000-8000-000000000002', 'year', 'eur', 6000, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000007', '00000000-0000-7000-8000-000000000002', 'month', 'usd', 600, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000008', '00000000-0000-7000-8000-000000000002', 'year', 'usd', 6000, 0, 0);
insert into tiers (id, slug, name, description, benefits, vote_weight, position, status, created_at, updated_at) values ('00000000-0000-7000-8000-000000000003', 'cocreator', 'Co-creator', 'Fund a story a year and help decide what we investigate.', 'Triple vote weight
Suggest topics for the ballot
An annual call with the editors', 3, 3, 'active', 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000009', '00000000-0000-7000-8000-000000000003', 'month', 'eur', 1200, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000010', '00000000-0000-7000-8000-000000000003', 'year', 'eur', 12000, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000011', '00000000-0000-7000-8000-000000000003', 'month', 'usd', 1200, 0, 0);
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at) values ('00000000-0000-7000-9000-000000000012', '00000000-0000-7000-8000-000000000003', 'year', 'usd', 12000, 0, 0);
