-- Reader-facing content in more than one language. The existing columns
-- (tiers.name, topics.title, rounds.title, …) stay in the newsroom's default
-- language (NEWSROOM_LANGUAGE); this table holds the other languages, one row
-- per (kind, item, locale, field). Texts that have no column of their own (the
-- newsroom's pitch: kind 'newsroom', item 'pitch') keep every language here.
create table translations (
    kind text not null,
    item_id text not null,
    locale text not null,
    field text not null,
    body text not null,
    updated_at bigint not null,
    constraint translations_pkey primary key (kind, item_id, locale, field)
);
create index translations_by_locale on translations (locale, kind);
