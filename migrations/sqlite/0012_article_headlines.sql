-- The headline of a published article, shown instead of its address (staff
-- enter it when they mark a topic covered; older articles have none).
alter table topic_articles add column headline text;
