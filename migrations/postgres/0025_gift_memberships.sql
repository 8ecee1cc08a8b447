-- Gift memberships and complimentary memberships with a reason.
--
-- A gift membership's sale is booked in the ledger as its own kind, 'gift':
-- one-time income, never MRR, never a donation.
alter table payments drop constraint payments_kind_check;
alter table payments add constraint payments_kind_check
    check (kind in ('subscription', 'donation', 'gift', 'refund', 'refund_failed', 'dispute', 'dispute_won'));

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
    months bigint not null constraint gift_memberships_months_check check (months in (3, 6, 12)),
    amount_minor bigint not null,
    currency text not null,
    deliver_on text not null,
    deliver_at bigint not null,
    created_at bigint not null,
    paid_at bigint,
    payment_provider_id text,
    delivered_at bigint,
    redeemed_at bigint,
    recipient_member_id text references members (id),
    ends_at bigint,
    ended_at bigint
);
create index gift_memberships_due_idx on gift_memberships (deliver_at) where paid_at is not null and delivered_at is null;
create index gift_memberships_ends_idx on gift_memberships (ends_at) where ended_at is null and ends_at is not null;
create index gift_memberships_payment_idx on gift_memberships (payment_provider_id);
create index gift_memberships_giver_idx on gift_memberships (giver_member_id, created_at);
