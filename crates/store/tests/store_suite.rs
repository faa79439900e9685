//! One story that drives every store method, run on SQLite and on PostgreSQL.
use serde_json::json;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::{CredentialType, CredentialView, NewCredential};
use switchyard_domain::model::*;
use switchyard_domain::new_id;
use switchyard_domain::page::PageRequest;
use switchyard_domain::time::now;
use switchyard_store::{testing, Constraint, DynStore, IntegrationFilter};

fn scheme() -> AuthSchemeConfig {
    serde_json::from_value(json!({"id":"apikey","description":"API key","schemeType":"api-key","name":"X-Key","in":"header"})).unwrap()
}

fn org_and_key(name: &str) -> (Organisation, ApiKey) {
    let org = Organisation {
        id: new_id(),
        name: name.into(),
        created_at: now(),
    };
    let key = ApiKey {
        id: new_id(),
        organisation_id: org.id.clone(),
        name: "first".into(),
        prefix: "sy_test".into(),
        key_hash: format!("hash-{}", new_id()),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    (org, key)
}

fn connector(org: &str, name: &str) -> Connector {
    Connector {
        id: new_id(),
        organisation_id: org.into(),
        name: name.into(),
        base_url: "https://{{host}}.example.com".into(),
        auth_scheme_configs: vec![scheme()],
        connection_variables: vec![],
        image_url: String::new(),
        documentation_url: String::new(),
        public: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn new_connection(org: &str, connector_id: &str, user: Option<&str>, name: &str) -> NewConnection {
    let cred_id = new_id();
    let view = CredentialView {
        id: cred_id.clone(),
        organisation_id: org.into(),
        credential_type: CredentialType::String,
        name: "key".into(),
        data: json!({"value": ""}),
        errors: None,
        expires_at: None,
    };
    NewConnection {
        connection: Connection {
            id: new_id(),
            organisation_id: org.into(),
            connector_id: connector_id.into(),
            end_user_id: user.map(Into::into),
            platform_end_user_id: None,
            base_url: String::new(),
            name: name.into(),
            credentials: vec![ConnectionCredential {
                id: new_id(),
                role: CredentialRole::Action,
                auth_scheme_config: scheme(),
                credential: view.clone(),
            }],
            variables: vec![ConnectionVariable {
                name: "host".into(),
                value: "api".into(),
            }],
            created_at: now(),
            updated_at: now(),
        },
        credentials: vec![NewCredential {
            view,
            sealed: "v1.k.sealed".into(),
            key_id: "k".into(),
        }],
    }
}

async fn story(store: DynStore) {
    let (org, key) = org_and_key("acme");
    let o_id = store.create_organisation(&org, &key).await.unwrap();
    let (other, other_key) = org_and_key("globex");
    let other_id = store.create_organisation(&other, &other_key).await.unwrap();
    let o = &o_id;
    store.ping().await.unwrap();
    assert_eq!(
        store.get_organisation(o).await.unwrap().unwrap().name,
        "acme"
    );

    // API keys.
    assert_eq!(
        store
            .find_api_key_by_hash(&key.key_hash)
            .await
            .unwrap()
            .unwrap()
            .1
            .organisation_id,
        org.id
    );
    let (_, mut second) = org_and_key("x");
    second.organisation_id = org.id.clone();
    store.insert_api_key(o, &second).await.unwrap();
    assert_eq!(store.list_api_keys(o).await.unwrap().len(), 2);
    store.touch_api_key(&second.id, now()).await.unwrap();
    assert!(store
        .find_api_key_by_hash(&second.key_hash)
        .await
        .unwrap()
        .unwrap()
        .1
        .last_used_at
        .is_some());
    assert!(
        !store
            .revoke_api_key(&other_id, &second.id, now())
            .await
            .unwrap(),
        "another organisation cannot revoke it"
    );
    assert!(store.revoke_api_key(o, &second.id, now()).await.unwrap());
    assert!(store
        .find_api_key_by_hash(&second.key_hash)
        .await
        .unwrap()
        .unwrap()
        .1
        .revoked_at
        .is_some());

    // Organisation settings: defaults until set, replaced by a second put, per organisation.
    assert_eq!(
        store.get_organisation_settings(o).await.unwrap(),
        OrganisationSettings::default()
    );
    let settings = OrganisationSettings {
        oauth_redirect_urls: vec!["https://app.example.com/cb".into()],
        hub_frame_ancestors: vec![
            "https://app.example.com".into(),
            "https://*.example.org".into(),
        ],
        updated_at: Some(now()),
    };
    store.put_organisation_settings(o, &settings).await.unwrap();
    let read = store.get_organisation_settings(o).await.unwrap();
    assert_eq!(
        (&read.oauth_redirect_urls, &read.hub_frame_ancestors),
        (&settings.oauth_redirect_urls, &settings.hub_frame_ancestors)
    );
    store
        .put_organisation_settings(
            o,
            &OrganisationSettings {
                hub_frame_ancestors: vec![],
                ..settings.clone()
            },
        )
        .await
        .unwrap();
    assert!(store
        .get_organisation_settings(o)
        .await
        .unwrap()
        .hub_frame_ancestors
        .is_empty());
    assert_eq!(
        store.get_organisation_settings(&other_id).await.unwrap(),
        OrganisationSettings::default(),
        "another organisation's are its own"
    );

    // OAuth states: the callback page finds a live state's opener origin without consuming it.
    let state = OAuthState {
        state_hash: format!("hash-{}", new_id()),
        organisation_id: org.id.clone(),
        grant_credential_id: new_id(),
        connector_id: new_id(),
        client_id: "cid".into(),
        redirect_uri: "https://sy.example/oauth2/callback".into(),
        token_url: "https://p.example/token".into(),
        additional_token_params: None,
        scopes: vec!["read".into()],
        code_verifier: None,
        oauth1: None,
        opener_origin: Some("https://host.example".into()),
        created_at: now(),
        expires_at: now() + chrono::Duration::minutes(10),
    };
    store.insert_oauth_state(o, &state).await.unwrap();
    assert_eq!(
        store
            .find_oauth_state_origin(&state.state_hash, now())
            .await
            .unwrap(),
        Some(Some("https://host.example".into()))
    );
    assert_eq!(
        store
            .find_oauth_state_origin(&state.state_hash, state.expires_at)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store
            .find_oauth_state_origin("no-such-hash", now())
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .consume_oauth_state(&other_id, &state.state_hash, now())
            .await
            .unwrap()
            .is_none(),
        "another organisation cannot use it"
    );
    assert_eq!(
        store
            .consume_oauth_state(o, &state.state_hash, now())
            .await
            .unwrap()
            .unwrap()
            .opener_origin
            .as_deref(),
        Some("https://host.example")
    );
    assert_eq!(
        store
            .find_oauth_state_origin(&state.state_hash, now())
            .await
            .unwrap(),
        None,
        "used"
    );

    // Connectors.
    let primary = connector(o, "Primary");
    let crm = connector(o, "CRM");
    store.insert_connector(o, &primary, &[]).await.unwrap();
    let grant = new_connection(o, &crm.id, None, "grant").credentials[0].clone();
    let mut crm = crm;
    crm.auth_scheme_configs.push(
        serde_json::from_value(json!({"id":"oauth","schemeType":"oauth2","authorizeUrl":"https://a","tokenUrl":"https://t",
            "grant":{"grantType":"authorization_code","credentialId": grant.view.id, "organisationId": o.as_str(), "clientId":"c"}}))
        .unwrap(),
    );
    store.insert_connector(o, &crm, &[grant]).await.unwrap();
    assert_eq!(
        store.sealed_counts_by_key().await.unwrap(),
        [("k".to_owned(), 1)]
    );
    assert!(
        store
            .get_connector(&other_id, &crm.id)
            .await
            .unwrap()
            .is_none(),
        "tenant scoping"
    );
    let mut renamed = crm.clone();
    renamed.name = "CRM 2".into();
    assert!(store.update_connector(o, &renamed, &[]).await.unwrap());
    assert_eq!(
        store.get_connector(o, &crm.id).await.unwrap().unwrap().name,
        "CRM 2"
    );
    let page = store
        .list_connectors(o, &PageRequest::new(Some(1)))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total_count), (1, 2));
    assert_eq!(page.items[0].id, crm.id, "newest first");
    let page2 = store
        .list_connectors(
            o,
            &PageRequest {
                first: 1,
                after: page.next.clone(),
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page2.items[0].id, primary.id);
    assert!(page2.next.is_none());
    let back = store
        .list_connectors(
            o,
            &PageRequest {
                first: 1,
                after: None,
                before: page2.prev.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(back.items[0].id, crm.id);

    // Organisation-owned connection on a connector.
    let own = new_connection(o, &crm.id, None, "ops");
    store.insert_connection(o, &own).await.unwrap();
    let listed = store
        .list_connector_connections(o, &crm.id, &PageRequest::new(None))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].credentials.len(), 1);
    let dup = new_connection(o, &crm.id, None, "ops");
    assert_eq!(
        store
            .insert_connection(o, &dup)
            .await
            .unwrap_err()
            .constraint(),
        Some(&Constraint::ConnectionName {
            names: vec!["ops".into()]
        })
    );

    // Hubs.
    let hub = Hub {
        id: new_id(),
        organisation_id: org.id.clone(),
        name: "Main".into(),
        primary_connector_id: primary.id.clone(),
        auth_scheme_config: scheme(),
        is_default: true,
        oauth_redirect_urls: vec!["https://app.example.com/hub-cb".into()],
        deleted_at: None,
        created_at: now(),
        updated_at: now(),
    };
    store.insert_hub(o, &hub, &[]).await.unwrap();
    assert_eq!(
        store
            .get_hub(o, &hub.id)
            .await
            .unwrap()
            .unwrap()
            .oauth_redirect_urls,
        hub.oauth_redirect_urls
    );
    let mut hub2 = hub.clone();
    hub2.id = new_id();
    store.insert_hub(o, &hub2, &[]).await.unwrap();
    assert!(
        !store.get_hub(o, &hub.id).await.unwrap().unwrap().is_default,
        "one default hub"
    );
    let mut gone = hub2.clone();
    gone.deleted_at = Some(now());
    assert!(store.update_hub(o, &gone).await.unwrap());
    assert_eq!(store.list_hubs(o).await.unwrap().len(), 1);
    assert!(
        store.get_hub(o, &hub2.id).await.unwrap().is_some(),
        "soft-deleted hubs stay readable"
    );
    assert_eq!(
        store
            .delete_connector(o, &primary.id)
            .await
            .unwrap_err()
            .constraint(),
        Some(&Constraint::ConnectorInUse)
    );

    // End users with primary connections.
    let user = EndUser {
        id: new_id(),
        organisation_id: org.id.clone(),
        hub_id: hub.id.clone(),
        external_id: "cust-1".into(),
        display_name: "Customer One".into(),
        primary_connection_id: None,
        created_at: now(),
        updated_at: now(),
    };
    let pc = new_connection(o, &primary.id, Some(&user.id), "primary");
    let user = EndUser {
        primary_connection_id: Some(pc.connection.id.clone()),
        ..user
    };
    store.insert_end_user(o, &user, Some(&pc)).await.unwrap();
    let mut dup_user = user.clone();
    dup_user.id = new_id();
    dup_user.primary_connection_id = None;
    assert_eq!(
        store
            .insert_end_user(o, &dup_user, None)
            .await
            .unwrap_err()
            .constraint(),
        Some(&Constraint::HubEndUserExternalId {
            external_id: "cust-1".into()
        })
    );
    assert_eq!(
        store
            .get_end_user(o, &hub.id, "cust-1", IdentifierType::External)
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    assert_eq!(
        store
            .get_end_user(o, &hub.id, &user.id, IdentifierType::Internal)
            .await
            .unwrap()
            .unwrap()
            .external_id,
        "cust-1"
    );
    assert!(store
        .get_end_user_by_id(&other_id, &user.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .list_end_users(o, &hub.id, Some("ONE"), &PageRequest::new(None))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        store
            .list_end_users(o, &hub.id, Some("nobody"), &PageRequest::new(None))
            .await
            .unwrap()
            .total_count,
        0
    );
    assert!(store.connection_in_use(o, &pc.connection.id).await.unwrap());

    // Integrations and templates.
    let integration = Integration {
        id: new_id(),
        organisation_id: org.id.clone(),
        hub_id: hub.id.clone(),
        name: "Sync".into(),
        description: "sync things".into(),
        summary: String::new(),
        image_url: String::new(),
        screenshot_url: String::new(),
        variables_schema: Some(json!({"type":"object"})),
        board_id: new_id(),
        is_deployed: false,
        created_at: now(),
        updated_at: now(),
    };
    let t1 = ConnectionTemplate {
        id: new_id(),
        organisation_id: org.id.clone(),
        integration_id: integration.id.clone(),
        connector_id: crm.id.clone(),
        name: "CRM".into(),
        image_url: String::new(),
        auth_scheme_config: scheme(),
        is_primary: false,
        is_used: true,
        created_at: now(),
    };
    store
        .insert_integration(o, &integration, Some(&t1), &[])
        .await
        .unwrap();
    let t2 = ConnectionTemplate {
        id: new_id(),
        connector_id: primary.id.clone(),
        is_primary: true,
        ..t1.clone()
    };
    store.insert_template(o, &t2, &[]).await.unwrap();
    assert_eq!(
        store
            .list_templates(o, &integration.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_templates_page(o, &integration.id, &PageRequest::new(Some(1)))
            .await
            .unwrap()
            .total_count,
        2
    );
    assert_eq!(
        store
            .get_template(o, &t2.id)
            .await
            .unwrap()
            .unwrap()
            .connector_id,
        primary.id
    );
    store
        .set_templates_used(o, &integration.id, std::slice::from_ref(&t2.id))
        .await
        .unwrap();
    assert!(
        !store
            .get_template(o, &t1.id)
            .await
            .unwrap()
            .unwrap()
            .is_used
    );
    let deployed = Integration {
        is_deployed: true,
        ..integration.clone()
    };
    assert!(store.update_integration(o, &deployed).await.unwrap());
    assert_eq!(
        store
            .list_integrations(o, &hub.id, Some("sync"), &PageRequest::new(None))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let (eu, connected) = store
        .list_end_user_integrations(
            o,
            &hub.id,
            (&user.id, IdentifierType::Internal),
            IntegrationFilter::default(),
            &PageRequest::new(None),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (eu.items.len(), eu.items[0].is_activated, connected),
        (1, false, 0)
    );
    let (none, _) = store
        .list_end_user_integrations(
            o,
            &hub.id,
            ("nobody", IdentifierType::External),
            IntegrationFilter {
                deployed: Some(false),
                ..Default::default()
            },
            &PageRequest::new(None),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(none.items.is_empty());

    // Activations.
    let crm_conn = new_connection(o, &crm.id, Some(&user.id), "my crm");
    let activation = Activation {
        id: new_id(),
        organisation_id: org.id.clone(),
        hub_id: hub.id.clone(),
        integration_id: integration.id.clone(),
        end_user_id: user.id.clone(),
        dynamic_variables: json!({"region":"eu"}).as_object().unwrap().clone(),
        bindings: vec![
            (t1.id.clone(), crm_conn.connection.id.clone()),
            (t2.id.clone(), pc.connection.id.clone()),
        ],
        created_at: now(),
        updated_at: now(),
    };
    store
        .insert_activation(o, &activation, None, std::slice::from_ref(&crm_conn))
        .await
        .unwrap();
    let again = Activation {
        id: new_id(),
        ..activation.clone()
    };
    let err = store
        .insert_activation(o, &again, None, &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.constraint(),
        Some(&Constraint::IntegrationActivated {
            activation_id: activation.id.clone()
        })
    );
    let got = store
        .get_activation(o, &activation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.bindings.len(), 2);
    assert!(store
        .get_activation(&other_id, &activation.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .find_activation(o, &user.id, &integration.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        activation.id
    );
    assert_eq!(
        store
            .list_activations(o, &user.id, Some(&integration.id), &PageRequest::new(None))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let (eu, connected) = store
        .list_end_user_integrations(
            o,
            &hub.id,
            (&user.id, IdentifierType::Internal),
            IntegrationFilter {
                deployed: Some(true),
                ..Default::default()
            },
            &PageRequest::new(None),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((eu.items[0].is_activated, connected), (true, 1));
    let vars = json!({"region":"us"}).as_object().unwrap().clone();
    assert!(store
        .update_activation_variables(o, &activation.id, &vars, now())
        .await
        .unwrap());
    assert_eq!(
        store
            .get_activation(o, &activation.id)
            .await
            .unwrap()
            .unwrap()
            .dynamic_variables,
        vars
    );
    let user_conns = store
        .list_end_user_connections(
            o,
            &user.id,
            std::slice::from_ref(&crm.id),
            &PageRequest::new(None),
        )
        .await
        .unwrap();
    assert_eq!(user_conns.items.len(), 1);
    assert_eq!(
        store
            .get_connections(
                o,
                &[crm_conn.connection.id.clone(), pc.connection.id.clone()]
            )
            .await
            .unwrap()
            .len(),
        2
    );
    let mut c = store
        .get_connection(o, &crm_conn.connection.id)
        .await
        .unwrap()
        .unwrap();
    c.name = "renamed".into();
    assert!(store.update_connection(o, &c).await.unwrap());
    assert_eq!(
        store.get_connection(o, &c.id).await.unwrap().unwrap().name,
        "renamed"
    );
    assert_eq!(
        store
            .delete_integration(o, &integration.id)
            .await
            .unwrap_err()
            .constraint(),
        Some(&Constraint::IntegrationHasActivations { count: 1 })
    );
    assert!(store.delete_activation(o, &activation.id).await.unwrap());
    assert!(store
        .get_activation(o, &activation.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .delete_connection(o, &crm_conn.connection.id)
        .await
        .unwrap());

    // Deleting the end user takes its connections and activations with it.
    store
        .insert_activation(
            o,
            &Activation {
                id: new_id(),
                bindings: vec![(t2.id.clone(), pc.connection.id.clone())],
                ..activation.clone()
            },
            None,
            &[],
        )
        .await
        .unwrap();
    assert!(store.delete_end_user(o, &user.id).await.unwrap());
    assert!(store
        .get_connection(o, &pc.connection.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_activation(o, &user.id, &integration.id)
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_integration(o, &integration.id).await.unwrap());
    assert!(store.delete_connector(o, &crm.id).await.is_ok());
    // Deleting connections and connectors took every credential with them, grant secrets included.
    assert_eq!(store.sealed_counts_by_key().await.unwrap(), []);
    store.close().await;
}

#[tokio::test]
async fn store_story_sqlite() {
    let dir = std::env::temp_dir();
    let store = switchyard_store::connect(&testing::sqlite_url(&dir))
        .await
        .unwrap();
    assert_eq!(store.backend(), "sqlite");
    story(store).await;
}

#[tokio::test]
async fn store_story_postgres() {
    let Some(url) = testing::postgres_url().await else {
        return;
    };
    let _dropped_at_the_end = testing::DropDatabase(url.clone());
    let store = switchyard_store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    story(store).await;
}

/// A concrete store (not a `DynStore`) needs its traits in scope: the prelude brings them all.
#[tokio::test]
async fn concrete_store_through_the_prelude() {
    use switchyard_store::prelude::*;
    let url = testing::sqlite_url(&std::env::temp_dir());
    let store = switchyard_store::sqlite::SqliteStore::connect(&url)
        .await
        .unwrap();
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.unwrap();
    let (org, key) = org_and_key("prelude");
    let org = store.create_organisation(&org, &key).await.unwrap();
    assert!(store.list_hubs(&org).await.unwrap().is_empty());
    // And it is a `Store`, as a `DynStore` holds it.
    let dynamic: DynStore = std::sync::Arc::new(store);
    dynamic.close().await;
}
