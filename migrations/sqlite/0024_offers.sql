-- Offers and trials (README "Offers and trials").
--
-- An offer is a discount (kind 'percent' with percent_off 1..100, or 'amount' with
-- amounts_off, one amount in minor units per currency: 'eur:150,uah:5000') for
-- duration 'once', 'repeating' (duration_months) or 'forever'; or a free trial
-- (kind 'trial', trial_days). It applies to the tiers in tier_ids (comma-separated
-- ids) and the intervals in intervals ('month,year'). code is stored upper-case
-- (codes are typed case-insensitively); ends_at and max_redemptions are optional.
-- ended_at: staff ended it. The Stripe coupon (and promotion code, for a code) is
-- created on the first checkout that uses the offer.
create table offers (
    id text primary key,
    slug text not null,
    name text not null,
    kind text not null,
    percent_off integer,
    amounts_off text,
    duration text,
    duration_months integer,
    trial_days integer,
    tier_ids text not null,
    intervals text not null,
    code text,
    ends_at integer,
    max_redemptions integer,
    stripe_coupon_id text,
    stripe_promotion_code_id text,
    created_at integer not null,
    ended_at integer,
    constraint offers_slug_key unique (slug),
    constraint offers_code_key unique (code)
);

-- Which offer a subscription redeemed: one row per subscription, written in the
-- transaction that mirrors the subscription (demo checkout, or Stripe's
-- subscription with its discount / trial read back). The redemption limit is
-- the count of these rows, checked with the offer locked.
create table offer_redemptions (
    id text primary key,
    offer_id text not null references offers (id),
    member_id text references members (id),
    subscription_id text not null references subscriptions (id),
    currency text not null,
    redeemed_at integer not null,
    constraint offer_redemptions_subscription_key unique (subscription_id)
);
create index offer_redemptions_offer_idx on offer_redemptions (offer_id, redeemed_at);

-- The offer a subscription's discount or trial comes from now (null: none, or
-- the discount ended): MRR is lowered only by a 'forever' discount.
alter table subscriptions add column offer_id text;
