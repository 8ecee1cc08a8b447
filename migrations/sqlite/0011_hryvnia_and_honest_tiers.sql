-- Hryvnia prices for the default tiers (a Ukrainian newsroom's readers at home pay
-- in UAH), and default tier texts that promise only what the settings give: the
-- voting benefits are now written from the voting rules on every page, and there
-- is no newsletter. Texts a newsroom has edited are left alone.
insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at)
select v.id, v.tier_id, v.interval, 'uah', v.amount_minor, v.flexible, 0
from (
    select '00000000-0000-7000-9000-000000000013' as id, '00000000-0000-7000-8000-000000000001' as tier_id, 'month' as interval, 10000 as amount_minor, 1 as flexible
    union all select '00000000-0000-7000-9000-000000000014', '00000000-0000-7000-8000-000000000001', 'year', 100000, 0
    union all select '00000000-0000-7000-9000-000000000015', '00000000-0000-7000-8000-000000000002', 'month', 20000, 0
    union all select '00000000-0000-7000-9000-000000000016', '00000000-0000-7000-8000-000000000002', 'year', 200000, 0
    union all select '00000000-0000-7000-9000-000000000017', '00000000-0000-7000-8000-000000000003', 'month', 40000, 0
    union all select '00000000-0000-7000-9000-000000000018', '00000000-0000-7000-8000-000000000003', 'year', 400000, 0
) v
where exists (select 1 from tiers t where t.id = v.tier_id)
  and not exists (select 1 from tier_prices p where p.tier_id = v.tier_id and p.currency = 'uah');

update tiers set benefits = '' where id = '00000000-0000-7000-8000-000000000001' and benefits = 'One vote on every ballot
Our thanks in every newsletter';
update tiers set benefits = '' where id = '00000000-0000-7000-8000-000000000002' and benefits = 'Double vote weight
Suggest topics for the ballot';
update tiers set description = 'Two cups a month: more reporting, free for everyone.'
where id = '00000000-0000-7000-8000-000000000002' and description = 'Two cups a month, and your vote counts twice.';
update tiers set benefits = 'An annual call with the editors' where id = '00000000-0000-7000-8000-000000000003' and benefits = 'Triple vote weight
Suggest topics for the ballot
An annual call with the editors';
