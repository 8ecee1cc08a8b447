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
-- The three use the "C" collation: byte order, as on SQLite, and what LIKE and the
-- keyset compare.
alter table members add column search_email text collate "C";
alter table members add column search_text text collate "C";
alter table members add column sort_name text collate "C";
create index members_search_missing_idx on members (id) where search_email is null;

-- Where the member stands, from the one subscription `services::billing::standing_from`
-- looks at (lowest rank, newest first): kept by the trigger below on every write of a
-- subscription, whichever code writes it. What depends on the time (the comp, the
-- past-due grace) is decided when reading.
--   sub_rank: 0 active or trialing, 1 past due, 2 ended after a cleared payment, 3 none
alter table members add column sub_rank bigint not null default 3;
alter table members add column sub_tier_id text;
alter table members add column sub_interval text;
alter table members add column sub_currency text;
alter table members add column sub_mrr_minor bigint not null default 0;
alter table members add column sub_past_due_since bigint;
-- when the subscription ended (rank 2): when the member lapsed
alter table members add column sub_ended_at bigint;

create function members_refresh_standing(p_member text) returns void language plpgsql as $$
begin
    -- Lock the member first: the update below then reads the subscriptions as
    -- committed once the lock is ours (another transaction may have written one).
    perform 1 from members where id = p_member for update;
    update members set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
        select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
               case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
        from (
            select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                        when s.first_paid_at is not null then 2 else 3 end as sub_rank,
                   s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
                   coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
            from subscriptions s where s.member_id = p_member
            union all select 3, null, null, null, 0, null, null, -1, ''
        ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
    ) where id = p_member;
end $$;

create function subscriptions_standing() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        if old.member_id is not null then
            perform members_refresh_standing(old.member_id);
        end if;
    end if;
    if tg_op <> 'DELETE' then
        if new.member_id is not null then
            if tg_op = 'INSERT' then
                perform members_refresh_standing(new.member_id);
            elsif new.member_id is distinct from old.member_id then
                perform members_refresh_standing(new.member_id);
            end if;
        end if;
    end if;
    return null;
end $$;

create trigger subscriptions_standing after insert or update or delete on subscriptions
    for each row execute function subscriptions_standing();

update members m set (sub_rank, sub_tier_id, sub_interval, sub_currency, sub_mrr_minor, sub_past_due_since, sub_ended_at) = (
    select b.sub_rank, case when b.sub_rank < 3 then b.tier_id end, case when b.sub_rank < 3 then b.interval end,
           case when b.sub_rank < 3 then b.currency end, b.mrr_minor, b.past_due_since, b.ended
    from (
        select case when s.status in ('active', 'trialing') then 0 when s.status = 'past_due' then 1
                    when s.first_paid_at is not null then 2 else 3 end as sub_rank,
               s.tier_id, s.interval, s.currency, s.mrr_minor, s.past_due_since,
               coalesce(s.ended_at, s.canceled_at, s.updated_at) as ended, s.created_at, s.id
        from subscriptions s where s.member_id = m.id
        union all select 3, null, null, null, 0, null, null, -1, ''
    ) b order by b.sub_rank, b.created_at desc, b.id desc limit 1
) where exists (select 1 from subscriptions s where s.member_id = m.id);

-- One index per sort (both directions walk it), ending in the id for keyset paging;
-- an index for each kind of filter, so that with its statistics PostgreSQL reads a rare
-- set (the comped, one tier's yearly dollar patrons) from its index and sorts it, and
-- walks the sort's index when matches are many. `search_text` itself orders by email:
-- it starts with the email, and emails are unique.
create index members_created_idx on members (created_at, id);
create index members_sort_name_idx on members (sort_name, id);
create index members_search_text_idx on members (search_text, id);
create index members_mrr_idx on members (sub_mrr_minor, id);
create index members_rank_created_idx on members (sub_rank, created_at, id);
create index members_comped_idx on members (comped_until) where comped_until is not null;
create index members_past_due_idx on members (sub_past_due_since) where sub_rank = 1;
create index members_plan_idx on members (sub_tier_id, sub_interval, sub_currency);

-- Search on PostgreSQL: a trigram index answers `search_text like '%…%'` for words of three
-- characters or more without a pass over the table. pg_trgm ships with PostgreSQL (contrib)
-- and is a trusted extension (the database's owner may create it); where it cannot be
-- created, the search still works, by the pass over the sort's index described above.
do $$
begin
    create extension if not exists pg_trgm;
    execute 'create index members_search_trgm_idx on members using gin (search_text gin_trgm_ops)';
exception when others then
    raise notice 'pg_trgm is not available (%): member search reads the sort''s index instead', sqlerrm;
end $$;

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
    created_at bigint not null,
    updated_by_email text,
    updated_at bigint
);
create index member_notes_member_idx on member_notes (member_id, created_at);
