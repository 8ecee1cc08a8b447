-- The dashboard's counts without scanning tables that grow with the newsroom.
--
-- Members per standing bucket: the rank of the subscription their standing comes
-- from (members.sub_rank, kept by the subscriptions trigger of 0009), whether it
-- brings MRR, and whether the account was deleted. Kept by the trigger below in
-- the transaction that changes a member, so the counts are never stale. What
-- depends on the time (a comp's end, the past-due grace) is still read from
-- members, through indexes that only reach the few rows concerned.
create table standing_counts (
    sub_rank bigint not null,
    paying bigint not null,
    deleted bigint not null,
    members bigint not null,
    constraint standing_counts_key primary key (sub_rank, paying, deleted)
);
insert into standing_counts (sub_rank, paying, deleted, members)
select r.sub_rank, p.paying, d.deleted, 0
from (values (0), (1), (2), (3)) r (sub_rank), (values (0), (1)) p (paying), (values (0), (1)) d (deleted);
update standing_counts set members = c.n from (
    select sub_rank, case when sub_mrr_minor > 0 then 1 else 0 end as paying,
           case when deleted_at is null then 0 else 1 end as deleted, count(*) as n
    from members group by 1, 2, 3
) c where standing_counts.sub_rank = c.sub_rank and standing_counts.paying = c.paying
    and standing_counts.deleted = c.deleted;

create function members_standing_counts() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        update standing_counts set members = members - 1
        where sub_rank = old.sub_rank and paying = case when old.sub_mrr_minor > 0 then 1 else 0 end
            and deleted = case when old.deleted_at is null then 0 else 1 end;
    end if;
    if tg_op <> 'DELETE' then
        update standing_counts set members = members + 1
        where sub_rank = new.sub_rank and paying = case when new.sub_mrr_minor > 0 then 1 else 0 end
            and deleted = case when new.deleted_at is null then 0 else 1 end;
    end if;
    return null;
end $$;

create trigger members_standing_counts_write after insert or delete on members
    for each row execute function members_standing_counts();
-- Only a change of bucket touches the counts (a sign-in or a renewal does not).
create trigger members_standing_counts_update after update of sub_rank, sub_mrr_minor, deleted_at on members
    for each row when (old.sub_rank is distinct from new.sub_rank
        or (old.sub_mrr_minor > 0) is distinct from (new.sub_mrr_minor > 0)
        or (old.deleted_at is null) is distinct from (new.deleted_at is null))
    execute function members_standing_counts();

-- Mail given up on: a few rows of a table that grows with every message.
create index email_outbox_failed_idx on email_outbox (failed_at) where failed_at is not null;
