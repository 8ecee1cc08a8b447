//! Transitional. `http/topics.rs` and `http/admin/topics.rs` still call `db`
//! directly and use `?` on its errors; they are being moved behind services on
//! another branch. Once they are, delete this file and its `mod` line: every
//! other handler gets storage failures as `services::StorageError`.
use super::error::AppError;
use crate::db::DbError;
use crate::services::StorageError;

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        StorageError::from(e).into()
    }
}
