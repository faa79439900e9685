//! Cursor pagination: `first` (default 20), opaque `after`/`before` cursors.

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub first: u32,
    /// Items strictly after this cursor (the sort key of the last item seen).
    pub after: Option<String>,
    /// Items strictly before this cursor.
    pub before: Option<String>,
}

impl PageRequest {
    pub fn new(first: Option<u32>) -> Self {
        Self {
            first: first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
            after: None,
            before: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_count: i64,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<String>,
    /// Cursor for the previous page; `None` on the first page.
    pub prev: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total_count: self.total_count,
            next: self.next,
            prev: self.prev,
        }
    }
}
