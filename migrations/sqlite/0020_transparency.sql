-- The public transparency page and per-topic funding goals.

-- A topic's funding goal, set by staff: one per topic, in one currency. Progress
-- is never stored: it is the sum of the ledger rows tagged with the topic in the
-- goal's currency (gifts, less their refunds and disputes), read through
-- payments_topic_idx. reached_at is set once, by the transaction that booked the
-- gift that reached the goal; the staff email goes out with it.
create table topic_goals (
    topic_id text primary key references topics (id),
    goal_minor integer not null constraint topic_goals_goal_check check (goal_minor > 0),
    currency text not null,
    created_at integer not null,
    updated_at integer not null,
    closed_at integer,
    reached_at integer
);

-- The topic a gift was given toward (and, copied from it, its refunds' and
-- disputes' rows). No foreign key: a tag checked at checkout, and export writes
-- payments before topics.
alter table payments add column topic_id text;
create index payments_topic_idx on payments (topic_id, currency, gross_minor) where topic_id is not null;

-- "What your support paid for": one note per month ('YYYY-MM', the newsroom's zone).
create table transparency_notes (
    month text primary key,
    body text not null,
    staff_id text references staff_users (id),
    updated_at integer not null
);

-- "List me as a supporter": the name (or pseudonym) the member chose to be
-- listed under on the transparency page; null when they did not opt in.
alter table members add column supporter_name text;
create index members_supporter_idx on members (supporter_name) where supporter_name is not null;
