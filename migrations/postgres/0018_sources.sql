-- Where patrons come from: each distinct (article, referrer host, utm source,
-- medium, campaign) once, its id a hash of the five values (absent ones are '').
create table sources (
    id text primary key,
    article_url text not null default '',
    referrer_host text not null default '',
    utm_source text not null default '',
    utm_medium text not null default '',
    utm_campaign text not null default '',
    created_at bigint not null
);

-- The first source on the member (set when the member is created), the last one
-- on each subscription (its checkout) and ledger row.
alter table members add column first_source_id text references sources (id);
alter table subscriptions add column source_id text references sources (id);
alter table payments add column source_id text references sources (id);

-- New members per month and first source ('' for none), kept in the transaction
-- that creates the member (services::sources::joined).
create table source_members_monthly (
    month text not null,
    source_id text not null,
    members bigint not null default 0,
    constraint source_members_monthly_key primary key (month, source_id)
);
insert into source_members_monthly (month, source_id, members)
select m.month, '', count(*)
from members b join report_months m on b.created_at >= m.starts_at and b.created_at < m.ends_at
group by m.month;

-- Memberships and gifts per month, source ('' for none), currency and kind:
-- payments, new patrons (a subscription's first payment) and gross. Kept with
-- each payment, in the transaction that books it (db/payments.rs, billing).
create table source_monthly (
    month text not null,
    source_id text not null,
    currency text not null,
    kind text not null,
    payments bigint not null default 0,
    new_patrons bigint not null default 0,
    gross_minor bigint not null default 0,
    constraint source_monthly_key primary key (month, source_id, currency, kind)
);
insert into source_monthly (month, source_id, currency, kind, payments, new_patrons, gross_minor)
select m.month, '', p.currency, p.kind, count(*), 0, cast(sum(p.gross_minor) as bigint)
from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
where p.kind in ('subscription', 'donation')
group by m.month, p.currency, p.kind;
insert into source_monthly (month, source_id, currency, kind, payments, new_patrons, gross_minor)
select m.month, '', s.currency, 'subscription', 0, count(*), 0
from subscriptions s join report_months m on s.first_paid_at >= m.starts_at and s.first_paid_at < m.ends_at
where s.first_paid_at is not null
group by m.month, s.currency
on conflict (month, source_id, currency, kind) do update set new_patrons = excluded.new_patrons;
