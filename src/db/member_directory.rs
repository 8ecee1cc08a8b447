//! Reads for the staff members directory (`/admin/members`): the filtered,
//! sorted list a page (keyset) at a time, and what the member page shows from
//! other tables (ledger, MRR movements, mail, audit entries). Migration 0009
//! describes the columns and indexes these queries rely on.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{
    Currency, Interval, MemberId, MemberSort, MemberStatus, MrrMovementKind, SortDirection, SortValue, StoredStanding,
    TierId,
};

/// Which members, in which order, from where: the filter already resolved to
/// what is stored (folded words, tier id, times).
#[derive(Clone, Debug)]
pub struct DirectoryQuery {
    /// Folded words; each must occur in the email or a name, literally.
    pub words: Vec<String>,
    pub status: Option<MemberStatus>,
    pub tier_id: Option<TierId>,
    pub interval: Option<Interval>,
    pub currency: Option<Currency>,
    /// `[from, before)` in UTC microseconds.
    pub joined: (Option<Micros>, Option<Micros>),
    pub lapsed: (Option<Micros>, Option<Micros>),
    pub sort: MemberSort,
    pub direction: SortDirection,
    /// Rows strictly after this one in the order (or, with `backwards`, before it).
    pub after: Option<(SortValue, MemberId)>,
    /// Read the rows before `after` instead (a "previous" page); they come back in
    /// the reverse order.
    pub backwards: bool,
    pub limit: Option<i64>,
    pub now: Micros,
    /// How long a past-due patron keeps access (`PAST_DUE_GRACE_DAYS`).
    pub grace: Micros,
}

pub use crate::domain::member_directory::DirectoryRow;

#[derive(FromRow)]
struct Row {
    id: String,
    email: Option<String>,
    name: Option<String>,
    public_name: Option<String>,
    created_at: i64,
    last_sign_in_at: Option<i64>,
    comped_until: Option<i64>,
    sub_rank: i64,
    sub_interval: Option<String>,
    sub_currency: Option<String>,
    sub_mrr_minor: i64,
    sub_past_due_since: Option<i64>,
    sub_ended_at: Option<i64>,
    sort_name: Option<String>,
    search_text: Option<String>,
    tier_name: Option<String>,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Escapes `\`, `%` and `_` for `LIKE … escape '\'`, so they match themselves.
pub fn like_literal(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('%');
    for c in word.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

struct Sql {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    /// The placeholder of a new bound value.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

fn sort_column(sort: MemberSort) -> &'static str {
    match sort {
        MemberSort::Joined => "m.created_at",
        MemberSort::Name => "m.sort_name",
        // Starts with the folded email (unique): orders as the email does.
        MemberSort::Email => "m.search_text",
        MemberSort::Mrr => "m.sub_mrr_minor",
    }
}

/// The WHERE conditions for `q`'s status (time-dependent: the comp and the grace).
fn status_condition(sql: &mut Sql, status: MemberStatus, now: Micros, grace: Micros) -> String {
    let not_comped =
        |sql: &mut Sql| format!("(m.comped_until is null or m.comped_until <= {})", sql.bind(Bind::Int(now)));
    match status {
        // Few members are comped or past due: their own small indexes find them.
        MemberStatus::Comped => {
            format!("m.id in (select c.id from members c where c.comped_until > {})", sql.bind(Bind::Int(now)))
        }
        MemberStatus::Patron => format!("m.sub_rank = 0 and {}", not_comped(sql)),
        MemberStatus::PastDue => {
            let cut = sql.bind(Bind::Int(now - grace));
            format!(
                "m.id in (select p.id from members p where p.sub_rank = 1 and p.sub_past_due_since > {cut}) and {}",
                not_comped(sql)
            )
        }
        MemberStatus::Lapsed => {
            let cut = sql.bind(Bind::Int(now - grace));
            format!(
                "m.sub_rank in (1, 2) and (m.sub_rank = 2 or m.sub_past_due_since is null or m.sub_past_due_since <= {cut}) and {}",
                not_comped(sql)
            )
        }
        MemberStatus::Free => format!("m.sub_rank = 3 and {}", not_comped(sql)),
    }
}

/// An FTS5 query (SQLite's trigram index, migration 0009) for the words of three
/// characters or more, each a phrase (quotes doubled): rows containing every one.
fn trigram_query(words: &[String]) -> Option<String> {
    let phrases: Vec<String> =
        words.iter().filter(|w| w.chars().count() >= 3).map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
    (!phrases.is_empty()).then(|| phrases.join(" "))
}

/// Words matched by at most this many members are rare: the matches are read
/// through the trigram index and sorted, instead of walking the sort's index to
/// find them (which, for matches bunched at the far end of the order, is a walk
/// over nearly every member). SQLite asks its FTS5 index; PostgreSQL, whose
/// trigram index serves LIKE itself, counts with the search's own conditions.
const RARE_SQLITE: i64 = 2000;
const RARE_POSTGRES: i64 = 10_000;

/// How a search reads its matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Matches<'a> {
    /// Walk the sort's index (no words, or common ones).
    Walk,
    /// Few: read them (on SQLite through this FTS5 query) and sort them.
    Rare(Option<&'a str>),
}

fn build(q: &DirectoryQuery, matches: Matches<'_>) -> (String, Vec<Bind>) {
    let mut sql = Sql { conditions: vec!["m.deleted_at is null".into()], binds: Vec::new() };
    if let Matches::Rare(Some(query)) = matches {
        let p = sql.bind(Bind::Text(query.to_string()));
        sql.conditions.push(format!("m.rowid in (select rowid from members_search where members_search match {p})"));
    }
    for word in &q.words {
        let p = sql.bind(Bind::Text(like_literal(word)));
        sql.conditions.push(format!(r"m.search_text like {p} escape '\'"));
    }
    if let Some(status) = q.status {
        let c = status_condition(&mut sql, status, q.now, q.grace);
        sql.conditions.push(c);
    }
    if let Some(tier) = q.tier_id {
        let p = sql.bind(Bind::Text(tier.to_string()));
        sql.conditions.push(format!("m.sub_tier_id = {p}"));
    }
    if let Some(interval) = q.interval {
        let p = sql.bind(Bind::Text(interval.as_str().into()));
        sql.conditions.push(format!("m.sub_interval = {p}"));
    }
    if let Some(currency) = q.currency {
        let p = sql.bind(Bind::Text(currency.as_str().into()));
        sql.conditions.push(format!("m.sub_currency = {p}"));
    }
    if let Some(from) = q.joined.0 {
        let p = sql.bind(Bind::Int(from));
        sql.conditions.push(format!("m.created_at >= {p}"));
    }
    if let Some(before) = q.joined.1 {
        let p = sql.bind(Bind::Int(before));
        sql.conditions.push(format!("m.created_at < {p}"));
    }
    if q.lapsed.0.is_some() || q.lapsed.1.is_some() {
        let c = status_condition(&mut sql, MemberStatus::Lapsed, q.now, q.grace);
        sql.conditions.push(c);
        let lapsed_at = |sql: &mut Sql| {
            format!(
                "(case when m.sub_rank = 1 then m.sub_past_due_since + {} else m.sub_ended_at end)",
                sql.bind(Bind::Int(q.grace))
            )
        };
        if let Some(from) = q.lapsed.0 {
            let e = lapsed_at(&mut sql);
            let p = sql.bind(Bind::Int(from));
            sql.conditions.push(format!("{e} >= {p}"));
        }
        if let Some(before) = q.lapsed.1 {
            let e = lapsed_at(&mut sql);
            let p = sql.bind(Bind::Int(before));
            sql.conditions.push(format!("{e} < {p}"));
        }
    }
    let column = sort_column(q.sort);
    // Reading backwards walks the order the other way.
    let ascending = (q.direction == SortDirection::Asc) != q.backwards;
    if let Some((value, id)) = &q.after {
        let v = sql.bind(match value {
            SortValue::Int(n) => Bind::Int(*n),
            SortValue::Text(t) => Bind::Text(t.clone()),
        });
        let i = sql.bind(Bind::Text(id.to_string()));
        let op = if ascending { ">" } else { "<" };
        // A row value: both backends walk the sort's index from this point.
        sql.conditions.push(format!("({column}, m.id) {op} ({v}, {i})"));
    }
    let dir = if ascending { "asc" } else { "desc" };
    // Ordering by an expression keeps the planner from walking the sort's index.
    let (column, id) = match matches {
        Matches::Walk => (column.to_string(), "m.id"),
        Matches::Rare(_) if q.sort.is_numeric() => (format!("{column} + 0"), "m.id || ''"),
        Matches::Rare(_) => (format!("{column} || ''"), "m.id || ''"),
    };
    let mut text = format!(
        "select m.id, m.email, m.name, m.public_name, m.created_at, m.last_sign_in_at, m.comped_until,
                m.sub_rank, m.sub_interval, m.sub_currency, m.sub_mrr_minor, m.sub_past_due_since, m.sub_ended_at,
                m.sort_name, m.search_text, t.name as tier_name
         from members m left join tiers t on t.id = m.sub_tier_id
         where {}
         order by {column} {dir}, {id} {dir}",
        sql.conditions.join(" and ")
    );
    if let Some(limit) = q.limit {
        let p = sql.bind(Bind::Int(limit));
        text.push_str(&format!(" limit {p}"));
    }
    (text, sql.binds)
}

/// The members `q` asks for, in its order (reversed when reading backwards).
pub async fn list(db: &super::Db, q: &DirectoryQuery) -> Result<Vec<DirectoryRow>, DbError> {
    let mut matches = Matches::Walk;
    let fts = trigram_query(&q.words);
    if let Some(query) = &fts {
        matches = match db.backend() {
            super::Backend::Sqlite => {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from (select rowid from members_search where members_search match $1 limit $2)",
                )
                .bind(query)
                .bind(RARE_SQLITE + 1)
                .fetch_one(db.read())
                .await?;
                if n <= RARE_SQLITE { Matches::Rare(Some(query.as_str())) } else { Matches::Walk }
            }
            super::Backend::Postgres => {
                let likes: Vec<String> =
                    (1..=q.words.len()).map(|n| format!(r"search_text like ${n} escape '\'")).collect();
                let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
                    "select count(*) from (select 1 from members where {} limit {}) found",
                    likes.join(" and "),
                    RARE_POSTGRES + 1
                )))
                .persistent(false);
                for word in &q.words {
                    count = count.bind(like_literal(word));
                }
                let (n,) = count.fetch_one(db.read()).await?;
                if n <= RARE_POSTGRES { Matches::Rare(None) } else { Matches::Walk }
            }
        };
    }
    let (text, binds) = build(q, matches);
    // Not kept prepared: PostgreSQL then plans each search with its words (a generic
    // plan cannot tell a rare word, which the trigram index finds, from a common one,
    // which walking the sort's index finds sooner), and the many shapes of this
    // query would only crowd the statement cache.
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(text)).persistent(false);
    for b in binds {
        query = match b {
            Bind::Int(n) => query.bind(n),
            Bind::Text(t) => query.bind(t),
        };
    }
    let rows = query.fetch_all(db.read()).await?;
    rows.into_iter()
        .map(|r| {
            let sort_value = match q.sort {
                MemberSort::Joined => SortValue::Int(r.created_at),
                MemberSort::Mrr => SortValue::Int(r.sub_mrr_minor),
                MemberSort::Name => SortValue::Text(r.sort_name.clone().unwrap_or_default()),
                MemberSort::Email => SortValue::Text(r.search_text.clone().unwrap_or_default()),
            };
            Ok(DirectoryRow {
                id: parse_stored("member id", &r.id)?,
                email: r.email,
                name: r.name,
                public_name: r.public_name,
                created_at: r.created_at,
                last_sign_in_at: r.last_sign_in_at,
                standing: StoredStanding {
                    rank: r.sub_rank,
                    comped_until: r.comped_until,
                    past_due_since: r.sub_past_due_since,
                    ended_at: r.sub_ended_at,
                },
                tier_name: r.tier_name,
                interval: r.sub_interval.as_deref().map(|i| parse_stored("interval", i)).transpose()?,
                currency: r.sub_currency.as_deref().map(|c| parse_stored("currency", c)).transpose()?,
                mrr_minor: r.sub_mrr_minor,
                sort_value,
            })
        })
        .collect()
}

/// The currencies members' subscriptions are in (for the currency filter).
pub async fn currencies<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Currency>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select distinct currency from tier_prices order by currency").fetch_all(ex).await?;
    rows.iter().map(|(c,)| parse_stored("currency", c)).collect()
}

/// A member's MRR movement, for their status history.
#[derive(Clone, Debug)]
pub struct MemberMovement {
    pub kind: MrrMovementKind,
    pub delta_minor: i64,
    pub mrr_after_minor: i64,
    pub currency: Currency,
    pub occurred_at: Micros,
}

pub async fn mrr_movements_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<MemberMovement>, DbError> {
    let rows: Vec<(String, i64, i64, String, i64)> = sqlx::query_as(
        "select kind, delta_minor, mrr_after_minor, currency, occurred_at from mrr_movements
         where member_id = $1 order by occurred_at, id",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(kind, delta_minor, mrr_after_minor, currency, occurred_at)| {
            let kind = match kind.as_str() {
                "new" => MrrMovementKind::New,
                "expansion" => MrrMovementKind::Expansion,
                "contraction" => MrrMovementKind::Contraction,
                "churn" => MrrMovementKind::Churn,
                "reactivation" => MrrMovementKind::Reactivation,
                other => return Err(DbError::other(format!("stored MRR movement kind {other:?} cannot be read"))),
            };
            Ok(MemberMovement {
                kind,
                delta_minor,
                mrr_after_minor,
                currency: parse_stored("currency", &currency)?,
                occurred_at,
            })
        })
        .collect()
}

/// Every ledger row of a member, oldest first, as staff see them.
pub async fn ledger_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<super::payments::LedgerRow>, DbError> {
    let rows: Vec<LedgerRecord> = sqlx::query_as(
        "select kind, provider_id, gross_minor, currency, settlement_gross_minor, fee_minor, net_minor,
             settlement_currency, description, occurred_at
         from payments where member_id = $1 order by occurred_at, id",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(super::payments::LedgerRow {
                kind: parse_stored("payment kind", &r.kind)?,
                provider_id: r.provider_id,
                member_id: Some(member),
                gross_minor: r.gross_minor,
                currency: parse_stored("currency", &r.currency)?,
                settled: crate::domain::Settled {
                    gross_minor: r.settlement_gross_minor,
                    fee_minor: r.fee_minor,
                    net_minor: r.net_minor,
                    currency: parse_stored("currency", &r.settlement_currency)?,
                },
                description: r.description,
                occurred_at: r.occurred_at,
            })
        })
        .collect()
}

#[derive(FromRow)]
struct LedgerRecord {
    kind: String,
    provider_id: String,
    gross_minor: i64,
    currency: String,
    settlement_gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
    settlement_currency: String,
    description: Option<String>,
    occurred_at: i64,
}

/// A message to the member, as the outbox keeps it (bodies are blanked once sent).
#[derive(Clone, Debug, FromRow)]
pub struct SentMail {
    pub template: String,
    pub subject: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn mail_to<'e, E: Executor<'e, Database = Any>>(ex: E, address: &str) -> Result<Vec<SentMail>, DbError> {
    Ok(sqlx::query_as(
        "select template, subject, created_at, sent_at, failed_at, attempts, last_error from email_outbox
         where to_address = $1 order by created_at desc limit 500",
    )
    .bind(address)
    .fetch_all(ex)
    .await?)
}

/// Audit entries about a member (comps, notes, sessions ended by staff), oldest first.
pub async fn audit_about<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<super::audit::AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "select id, actor_email, action, target, detail, ip, created_at from audit_log
         where target = $1 order by created_at, id",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigram_queries_quote_each_long_word() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(trigram_query(&words(&["ab", "o\"brien", "100%"])).as_deref(), Some("\"o\"\"brien\" \"100%\""));
        assert_eq!(trigram_query(&words(&["ab", "c"])), None);
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_literal("50%"), r"%50\%%");
        assert_eq!(like_literal("a_b"), r"%a\_b%");
        assert_eq!(like_literal(r"c:\x"), r"%c:\\x%");
        assert_eq!(like_literal("o'brien"), "%o'brien%");
    }
}
