-- donor_monthly keeps members who gave (for repeat donors); an anonymous gift is
-- a donor of its own and is counted from the ledger's gifts, so it no longer
-- takes a row per gift (at a million gifts, a million rows to group).
delete from donor_monthly where not exists (select 1 from members m where m.id = donor_monthly.donor);
