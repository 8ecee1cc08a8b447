-- A sign-in email carries a 6-digit code beside the link. Both live on the
-- same login_tokens row, so using either one ends both.
--   code_hash:     keyed hash (SECRET_KEY) of the row's token hash and the code;
--                  null on the stand-in rows made for addresses of no member
--   code_attempts: wrong and right tries so far; at 5 the code is dead
--   email_hash:    keyed hash of the address the sign-in was asked for, so a
--                  code is entered with the address and never looked up by it
alter table login_tokens add column code_hash text;
alter table login_tokens add column code_attempts bigint not null default 0;
alter table login_tokens add column email_hash text;
create index login_tokens_email_hash_idx on login_tokens (email_hash);
