//! Binding values to queries, reading rows, and pages of a listing: the helpers every aggregate's
//! SQL uses.
use super::Db;
use crate::error::{db_err, Result, StoreError};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::Row;
use switchyard_domain::page::{Page, PageRequest};

pub(super) type DbRow = <Db as sqlx::Database>::Row;

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

/// A value bound to a dynamically built query.
#[derive(Clone)]
pub(super) enum Arg {
    S(String),
    B(bool),
}

pub(super) fn bind_all<'q>(mut q: Query<'q>, args: &[Arg]) -> Query<'q> {
    for a in args {
        q = match a {
            Arg::S(s) => q.bind(s.clone()),
            Arg::B(b) => q.bind(*b),
        };
    }
    q
}

pub(super) fn get<'r, T: sqlx::Decode<'r, Db> + sqlx::Type<Db>>(
    row: &'r DbRow,
    col: &str,
) -> Result<T> {
    row.try_get(col).map_err(db_err)
}

pub(super) fn json<T: serde::de::DeserializeOwned>(row: &DbRow, col: &str) -> Result<T> {
    let Json(v): Json<Value> = get(row, col)?;
    serde_json::from_value(v)
        .map_err(|e| StoreError::unreadable(format!("stored {col} is unreadable: {e}")))
}

pub(super) fn j<T: serde::Serialize>(v: &T) -> Json<Value> {
    Json(serde_json::to_value(v).expect("domain values serialise"))
}

/// What a paged list selects: `SELECT {cols} FROM {from_where}` ordered by `{key}`
/// (ascending, or descending when `newest_first`); page cursors are values of `{key}`.
pub(super) struct Listing<'a> {
    pub(super) cols: &'a str,
    pub(super) from_where: &'a str,
    pub(super) key: &'a str,
    pub(super) args: &'a [Arg],
    pub(super) newest_first: bool,
}

/// One page of a [`Listing`].
pub(super) async fn fetch_page<'e, E, T>(
    exec: E,
    listing: Listing<'_>,
    page: &PageRequest,
    map: impl Fn(&DbRow) -> Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<Page<T>>
where
    E: sqlx::Executor<'e, Database = Db> + Copy,
{
    fetch_page_counting(exec, listing, None, page, map, key_of).await
}

/// [`fetch_page`], counting the total over `count_from_where` (the same rows without the
/// joins that only add columns) when given.
pub(super) async fn fetch_page_counting<'e, E, T>(
    exec: E,
    listing: Listing<'_>,
    count_from_where: Option<&str>,
    page: &PageRequest,
    map: impl Fn(&DbRow) -> Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<Page<T>>
where
    E: sqlx::Executor<'e, Database = Db> + Copy,
{
    let count_sql = format!(
        "SELECT COUNT(*) AS n FROM {}",
        count_from_where.unwrap_or(listing.from_where)
    );
    let total: i64 = get(
        &bind_all(sqlx::query(&count_sql), listing.args)
            .fetch_one(exec)
            .await
            .map_err(db_err)?,
        "n",
    )?;
    let mut p = fetch_page_rows(exec, listing, page, map, key_of).await?;
    p.total_count = total;
    Ok(p)
}

/// The rows of one page of a [`Listing`], without counting the total (`total_count` is 0: the
/// caller knows it, or counts it in a statement of its own).
pub(super) async fn fetch_page_rows<'e, E, T>(
    exec: E,
    listing: Listing<'_>,
    page: &PageRequest,
    map: impl Fn(&DbRow) -> Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<Page<T>>
where
    E: sqlx::Executor<'e, Database = Db> + Copy,
{
    let Listing {
        cols,
        from_where,
        key,
        args,
        newest_first,
    } = listing;
    let n = args.len();
    let (cursor, forward) = match (&page.after, &page.before) {
        (Some(a), _) => (Some(a.clone()), true),
        (None, Some(b)) => (Some(b.clone()), false),
        (None, None) => (None, true),
    };
    // Walking forward in display order means ascending keys unless newest_first.
    let ascending = forward != newest_first;
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let mut sql = format!("SELECT {cols} FROM {from_where}");
    let mut args = args.to_vec();
    if let Some(c) = &cursor {
        sql.push_str(&format!(" AND {key} {cmp} ${}", n + 1));
        args.push(Arg::S(c.clone()));
    }
    sql.push_str(&format!(" ORDER BY {key} {dir} LIMIT {}", page.first + 1));
    let rows = bind_all(sqlx::query(&sql), &args)
        .fetch_all(exec)
        .await
        .map_err(db_err)?;
    let more = rows.len() > page.first as usize;
    let mut items = rows
        .iter()
        .take(page.first as usize)
        .map(&map)
        .collect::<Result<Vec<T>>>()?;
    if !forward {
        items.reverse();
    }
    let first_key = items.first().map(&key_of);
    let last_key = items.last().map(&key_of);
    let (next, prev) = if forward {
        (
            if more { last_key } else { None },
            if cursor.is_some() { first_key } else { None },
        )
    } else {
        (last_key, if more { first_key } else { None })
    };
    Ok(Page {
        items,
        total_count: 0,
        next,
        prev,
    })
}

/// A page of a [`Listing`] of one hub's rows, and one row of counts (`counts_sql`, bound to the
/// listing's arguments: a `hubs` column, 0 when the organisation has no such hub, and a `total`),
/// read side by side on two pooled connections. `None` when there is no such hub; otherwise the
/// page (its `total_count` the `total`) and the counts row, for any further counts it holds.
pub(super) async fn hub_page_and_counts<'e, E, T>(
    exec: E,
    counts_sql: &str,
    listing: Listing<'_>,
    page: &PageRequest,
    map: impl Fn(&DbRow) -> Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<Option<(Page<T>, DbRow)>>
where
    E: sqlx::Executor<'e, Database = Db> + Copy,
{
    let counted = async {
        bind_all(sqlx::query(counts_sql), listing.args)
            .fetch_one(exec)
            .await
            .map_err(db_err)
    };
    let paged = fetch_page_rows(exec, listing, page, map, key_of);
    let (counts, mut p) = tokio::try_join!(counted, paged)?;
    if get::<i64>(&counts, "hubs")? == 0 {
        return Ok(None);
    }
    p.total_count = get(&counts, "total")?;
    Ok(Some((p, counts)))
}
