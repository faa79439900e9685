//! Tenant isolation matrix: every operation of the served OpenAPI document, called with another
//! organisation's API key on this organisation's resources, with a hub session of another end
//! user, or with another end user's JWT, is refused (404 or 403, or 401 where the credential
//! cannot call that API at all) and reveals nothing, whatever body it sends (valid JSON, none,
//! garbage): the caller is checked before the body. Afterwards everything is still there.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Names only organisation A's data carries: none may appear in an answer to someone else.
const MARKERS: [&str; 5] = [
    "alpha-connector-name",
    "alpha-hub-name",
    "alpha-integration-name",
    "alpha-user-display",
    "alpha-connection-name",
];

async fn matrix(w: World) {
    let o = w.org.clone();
    let oauth = json!({"id": "oauth", "schemeType": "oauth2", "authorizeUrl": "https://p.example/a", "tokenUrl": "https://p.example/t",
                       "grant": {"grantType": "authorization_code", "clientId": "cid", "clientSecret": "alpha-grant-secret"}});
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": MARKERS[0], "baseUrl": "https://a.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Key"), oauth]}),
        )
        .await
        .expect(201);
    let connector_id = connector["id"].as_str().unwrap().to_owned();
    let credential_id = connector["authSchemeConfigs"][1]["grant"]["credentialId"]
        .as_str()
        .unwrap()
        .to_owned();
    let key_conn = |name: &str| json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Key"), "credential": {"name": "k", "type": "string", "data": {"value": "alpha-secret"}}}]}, "variables": []});
    let connection_id = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{connector_id}/connections"),
            key_conn(MARKERS[4]),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": MARKERS[1], "primaryConnectorId": connector_id, "authSchemeConfig": api_key_scheme("apikey", "X-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let integration = w
        .api
        .post(&format!("/api/embedded/v1/hubs/{hub}/integrations"), json!({"organisationId": o, "name": MARKERS[2], "connectionTemplate": {"connectorId": connector_id, "authSchemeConfig": api_key_scheme("apikey", "X-Key")}}))
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{integration}/connection-templates"
        ))
        .await
        .expect(200)["connectionTemplates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api
        .post(
            &format!("/api/embedded/v1/integrations/{integration}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
    w.api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": "alice", "displayName": MARKERS[3], "primaryConnection": key_conn("primary")}),
        )
        .await
        .expect(201);
    let activation = w
        .api
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "alice", "integrationId": integration, "connections": []}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key_id = w
        .api
        .get(&format!("/api/organisations/v1/organisations/{o}/api-keys"))
        .await
        .expect(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An event endpoint, and the event alice's creation below sends it.
    let endpoint_id = w
        .api
        .post(
            &format!("/api/organisations/v1/organisations/{o}/event-endpoints"),
            json!({"url": "https://hooks.invalid/in", "description": MARKERS[0]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Platform API v2: alice as an organisation-wide end user, and a project (the connector is a system).
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "alice", "displayName": MARKERS[3]}),
        )
        .await
        .expect(201);
    let event_id = w
        .api
        .get(&format!("/api/organisations/v1/organisations/{o}/events"))
        .await
        .expect(200)["events"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let project_body = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": MARKERS[2]}),
        )
        .await
        .expect(200);
    let project = project_body["id"].as_str().unwrap().to_owned();
    let environment = project_body["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2_template = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects/{project}/connection-templates"),
            json!({"systemId": connector_id, "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2_credential = json!({"authSchemeConfig": {"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Key", "in": "header"}},
        "credential": {"type": "string", "data": {"string": {"value": "alpha-secret"}}}});
    let v2_activation = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            json!({"userId": "alice", "environmentId": environment,
            "connections": [{"connectionTemplateId": v2_template, "connection": {"name": MARKERS[4], "credentials": [v2_credential]}}]}),
        )
        .await
        .expect(200);
    let v2_connection = v2_activation["connections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2_activation = v2_activation["id"].as_str().unwrap().to_owned();

    let params: HashMap<&str, String> = HashMap::from([
        ("project_id", project),
        ("environment_id", environment.clone()),
        ("env_system_id", template.clone()),
        ("variable_name", "region".to_owned()),
        ("external_user_id", "alice".to_owned()),
        ("system_id", connector_id.clone()),
        ("organisation_id", o.clone()),
        ("connector_id", connector_id.clone()),
        ("auth_scheme_config_id", "apikey".to_owned()),
        ("connection_id", connection_id.clone()),
        ("credential_id", credential_id),
        ("activation_id", activation.clone()),
        ("template_id", template.clone()),
        ("connection_template_id", template.clone()),
        ("hub_id", hub.clone()),
        ("user_id", "alice".to_owned()),
        ("integration_id", integration.clone()),
        ("key_id", key_id),
        ("endpoint_id", endpoint_id),
        ("event_id", event_id),
    ]);

    // The callers: another organisation, and a session of another end user of this hub.
    let (_, other_org) = w.other_org();
    let mallory = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/mallory/sessions"),
            json!({}),
        )
        .await
        .expect(201);
    // Mallory is also an end user of the organisation in Platform API v2, with a JWT of her own.
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "mallory", "displayName": "Mallory"}),
        )
        .await
        .expect(201);
    let (key_id, pem) = signing_key(&w.api, &o).await;
    let mallory_jwt = w.api.with_jwt(&end_user_jwt(&key_id, &pem, "mallory"));
    let callers = [
        ("organisation B", other_org),
        (
            "mallory's session",
            w.api.with_key(mallory["token"].as_str().unwrap()),
        ),
        ("mallory's JWT", mallory_jwt),
    ];
    // What mallory's session may do in her own hub: a body that is wrong there is her 400.
    let session_writes =
        ["POST /api/embedded/v1/embed/{hub_id}/connector/{connector_id}/oauth2/initialise"];
    // What an end user's JWT may do for herself.
    let end_user_writes = [
        "POST /api/v2/o/{organisation_id}/users",
        "POST /api/v2/o/{organisation_id}/connections",
        "POST /api/v2/o/{organisation_id}/activations",
        "POST /api/v2/o/{organisation_id}/systems/{system_id}/oauth2/initialise",
        "POST /api/v2/o/{organisation_id}/systems/{system_id}/oauth1/initialise",
    ];

    // Platform API v2 paths name v2 resources.
    let mut v2_params = params.clone();
    for (name, value) in [
        ("activation_id", &v2_activation),
        ("connection_id", &v2_connection),
        ("template_id", &v2_template),
        ("env_system_id", &v2_template),
    ] {
        v2_params.insert(name, value.clone());
    }

    let doc: Value = reqwest::get(format!("{}/openapi.json", w.server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut calls = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue; // no resource of A named: covered by the body cases below
        }
        let methods = || {
            ops.as_object()
                .unwrap()
                .iter()
                .filter(|(m, _)| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        };
        if methods().all(|(_, op)| op["security"] == json!([{}])) {
            continue; // public by design (`security: [{}]`), e.g. GET /keys/{id}: a public key, for anyone
        }
        let mut concrete = path.clone();
        for (name, value) in if path.starts_with("/api/v2/") {
            &v2_params
        } else {
            &params
        } {
            concrete = concrete.replace(&format!("{{{name}}}"), value);
        }
        assert!(
            !concrete.contains('{'),
            "no value for a parameter of {path}"
        );
        for method in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        {
            for (who, api) in &callers {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let jwt = api.jwt.is_some();
                if jwt && m == reqwest::Method::GET {
                    continue; // an end user's reads are the JWT matrix's (end_user_jwt.rs)
                }
                let op = format!("{} {path}", method.to_uppercase());
                let may_act = if jwt {
                    end_user_writes.contains(&op.as_str())
                } else {
                    api.key.as_deref().is_some_and(|k| k.starts_with("sys_"))
                        && session_writes.contains(&op.as_str())
                };
                let has_body = ops[method].get("requestBody").is_some()
                    || (m != reqwest::Method::GET && m != reqwest::Method::DELETE);
                // Valid JSON, no body, garbage, broken JSON: the caller is refused all the same.
                let bodies: &[(Option<&str>, Option<&[u8]>)] = if has_body {
                    &[
                        (Some("application/json"), Some(b"{}")),
                        (None, None),
                        (Some("text/plain"), Some(b"garbage")),
                        (Some("application/json"), Some(b"{\"garbage\":")),
                    ]
                } else {
                    &[(None, None)]
                };
                for (content_type, body) in bodies {
                    let r = api
                        .send_raw(m.clone(), &concrete, *content_type, *body)
                        .await;
                    let allowed: &[u16] = if may_act {
                        &[400, 403, 404, 413, 415, 422]
                    } else {
                        &[401, 403, 404]
                    };
                    assert!(
                        allowed.contains(&r.status),
                        "{who}: {method} {path} with {content_type:?} body answered {}: {}",
                        r.status,
                        r.body
                    );
                    let text = r.body.to_string();
                    for marker in MARKERS {
                        assert!(
                            !text.contains(marker),
                            "{who}: {method} {path} revealed {marker}: {text}"
                        );
                    }
                    calls += 1;
                }
            }
        }
    }
    assert!(calls > 300, "the matrix covered the API ({calls} calls)");

    // Writes that name A's resources in the body.
    for (who, api) in &callers {
        let bodies = [
            (
                "/api/embedded/v1/activations",
                json!({"userId": "alice", "integrationId": integration, "connections": []}),
            ),
            (
                "/api/embedded/v1/hubs",
                json!({"organisationId": o, "name": "x", "primaryConnectorId": connector_id, "authSchemeConfig": api_key_scheme("apikey", "X-Key")}),
            ),
        ];
        for (path, body) in bodies {
            let r = api.post(path, body).await;
            assert!(
                [400, 401, 403, 404, 409].contains(&r.status),
                "{who}: POST {path} answered {}: {}",
                r.status,
                r.body
            );
            for marker in MARKERS {
                assert!(
                    !r.body.to_string().contains(marker),
                    "{who}: POST {path} revealed {marker}"
                );
            }
        }
    }

    // Nothing of A was changed or removed.
    w.api
        .get(&format!(
            "/api/v2/o/{o}/environments/{environment}/activations/{v2_activation}"
        ))
        .await
        .expect(200);
    w.api
        .get(&format!("/api/v2/o/{o}/connections/{v2_connection}"))
        .await
        .expect(200);
    w.api
        .get(&format!("/api/embedded/v1/activations/{activation}"))
        .await
        .expect(200);
    w.api
        .get(&format!(
            "/api/connect/v1/o/{o}/connectors/{connector_id}/connections/{connection_id}"
        ))
        .await
        .expect(200);
    assert_eq!(
        w.api
            .get(&format!("/api/embedded/v1/hubs/{hub}/users/alice"))
            .await
            .expect(200)["displayName"],
        MARKERS[3]
    );
    assert_eq!(
        w.api
            .get(&format!("/api/organisations/v1/organisations/{o}/api-keys"))
            .await
            .expect(200)["items"][0]["revokedAt"],
        Value::Null
    );
}

on_both_databases! {
    tenant_matrix => matrix;
}
