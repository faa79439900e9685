//! The raw-database ceiling: the writes of one ActivateIntegration with two new API-key
//! connections, through the same store code (`ActivationStore::insert_activation`, one transaction: the
//! activation row, two connections with their sealed credentials and credential links, two
//! bindings) and the same driver and pool settings the server uses, without HTTP, the reads the
//! handler makes first, validation or the response.
use crate::load::Outcome;
use crate::seed::{dynamic_variables, HubData, Pairs};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::{
    self, CredentialType, CredentialView, NewCredential, SecretData,
};
use switchyard_domain::model::{
    Activation, Connection, ConnectionCredential, CredentialRole, IdentifierType, NewConnection,
};
use switchyard_domain::page::PageRequest;
use switchyard_domain::{new_id, time};
use switchyard_store::{DynStore, IntegrationFilter};
use switchyard_vault::KeyRing;

pub struct Raw {
    pub store: DynStore,
    pub vault: KeyRing,
    pub org: switchyard_store::OrgId,
    pub crm: String,
    pub erp: String,
    pub hub: Arc<HubData>,
    pub pairs: Arc<Pairs>,
    pub crm_scheme: AuthSchemeConfig,
    pub erp_scheme: AuthSchemeConfig,
    /// The dynamic variables as the server stores them (defaults applied).
    pub variables: Map<String, Value>,
}

impl Raw {
    pub async fn open(
        url: &str,
        options: &switchyard_store::ConnectOptions,
        org: &str,
        crm: &str,
        erp: &str,
        hub: Arc<HubData>,
        pairs: Arc<Pairs>,
    ) -> anyhow::Result<Raw> {
        let store = switchyard_store::connect_with(url, options)
            .await
            .map_err(|e| anyhow::anyhow!("opening the store: {e}"))?;
        let vault = KeyRing::new(vec![switchyard_vault::MasterKey::parse(
            crate::server::MASTER_KEY,
        )?])?;
        let scheme = |h: &str| -> anyhow::Result<AuthSchemeConfig> {
            Ok(serde_json::from_value(crate::seed::api_key_scheme(h))?)
        };
        // The benchmark is the operator of its own database.
        let org = store
            .operator_organisation(org)
            .await
            .map_err(|e| anyhow::anyhow!("reading the organisation: {e}"))?
            .ok_or_else(|| anyhow::anyhow!("no organisation {org}"))?;
        let mut variables = dynamic_variables().as_object().cloned().unwrap_or_default();
        variables.insert("dryRun".into(), json!(false));
        Ok(Raw {
            store,
            vault,
            org,
            crm: crm.to_owned(),
            erp: erp.to_owned(),
            hub,
            pairs,
            crm_scheme: scheme(crate::seed::CRM_HEADER)?,
            erp_scheme: scheme(crate::seed::ERP_HEADER)?,
            variables,
        })
    }

    /// What the connection service (`connections::build`) makes of a new API-key connection: the credential sealed with
    /// the vault (bound to its id), its redacted view, the connection.
    fn connection(
        &self,
        connector: &str,
        user: &str,
        name: String,
        scheme: &AuthSchemeConfig,
        secret: String,
    ) -> NewConnection {
        let now = time::now();
        let ty = CredentialType::String;
        let mut data = Map::new();
        data.insert("value".into(), Value::String(secret));
        let secret = SecretData::from_map(data);
        let cred_id = new_id();
        let view = CredentialView {
            id: cred_id.clone(),
            organisation_id: self.org.to_string(),
            credential_type: ty,
            name: format!("{} key", scheme.id),
            data: credential::redact(ty, &secret),
            errors: None,
            expires_at: None,
        };
        let plaintext = serde_json::to_vec(secret.expose()).expect("JSON maps serialise");
        let sealed = self.vault.seal(&plaintext, &cred_id);
        let nc = NewCredential {
            view: view.clone(),
            sealed,
            key_id: self.vault.active_key_id().to_owned(),
        };
        NewConnection {
            connection: Connection {
                id: new_id(),
                organisation_id: self.org.to_string(),
                connector_id: connector.to_owned(),
                end_user_id: Some(user.to_owned()),
                platform_end_user_id: None,
                base_url: String::new(),
                name,
                credentials: vec![ConnectionCredential {
                    id: new_id(),
                    role: CredentialRole::Action,
                    auth_scheme_config: scheme.clone(),
                    credential: view,
                }],
                variables: vec![],
                created_at: now,
                updated_at: now,
            },
            credentials: vec![nc],
        }
    }

    /// GetActivation's reads: the activation with its integration and end user (one joined
    /// statement), then the user's primary connection with its credentials.
    pub async fn get_once(&self, id: &str) -> Outcome {
        let user = match self.store.get_activation_view(&self.org, id).await {
            Ok(Some((_, _, user))) => user,
            Ok(None) => return Outcome::Err(format!("no activation {id}")),
            Err(e) => return Outcome::Err(format!("get_activation_view: {e}")),
        };
        if let Some(primary) = &user.primary_connection_id {
            if let Err(e) = self.store.get_connection(&self.org, primary).await {
                return Outcome::Err(format!("get_connection: {e}"));
            }
        }
        Outcome::Ok
    }

    /// ListEndUserIntegrations' reads (first page of 10, deployed and not): the counts (the hub,
    /// its integrations, the user's activations) and the page, side by side.
    pub async fn list_once(&self, hub: &HubData, user: usize) -> Outcome {
        let page = PageRequest::new(Some(10));
        match self
            .store
            .list_end_user_integrations(
                &self.org,
                &hub.id,
                (&hub.external(user), IdentifierType::External),
                IntegrationFilter::default(),
                &page,
            )
            .await
        {
            Ok(Some(_)) => Outcome::Ok,
            Ok(None) => Outcome::Err(format!("no hub {}", hub.id)),
            Err(e) => Outcome::Err(format!("list_end_user_integrations: {e}")),
        }
    }

    pub async fn activate_once(&self) -> Outcome {
        let Some((u, d)) = self.pairs.next() else {
            return Outcome::Exhausted;
        };
        let i = &self.hub.deployed[d];
        let user = &self.hub.users[u];
        let ext = self.hub.external(u);
        let c1 = self.connection(
            &self.crm,
            user,
            format!("crm {}", i.index),
            &self.crm_scheme,
            format!("crm-secret-{ext}-{}", i.index),
        );
        let c2 = self.connection(
            &self.erp,
            user,
            format!("erp {}", i.index),
            &self.erp_scheme,
            format!("erp-secret-{ext}-{}", i.index),
        );
        let now = time::now();
        let a = Activation {
            id: new_id(),
            organisation_id: self.org.to_string(),
            hub_id: self.hub.id.clone(),
            integration_id: i.id.clone(),
            end_user_id: user.clone(),
            dynamic_variables: self.variables.clone(),
            bindings: vec![
                (i.t_crm.clone(), c1.connection.id.clone()),
                (i.t_erp.clone(), c2.connection.id.clone()),
            ],
            created_at: now,
            updated_at: now,
        };
        match self
            .store
            .insert_activation(&self.org, &a, None, &[c1, c2])
            .await
        {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Err(format!("insert_activation: {e}")),
        }
    }
}
