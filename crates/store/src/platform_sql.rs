//! The SQL of [`crate::platform::PlatformStore`], shared by both backends like `sql_store!`.
//! `platform_sql_store!` expands in the same module as `sql_store!` and uses its helpers
//! (`get`, `fetch_page`, `Listing`, `Arg`, `db_err`, `like_pattern`, `Db`, `DbRow`).

macro_rules! platform_sql_store {
    ($store:ident) => {
        mod platform_impl {
            use super::*;
            use crate::platform::PlatformStore;
            use switchyard_domain::platform::PlatformEndUser;

            const PLATFORM_END_USER_COLS: &str = "id, organisation_id, external_id, display_name, created_at, updated_at";

            fn platform_end_user(row: &DbRow) -> Result<PlatformEndUser> {
                Ok(PlatformEndUser {
                    id: get(row, "id")?,
                    organisation_id: get(row, "organisation_id")?,
                    external_id: get(row, "external_id")?,
                    display_name: get(row, "display_name")?,
                    created_at: get(row, "created_at")?,
                    updated_at: get(row, "updated_at")?,
                })
            }

            #[async_trait]
            impl PlatformStore for $store {
                async fn insert_platform_end_user(&self, org: &str, u: &PlatformEndUser) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO platform_end_users ({PLATFORM_END_USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                        .bind(&u.id)
                        .bind(org)
                        .bind(&u.external_id)
                        .bind(&u.display_name)
                        .bind(u.created_at)
                        .bind(u.updated_at)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| match db_err(e) {
                            err if err.kind == switchyard_domain::ErrorKind::Conflict => {
                                Error::conflict(format!("an end user with externalId {:?} already exists in this organisation", u.external_id))
                            }
                            err => err,
                        })?;
                    Ok(())
                }

                async fn get_platform_end_user(&self, org: &str, id: &str) -> Result<Option<PlatformEndUser>> {
                    let sql = format!("SELECT {PLATFORM_END_USER_COLS} FROM platform_end_users WHERE organisation_id = $1 AND id = $2");
                    let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.as_ref().map(platform_end_user).transpose()
                }

                async fn find_platform_end_user_by_external_id(&self, org: &str, external_id: &str) -> Result<Option<PlatformEndUser>> {
                    let sql = format!("SELECT {PLATFORM_END_USER_COLS} FROM platform_end_users WHERE organisation_id = $1 AND external_id = $2");
                    let row = sqlx::query(&sql).bind(org).bind(external_id).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.as_ref().map(platform_end_user).transpose()
                }

                async fn list_platform_end_users(&self, org: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<PlatformEndUser>> {
                    let mut args = vec![Arg::S(org.to_owned())];
                    let mut from = String::from("platform_end_users WHERE organisation_id = $1");
                    if let Some(s) = search.filter(|s| !s.is_empty()) {
                        from.push_str(" AND (LOWER(id) LIKE $2 ESCAPE '\\' OR LOWER(external_id) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\')");
                        args.push(Arg::S(like_pattern(s)));
                    }
                    let listing = Listing { cols: PLATFORM_END_USER_COLS, from_where: &from, key: "id", args: &args, newest_first: false };
                    fetch_page(&self.pool, listing, page, platform_end_user, |u| u.id.clone()).await
                }

                async fn delete_platform_end_user(&self, org: &str, id: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM platform_end_users WHERE organisation_id = $1 AND id = $2")
                        .bind(org)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                    Ok(r.rows_affected() > 0)
                }
            }
        }
    };
}
