-- A batch of votes reads what its members have voted for in a round
-- (member_id in (...) and round_id = ?). With the topic in the index the lookup
-- never touches the table, and SQLite no longer prefers scanning the whole
-- round through the (round_id, topic_id, member_id) key instead.
drop index votes_member_idx;
create index votes_member_idx on votes (member_id, round_id, topic_id);
