//! [`crate::PlatformSystemStore`]: v2 systems, connectors with a domain and labels.
use super::connectors::{connector, insert_connector_tx};
use super::credentials::insert_credentials_tx;
use super::query::{fetch_page, get, j, Arg, DbRow, Listing};
use super::Backend;
use crate::error::{db_err, Result, StoreError};
use crate::sql_text::like_pattern;
use crate::OrgId;
use crate::PlatformSystemStore;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::PlatformSystem;

const SYSTEM_COLS: &str = "c.*, p.domain AS v2_domain, p.labels AS v2_labels";

const SYSTEM_FROM: &str =
    "connectors c LEFT JOIN platform_systems p ON p.id = c.id WHERE c.organisation_id = $1";

fn platform_system(row: &DbRow) -> Result<PlatformSystem> {
    let labels: Option<String> = get(row, "v2_labels")?;
    let labels = match labels {
        Some(t) => serde_json::from_str(&t)
            .map_err(|_| StoreError::unreadable("stored system labels are not JSON"))?,
        None => Default::default(),
    };
    let domain: Option<String> = get(row, "v2_domain")?;
    Ok(PlatformSystem {
        connector: connector(row)?,
        domain: domain.unwrap_or_default(),
        labels,
    })
}

#[async_trait]
impl PlatformSystemStore for Backend {
    async fn insert_platform_system(
        &self,
        org: &OrgId,
        system: &PlatformSystem,
        credentials: &[NewCredential],
    ) -> Result<()> {
        let c = &system.connector;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        insert_connector_tx(&mut tx, org, c).await?;
        let labels = serde_json::to_string(&system.labels).expect("labels serialise");
        sqlx::query(
            "INSERT INTO platform_systems (id, organisation_id, domain, labels) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&c.id)
        .bind(org)
        .bind(&system.domain)
        .bind(labels)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_platform_system(&self, org: &OrgId, id: &str) -> Result<Option<PlatformSystem>> {
        let sql = format!("SELECT {SYSTEM_COLS} FROM {SYSTEM_FROM} AND c.id = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(platform_system).transpose()
    }

    async fn list_platform_systems(
        &self,
        org: &OrgId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<PlatformSystem>> {
        let mut args = vec![Arg::S(org.to_string())];
        let mut from = SYSTEM_FROM.to_owned();
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            from.push_str(
                " AND (LOWER(c.name) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(p.domain, '')) LIKE $2 \
                 ESCAPE '\\')",
            );
            args.push(Arg::S(like_pattern(s)));
        }
        let listing = Listing {
            cols: SYSTEM_COLS,
            from_where: &from,
            key: "c.id",
            args: &args,
            newest_first: false,
        };
        fetch_page(self.reads(), listing, page, platform_system, |s| {
            s.connector.id.clone()
        })
        .await
    }

    async fn update_platform_system(
        &self,
        org: &OrgId,
        system: &PlatformSystem,
        credentials: &[NewCredential],
    ) -> Result<bool> {
        let c = &system.connector;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        let r = sqlx::query(
            "UPDATE connectors SET name = $3, base_url = $4, auth_scheme_configs = $5, \
             updated_at = $6 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.base_url)
        .bind(j(&c.auth_scheme_configs))
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        let labels = serde_json::to_string(&system.labels).expect("labels serialise");
        sqlx::query(
            "INSERT INTO platform_systems (id, organisation_id, domain, labels) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, \
             labels = excluded.labels",
        )
        .bind(&c.id)
        .bind(org)
        .bind(&system.domain)
        .bind(labels)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
