-- Voting: topics readers suggest, their history, who follows them, the articles
-- that covered them; voting rounds with their ballots, each member's ballot
-- (votes used) and the votes themselves.

-- How the member appears on public pages (a pseudonym); null: their name.
alter table members add column public_name text;

create table topics (
    id text primary key,
    title text not null,
    description text not null default '',
    link text,
    status text not null constraint topics_status_check
        check (status in ('suggested', 'open', 'planned', 'covered', 'declined', 'merged')),
    suggested_by text references members (id),
    merged_into text references topics (id),
    -- the latest public note (a decline reason, a plan)
    public_note text,
    expected_at bigint,
    covered_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index topics_status_idx on topics (status, created_at);
create index topics_suggested_by_idx on topics (suggested_by);

-- Every status change: who (staff or member), when, and an optional public note.
create table topic_events (
    id text primary key,
    topic_id text not null references topics (id),
    from_status text,
    to_status text not null,
    staff_id text references staff_users (id),
    member_id text references members (id),
    note text,
    created_at bigint not null
);
create index topic_events_topic_idx on topic_events (topic_id, created_at);

create table topic_articles (
    id text primary key,
    topic_id text not null references topics (id),
    url text not null,
    position bigint not null default 0,
    created_at bigint not null,
    constraint topic_articles_url_key unique (topic_id, url)
);

create table topic_followers (
    topic_id text not null references topics (id),
    member_id text not null references members (id),
    created_at bigint not null,
    primary key (topic_id, member_id)
);
create index topic_followers_member_idx on topic_followers (member_id);

create table rounds (
    id text primary key,
    title text not null,
    description text not null default '',
    opens_at bigint not null,
    closes_at bigint not null,
    max_votes bigint not null default 3 constraint rounds_max_votes_check check (max_votes between 1 and 50),
    -- 1: tallies are public while the round is open
    live_tallies bigint not null default 0,
    created_by text references staff_users (id),
    -- set once, by whichever job instance closed it
    closed_at bigint,
    closed_by text,
    voters bigint,
    created_at bigint not null,
    updated_at bigint not null,
    constraint rounds_window_check check (closes_at > opens_at)
);
create index rounds_closes_at_idx on rounds (closed_at, closes_at);

create table round_topics (
    round_id text not null references rounds (id),
    topic_id text not null references topics (id),
    position bigint not null default 0,
    -- the final ranking, recorded when the round closes
    final_rank bigint,
    final_weight bigint,
    final_votes bigint,
    primary key (round_id, topic_id)
);
create index round_topics_topic_idx on round_topics (topic_id);

-- One row per member and round: how many votes they have used. The conditional
-- increment on this row is what keeps the per-round maximum under concurrency.
create table ballots (
    round_id text not null references rounds (id),
    member_id text not null references members (id),
    used bigint not null default 0 constraint ballots_used_check check (used >= 0),
    primary key (round_id, member_id)
);

create table votes (
    id text primary key,
    round_id text not null references rounds (id),
    topic_id text not null references topics (id),
    member_id text not null references members (id),
    -- recorded at the time of voting
    weight bigint not null constraint votes_weight_check check (weight between 1 and 1000),
    created_at bigint not null,
    constraint votes_member_topic_key unique (round_id, topic_id, member_id)
);
create index votes_member_idx on votes (member_id, round_id);
create index votes_topic_idx on votes (topic_id);
