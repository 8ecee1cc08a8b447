-- Updates to patrons ("this month your support paid for …") and anniversary emails.

-- An update staff wrote: English, with an optional Ukrainian translation, for
-- one audience. A draft until sent_at is set, once, by the transaction that
-- queues its emails (the conditional update that sets it decides a double send).
create table updates (
    id text primary key,
    subject_en text not null,
    body_en text not null,
    subject_uk text,
    body_uk text,
    -- patrons | tier | voters | members
    audience text not null constraint updates_audience_check check (audience in ('patrons', 'tier', 'voters', 'members')),
    tier_id text references tiers (id),
    topic_id text references topics (id),
    -- 1: also shown on the public transparency page once sent
    on_transparency integer not null default 0,
    created_by text references staff_users (id),
    created_at integer not null,
    sent_at integer,
    sent_by text references staff_users (id),
    recipients integer
);
create index updates_sent_idx on updates (sent_at);

-- When the member turned updates (and anniversary emails) off; null: they receive them.
alter table members add column updates_unsubscribed_at integer;

-- One anniversary email per member and year as a patron, ever.
create table anniversary_emails (
    member_id text not null references members (id),
    years integer not null,
    sent_at integer not null,
    constraint anniversary_emails_key primary key (member_id, years)
);

-- Per-message headers ("Name: value" lines, e.g. List-Unsubscribe) and, for
-- updates and anniversaries, the member whose unsubscribing stops the message
-- even after it was queued.
alter table email_outbox add column headers text;
alter table email_outbox add column unless_unsubscribed text;
