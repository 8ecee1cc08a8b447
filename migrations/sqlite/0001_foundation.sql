-- Foundation: settings, members, staff, sessions, sign-in tokens, rate limits,
-- email outbox, audit log. Times are Unix microseconds (UTC) in INTEGER columns;
-- ids are UUIDv7 text; booleans are avoided (status text or nullable times).

create table settings (
    key text primary key,
    value text not null,
    updated_at integer not null
);

create table members (
    id text primary key,
    -- null once the member deleted their account (the row stays, anonymised)
    email text constraint members_email_key unique,
    name text,
    locale text not null default 'en',
    created_at integer not null,
    last_sign_in_at integer,
    deleted_at integer
);

create table staff_users (
    id text primary key,
    email text not null constraint staff_users_email_key unique,
    -- null until the person sets a password through their one-time link
    password_hash text,
    role text not null constraint staff_users_role_check check (role in ('admin', 'editor', 'analyst')),
    created_at integer not null,
    last_sign_in_at integer,
    disabled_at integer
);

create table sessions (
    -- SHA-256 of the cookie value: a stolen database cannot be replayed as cookies
    id text primary key,
    member_id text references members (id) on delete cascade,
    staff_id text references staff_users (id) on delete cascade,
    created_at integer not null,
    last_seen_at integer not null,
    idle_expires_at integer not null,
    expires_at integer not null,
    user_agent text,
    constraint sessions_owner_check check ((member_id is null) <> (staff_id is null))
);
create index sessions_member_id_idx on sessions (member_id);
create index sessions_staff_id_idx on sessions (staff_id);
create index sessions_expires_at_idx on sessions (expires_at);

create table login_tokens (
    id text primary key,
    token_hash text not null constraint login_tokens_token_hash_key unique,
    purpose text not null constraint login_tokens_purpose_check check (purpose in ('member_sign_in', 'staff_password', 'staff_setup')),
    member_id text references members (id) on delete cascade,
    staff_id text references staff_users (id) on delete cascade,
    created_at integer not null,
    expires_at integer not null,
    used_at integer
);
create index login_tokens_member_id_idx on login_tokens (member_id);
create index login_tokens_staff_id_idx on login_tokens (staff_id);
create index login_tokens_expires_at_idx on login_tokens (expires_at);

create table rate_limits (
    -- keyed hash of e.g. an email address or IP, never the value itself
    bucket text not null,
    window_start integer not null,
    hits integer not null,
    constraint rate_limits_pkey primary key (bucket, window_start)
);
create index rate_limits_window_start_idx on rate_limits (window_start);

create table email_outbox (
    id text primary key,
    to_address text not null,
    template text not null,
    subject text not null,
    body_text text not null,
    body_html text not null,
    -- set when a message must go out at most once per key (e.g. one per member and topic)
    dedupe_key text constraint email_outbox_dedupe_key_key unique,
    created_at integer not null,
    due_at integer not null,
    attempts integer not null default 0,
    locked_until integer,
    locked_by text,
    sent_at integer,
    failed_at integer,
    last_error text
);
create index email_outbox_pending_idx on email_outbox (sent_at, failed_at, due_at);

create table audit_log (
    id text primary key,
    staff_id text references staff_users (id) on delete set null,
    actor_email text,
    action text not null,
    target text,
    detail text,
    ip text,
    created_at integer not null
);
create index audit_log_created_at_idx on audit_log (created_at);
