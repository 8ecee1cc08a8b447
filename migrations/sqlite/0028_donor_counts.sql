-- The donations report's donor figures without reading every donor-month of its
-- range (at 100,000 members, hundreds of thousands of rows). Kept by triggers on
-- donor_monthly in the transaction that books a gift, so never stale:
--   donor_month_counts: per month and currency, the members who gave and their gifts;
--   donor_totals: per currency and member, their gifts and the months they gave in;
--   donor_counts: per currency, the members who ever gave, those who gave more
--   than once, and their gifts (the report's "all time").
create table donor_month_counts (
    month text not null,
    currency text not null,
    donors integer not null,
    gifts integer not null,
    constraint donor_month_counts_key primary key (month, currency)
);
create table donor_totals (
    currency text not null,
    donor text not null,
    months integer not null,
    gifts integer not null,
    constraint donor_totals_key primary key (currency, donor)
);
create table donor_counts (
    currency text primary key,
    donors integer not null,
    repeat_donors integer not null,
    gifts integer not null
);

insert into donor_month_counts (month, currency, donors, gifts)
select month, currency, count(*), sum(gifts) from donor_monthly group by month, currency;
insert into donor_totals (currency, donor, months, gifts)
select currency, donor, count(*), sum(gifts) from donor_monthly group by currency, donor;
insert into donor_counts (currency, donors, repeat_donors, gifts)
select currency, count(*), sum(case when gifts > 1 then 1 else 0 end), sum(gifts) from donor_totals group by currency;

create trigger donor_monthly_counts_insert after insert on donor_monthly
begin
    insert into donor_month_counts (month, currency, donors, gifts) values (new.month, new.currency, 1, new.gifts)
    on conflict (month, currency) do update set donors = donors + 1, gifts = gifts + excluded.gifts;
    insert into donor_totals (currency, donor, months, gifts) values (new.currency, new.donor, 1, new.gifts)
    on conflict (currency, donor) do update set months = months + 1, gifts = gifts + excluded.gifts;
end;
create trigger donor_monthly_counts_update after update of gifts on donor_monthly
begin
    update donor_month_counts set gifts = gifts + new.gifts - old.gifts
    where month = new.month and currency = new.currency;
    update donor_totals set gifts = gifts + new.gifts - old.gifts where currency = new.currency and donor = new.donor;
end;
create trigger donor_monthly_counts_delete after delete on donor_monthly
begin
    update donor_month_counts set donors = donors - 1, gifts = gifts - old.gifts
    where month = old.month and currency = old.currency;
    delete from donor_month_counts where month = old.month and currency = old.currency and donors = 0;
    update donor_totals set months = months - 1, gifts = gifts - old.gifts
    where currency = old.currency and donor = old.donor;
    delete from donor_totals where currency = old.currency and donor = old.donor and months = 0;
end;

create trigger donor_totals_counts_insert after insert on donor_totals
begin
    insert into donor_counts (currency, donors, repeat_donors, gifts)
    values (new.currency, 1, case when new.gifts > 1 then 1 else 0 end, new.gifts)
    on conflict (currency) do update set donors = donors + 1, repeat_donors = repeat_donors + excluded.repeat_donors,
        gifts = gifts + excluded.gifts;
end;
create trigger donor_totals_counts_update after update of gifts on donor_totals
begin
    update donor_counts set gifts = gifts + new.gifts - old.gifts,
        repeat_donors = repeat_donors + (case when new.gifts > 1 then 1 else 0 end) - (case when old.gifts > 1 then 1 else 0 end)
    where currency = new.currency;
end;
create trigger donor_totals_counts_delete after delete on donor_totals
begin
    update donor_counts set donors = donors - 1, gifts = gifts - old.gifts,
        repeat_donors = repeat_donors - (case when old.gifts > 1 then 1 else 0 end)
    where currency = old.currency;
    delete from donor_counts where currency = old.currency and donors = 0;
end;
