/// Errors of the query layer. Mapped from `sqlx::Error` here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or check constraint refused the write; `constraint` is its name
    /// (PostgreSQL's, or derived as `<table>_<column>_key` from SQLite's message).
    #[error("constraint {constraint} refused the change")]
    Conflict { constraint: String },
    #[error(transparent)]
    Other(anyhow::Error),
}

impl DbError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(anyhow::anyhow!(message.into()))
    }

    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, Self::Conflict { constraint } if constraint == name)
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() || db.is_check_violation() => {
                let constraint = db
                    .constraint()
                    .map(str::to_string)
                    .or_else(|| sqlite_constraint(db.message()))
                    .unwrap_or_else(|| "unknown".into());
                Self::Conflict { constraint }
            }
            other => Self::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Other(anyhow::Error::new(e))
    }
}

/// "UNIQUE constraint failed: members.email" → "members_email_key";
/// "CHECK constraint failed: staff_users_role_check" → that name.
fn sqlite_constraint(message: &str) -> Option<String> {
    if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
        let table = cols.split('.').next()?;
        let columns: Vec<&str> = cols.split(", ").filter_map(|c| c.split('.').nth(1)).collect();
        return Some(format!("{table}_{}_key", columns.join("_")));
    }
    message.strip_prefix("CHECK constraint failed: ").map(|n| n.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_postgres_style_names() {
        assert_eq!(sqlite_constraint("UNIQUE constraint failed: members.email").as_deref(), Some("members_email_key"));
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: votes.member_id, votes.topic_id").as_deref(),
            Some("votes_member_id_topic_id_key")
        );
        assert_eq!(
            sqlite_constraint("CHECK constraint failed: staff_users_role_check").as_deref(),
            Some("staff_users_role_check")
        );
    }
}
