//! Pieces of SQL text both backends build queries from. Queries use `$N` placeholders, which both
//! PostgreSQL and sqlx's SQLite driver accept.

/// `$start, $start+1, ...` for `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cols` (`"id, name"`) qualified with `table` (`t.id, t.name`), and each also renamed
/// `{table}_{col}` when `alias` (`t.id AS t_id, ...`: for a join whose tables share column names).
pub(crate) fn qualified(cols: &str, table: &str, alias: bool) -> String {
    cols.split(", ")
        .map(|c| {
            if alias {
                format!("{table}.{c} AS {table}_{c}")
            } else {
                format!("{table}.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, ..., $cols), ($cols+1, ...)`: `rows` rows of `cols` placeholders, for a multi-row INSERT.
pub(crate) fn value_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(1 + r * cols, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a LIKE pattern (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
