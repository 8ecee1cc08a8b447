-- Corrections and clarifications readers suggest from an article, and the
-- staff queue that works them.
--   article_url:  the article (http/https, on one of the newsroom's own origins), no fragment
--   quote:        the text the reader selected (≤ 1,000 characters; may be empty)
--   note:         what the reader says is wrong or unclear (required)
--   email:        optional, only to send the one reply when it is resolved
--   locale:       the reader's language, for that reply
--   status:       new → accepted | rejected | fixed (staff may change it again)
--   resolved_at:  the first time it left `new`; the reply goes out then, once
--                 (the outbox's dedupe key `correction-resolved:<id>` makes it once)
-- No IP address is stored: the rate limits keep keyed hashes of it.
create table corrections (
    id text primary key,
    article_url text not null,
    quote text not null,
    note text not null,
    email text,
    locale text not null,
    status text not null default 'new',
    internal_note text not null default '',
    public_reply text not null default '',
    created_at bigint not null,
    updated_at bigint not null,
    resolved_at bigint,
    resolved_by text references staff_users (id) on delete set null,
    constraint corrections_status_check check (status in ('new', 'accepted', 'rejected', 'fixed'))
);
create index corrections_status_created_idx on corrections (status, created_at);
create index corrections_article_created_idx on corrections (article_url, created_at);
