-- The dashboard's counts without scanning tables that grow with the newsroom.
--
-- Members per standing bucket: the rank of the subscription their standing comes
-- from (members.sub_rank, kept by the subscriptions triggers of 0009), whether it
-- brings MRR, and whether the account was deleted. Kept by the triggers below in
-- the transaction that changes a member, so the counts are never stale. What
-- depends on the time (a comp's end, the past-due grace) is still read from
-- members, through indexes that only reach the few rows concerned.
create table standing_counts (
    sub_rank integer not null,
    paying integer not null,
    deleted integer not null,
    members integer not null,
    constraint standing_counts_key primary key (sub_rank, paying, deleted)
);
insert into standing_counts (sub_rank, paying, deleted, members)
select r.column1, p.column1, d.column1, 0
from (values (0), (1), (2), (3)) r, (values (0), (1)) p, (values (0), (1)) d;
update standing_counts set members = (
    select count(*) from members m
    where m.sub_rank = standing_counts.sub_rank
        and (case when m.sub_mrr_minor > 0 then 1 else 0 end) = standing_counts.paying
        and (case when m.deleted_at is null then 0 else 1 end) = standing_counts.deleted
);

create trigger members_standing_counts_insert after insert on members
begin
    update standing_counts set members = members + 1
    where sub_rank = new.sub_rank and paying = (case when new.sub_mrr_minor > 0 then 1 else 0 end)
        and deleted = (case when new.deleted_at is null then 0 else 1 end);
end;

create trigger members_standing_counts_delete after delete on members
begin
    update standing_counts set members = members - 1
    where sub_rank = old.sub_rank and paying = (case when old.sub_mrr_minor > 0 then 1 else 0 end)
        and deleted = (case when old.deleted_at is null then 0 else 1 end);
end;

-- Only a change of bucket touches the counts (a sign-in or a renewal does not).
create trigger members_standing_counts_update after update of sub_rank, sub_mrr_minor, deleted_at on members
    when old.sub_rank is not new.sub_rank
        or (old.sub_mrr_minor > 0) is not (new.sub_mrr_minor > 0)
        or (old.deleted_at is null) is not (new.deleted_at is null)
begin
    update standing_counts set members = members - 1
    where sub_rank = old.sub_rank and paying = (case when old.sub_mrr_minor > 0 then 1 else 0 end)
        and deleted = (case when old.deleted_at is null then 0 else 1 end);
    update standing_counts set members = members + 1
    where sub_rank = new.sub_rank and paying = (case when new.sub_mrr_minor > 0 then 1 else 0 end)
        and deleted = (case when new.deleted_at is null then 0 else 1 end);
end;

-- Mail given up on: a few rows of a table that grows with every message.
create index email_outbox_failed_idx on email_outbox (failed_at) where failed_at is not null;
