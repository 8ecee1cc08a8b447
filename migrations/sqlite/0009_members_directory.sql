-- The staff members directory (/admin/members): search, filters, sorts and keyset paging
-- at 100,000 members, member detail, staff notes.
--
-- Search: `search_text` holds the member's email, name and public name folded (NFKD,
-- combining marks removed, lower case; `domain::text::fold`), one per line, email first;
-- `search_email` the folded email alone (what `search_text` starts with when a name
-- changes). Both are written with every write of the email or a name (`db::members`);
-- rows that existed before this migration have NULL and are filled in by `Db::migrate`
-- right after it runs. `sort_name` orders "by name": '0' || folded name, or
-- '1' || folded email when the member gave no name, so members without a name come last.
alter table members add column search_email text;
alter table members add column search_text text;
alter table members add column sort_name text;
create index members_search_missing_idx on members (id) where search_email is null;

-- Where the member stands, from the one subscription `services::billing::standing_from`
-- looks at (lowest rank, newest first): kept by the triggers below on every write of a
-- subscription, whichever code writes it. What depends on the time (the comp, the
-- past-due grace) is decided when reading.
--   sub_rank: 0 active or trialing, 1 past due, 2 ended after a cleared payment, 3 none
alter table members add column sub_rank integer not null default 3;
alter table members add column sub_tier_id text;
alter table members add column sub_interval text;
alter table members add column sub_currency text;
alter table members add column sub_mrr_minor integer not null default 0;
alter table members add column sub_past_due_since integer;
-- when the subscription ended (rank 2): when the member lapsed
alter table members add column sub_ended_at integer;

update members set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
    select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
           case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
    from (
        select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                    when s.first_paid_at is not null then 2 else 3 end as sub_rank,
               s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
               coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
        from subscriptions s where s.member_id = members.id
        union all select 3, null, null, null, 0, null, null, -1, ''
    ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
) where exists (select 1 from subscriptions s where s.member_id = members.id);

create trigger subscriptions_standing_insert after insert on subscriptions when new.member_id is not null
begin
    update members set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
        select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
               case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
        from (
            select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                        when s.first_paid_at is not null then 2 else 3 end as sub_rank,
                   s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
                   coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
            from subscriptions s where s.member_id = new.member_id
            union all select 3, null, null, null, 0, null, null, -1, ''
        ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
    ) where id = new.member_id;
end;

create trigger subscriptions_standing_update after update on subscriptions
begin
    update members set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
        select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
               case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
        from (
            select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                        when s.first_paid_at is not null then 2 else 3 end as sub_rank,
                   s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
                   coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
            from subscriptions s where s.member_id = members.id
            union all select 3, null, null, null, 0, null, null, -1, ''
        ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
    ) where id in (old.member_id, new.member_id);
end;

create trigger subscriptions_standing_delete after delete on subscriptions when old.member_id is not null
begin
    update members set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
        select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
               case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
        from (
            select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                        when s.first_paid_at is not null then 2 else 3 end as sub_rank,
                   s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
                   coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
            from subscriptions s where s.member_id = old.member_id
            union all select 3, null, null, null, 0, null, null, -1, ''
        ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
    ) where id = old.member_id;
end;

-- One index per sort (both directions walk it), ending in the id for keyset paging, and
-- carrying every column the list filters on (the search text, the standing, the dates).
-- A page walks the index in the order asked for and tests each entry there, reading a
-- member's row only when it matches: a filter or search that matches many stops after
-- a page, one that matches few costs one pass over one index, never a row read per
-- member. (SQLite keeps no statistics here to choose between plans; this leaves it
-- nothing to choose.) `search_text` itself orders by email: it starts with the email,
-- and emails are unique.
create index members_created_idx on members (created_at, id, deleted_at, search_text, sub_rank, comped_until,
    sub_past_due_since, sub_ended_at, sub_tier_id, sub_interval, sub_currency);
create index members_sort_name_idx on members (sort_name, id, deleted_at, search_text, sub_rank, comped_until,
    sub_past_due_since, sub_ended_at, sub_tier_id, sub_interval, sub_currency, created_at);
create index members_search_text_idx on members (search_text, id, deleted_at, sub_rank, comped_until,
    sub_past_due_since, sub_ended_at, sub_tier_id, sub_interval, sub_currency, created_at);
create index members_mrr_idx on members (sub_mrr_minor, id, deleted_at, search_text, sub_rank, comped_until,
    sub_past_due_since, sub_ended_at, sub_tier_id, sub_interval, sub_currency, created_at);

-- Search for a rare word: a trigram index (FTS5, external content: the rows are the
-- members') finds the few members whose search text contains it without a pass over
-- an index of every member; `db::member_directory` asks it first and walks the sort's
-- index instead when a word is common (or shorter than three characters). Kept by
-- triggers with every write of `search_text`.
create virtual table members_search using fts5(search_text, content = 'members', content_rowid = 'rowid',
    tokenize = 'trigram');
create trigger members_search_insert after insert on members
begin
    insert into members_search (rowid, search_text) values (new.rowid, new.search_text);
end;
create trigger members_search_delete after delete on members
begin
    insert into members_search (members_search, rowid, search_text) values ('delete', old.rowid, old.search_text);
end;
create trigger members_search_update after update of search_text on members
begin
    insert into members_search (members_search, rowid, search_text) values ('delete', old.rowid, old.search_text);
    insert into members_search (rowid, search_text) values (new.rowid, new.search_text);
end;

-- The rare statuses are read from their own (small) indexes.
create index members_comped_idx on members (comped_until) where comped_until is not null;
create index members_past_due_idx on members (sub_past_due_since) where sub_rank = 1;

-- The member page lists the mail sent to the member.
create index email_outbox_to_address_idx on email_outbox (to_address, created_at);
-- and the audit entries about them (comps, notes, ended sessions).
create index audit_log_target_idx on audit_log (target, created_at);

create table member_notes (
    id text primary key,
    member_id text not null references members (id),
    body text not null,
    created_by text references staff_users (id) on delete set null,
    created_by_email text,
    created_at integer not null,
    updated_by_email text,
    updated_at integer
);
create index member_notes_member_idx on member_notes (member_id, created_at);
