-- Gift memberships and complimentary memberships with a reason.
--
-- A gift membership's sale is booked in the ledger as its own kind, 'gift':
-- one-time income, never MRR, never a donation. SQLite cannot change a check
-- constraint in place: the table is rebuilt with the same columns and indexes
-- (nothing references it).
create table payments_new (
    id text primary key,
    kind text not null constraint payments_kind_check check (kind in ('subscription', 'donation', 'gift', 'refund', 'refund_failed', 'dispute', 'dispute_won')),
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
    source_id text references sources (id),
    topic_id text,
    constraint payments_kind_provider_id_key unique (kind, provider_id)
);
insert into payments_new (id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
        settlement_gross_minor, fee_minor, net_minor, settlement_currency, charge_id, description, occurred_at,
        created_at, source_id, topic_id)
    select id, kind, provider_id, member_id, subscription_id, gross_minor, currency,
        settlement_gross_minor, fee_minor, net_minor, settlement_currency, charge_id, description, occurred_at,
        created_at, source_id, topic_id
    from payments;
drop table payments;
alter table payments_new rename to payments;
create index payments_member_occurred_idx on payments (member_id, occurred_at);
create index payments_occurred_at_idx on payments (occurred_at);
create index payments_charge_id_idx on payments (charge_id);
create index payments_topic_idx on payments (topic_id, currency, gross_minor) where topic_id is not null;
create index payments_gift_time_idx on payments (kind, currency, occurred_at, gross_minor, member_id);
create index payments_gift_size_idx on payments (kind, currency, gross_minor desc, occurred_at, member_id);

-- Why a member is complimentary (staff's reason, or the gift that made them so),
-- beside comped_until. An open-ended comp is stored with comped_until at the
-- end of year 9999 (domain::COMP_NO_END), so every "comped_until > now" test
-- keeps working unchanged.
alter table members add column comp_reason text;

-- Gift memberships: bought once by a giver for a recipient, emailed on
-- deliver_on (the newsroom's date; deliver_at is its midnight there), redeemed
-- once into a complimentary membership of `months` months. A row is written
-- when the checkout starts; paid_at (with the ledger row's provider id) marks
-- the payment, delivered_at the email to the recipient, redeemed_at the
-- redemption, ended_at the invitation to continue once the comp ran out.
create table gift_memberships (
    id text primary key,
    giver_member_id text not null references members (id),
    giver_name text,
    recipient_name text not null,
    recipient_email text not null,
    message text not null default '',
    locale text not null,
    tier_id text not null references tiers (id),
    months integer not null constraint gift_memberships_months_check check (months in (3, 6, 12)),
    amount_minor integer not null,
    currency text not null,
    deliver_on text not null,
    deliver_at integer not null,
    created_at integer not null,
    paid_at integer,
    payment_provider_id text,
    delivered_at integer,
    redeemed_at integer,
    recipient_member_id text references members (id),
    ends_at integer,
    ended_at integer
);
create index gift_memberships_due_idx on gift_memberships (deliver_at) where paid_at is not null and delivered_at is null;
create index gift_memberships_ends_idx on gift_memberships (ends_at) where ended_at is null and ends_at is not null;
create index gift_memberships_payment_idx on gift_memberships (payment_provider_id);
create index gift_memberships_giver_idx on gift_memberships (giver_member_id, created_at);
