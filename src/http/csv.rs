//! CSV for staff exports, safe to open in a spreadsheet: every cell is quoted,
//! and text that a spreadsheet would run as a formula is prefixed with `'`.
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One cell: quoted, inner quotes doubled, formula triggers neutralised. A plain
/// number (`-12.50`) is left as it is: it cannot be a formula, and a prefix
/// would turn a refund's amount into text.
pub fn cell(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('-') if is_plain_number(value) => value.to_string(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|') => format!("'{value}"),
        _ => value.to_string(),
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// `-12`, `-12.50`: an optional minus, digits, and at most one point followed by digits.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !frac.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Rows of cells, CRLF line ends (RFC 4180).
pub fn to_csv<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| cell(h)).collect();
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.as_ref().iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A download response; `filename` must be plain ASCII without quotes.
pub fn attachment(body: String, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_doubled() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-2+3"), "\"'-2+3\"");
        assert_eq!(cell("-A1"), "\"'-A1\"");
        assert_eq!(cell("-1.5e3"), "\"'-1.5e3\"");
        assert_eq!(cell("-"), "\"'-\"");
        assert_eq!(cell("-2."), "\"'-2.\"");
        // Amounts stay numbers.
        assert_eq!(cell("-2"), "\"-2\"");
        assert_eq!(cell("-12.50"), "\"-12.50\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("Olena"), "\"Olena\"");
        assert_eq!(cell("a,b\nc"), "\"a,b\nc\"");
    }

    #[test]
    fn rows_end_in_crlf() {
        let rows = vec![vec!["1".to_string(), "<b>x</b>".to_string()]];
        assert_eq!(to_csv(&["n", "t"], &rows), "\"n\",\"t\"\r\n\"1\",\"<b>x</b>\"\r\n");
    }
}
