-- Customers Stripe deleted: never linked to a member again. Counting a
-- member's deleted customers keys the creation of the next one.
create table stripe_deleted_customers (
    customer_id text primary key,
    member_id text references members (id),
    deleted_at integer not null
);
create index stripe_deleted_customers_member_idx on stripe_deleted_customers (member_id);
