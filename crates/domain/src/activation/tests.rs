//! Unit tests of [`super`].
use super::*;
use serde_json::json;

const V1: Rules = Rules {
    words: Words {
        list: "connections",
        template_field: "templateId",
        existing_field: "connectionId",
        neither_field: "",
        neither_message: "give either connectionId or name and credentials",
        scope: "integration",
        connector: "connector",
    },
    organisation_connections: false,
};
const V2: Rules = Rules {
    words: Words {
        list: "connections",
        template_field: "connectionTemplateId",
        existing_field: "existingConnectionId",
        neither_field: ".connection",
        neither_message: "give a new connection or an existingConnectionId",
        scope: "environment",
        connector: "system",
    },
    organisation_connections: true,
};

fn slots() -> Vec<Slot<'static>> {
    vec![
        Slot {
            id: "t-crm",
            name: "CRM",
            connector_id: "crm",
            fallback: None,
        },
        Slot {
            id: "t-erp",
            name: "ERP",
            connector_id: "erp",
            fallback: None,
        },
    ]
}

fn alice() -> Owner {
    Owner::EndUser("alice".into())
}

fn unit(_: usize, _: &Slot<'_>) -> Result<(), Vec<FieldError>> {
    Ok(())
}

fn fields<T>(r: &Result<Plan<T>, Refusal>) -> Vec<String> {
    r.as_ref()
        .err()
        .map(|e| e.fields.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default()
}

/// An existing connection to `connector`, of `owner`.
fn conn(connector: &str, owner: &Owner) -> Connection {
    let (end_user_id, platform_end_user_id) = match owner {
        Owner::Organisation => (None, None),
        Owner::EndUser(u) => (Some(u.clone()), None),
        Owner::PlatformEndUser(u) => (None, Some(u.clone())),
    };
    let now = crate::time::now();
    Connection {
        id: String::new(),
        organisation_id: "org".into(),
        connector_id: connector.into(),
        end_user_id,
        platform_end_user_id,
        base_url: String::new(),
        name: "c".into(),
        credentials: Vec::new(),
        variables: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

fn ok() -> Result<Map<String, Value>, Vec<FieldError>> {
    Ok(Map::new())
}

#[test]
fn every_template_is_served_by_an_entry_in_template_order() {
    let (bob, org) = (alice(), Owner::Organisation);
    let existing = HashMap::from([("c1".to_owned(), conn("erp", &bob))]);
    let entries = [
        Entry {
            template_id: "t-erp",
            request: Request::Existing("c1"),
        },
        Entry {
            template_id: "t-crm",
            request: Request::New,
        },
    ];
    let p = plan(&slots(), &entries, &existing, &alice(), &V1, ok(), unit).unwrap();
    assert_eq!(
        p.bindings,
        [
            ("t-crm".into(), Binding::New(1)),
            ("t-erp".into(), Binding::Existing("c1".into()))
        ]
    );
    let _ = org;
}

#[test]
fn every_missing_template_is_named_at_once() {
    let r = plan(&slots(), &[], &HashMap::new(), &alice(), &V1, ok(), unit);
    let missing: Vec<_> = r.unwrap_err().missing.into_iter().map(|m| m.name).collect();
    assert_eq!(missing, ["CRM", "ERP"]);
}

#[test]
fn a_fallback_serves_a_template_left_out() {
    let mut s = slots();
    s[0].fallback = Some("primary");
    let r = plan(
        &s,
        &[Entry {
            template_id: "t-erp",
            request: Request::New,
        }],
        &HashMap::new(),
        &alice(),
        &V1,
        ok(),
        unit,
    );
    assert_eq!(
        r.unwrap().bindings[0],
        ("t-crm".into(), Binding::Fallback("primary".into()))
    );
}

#[test]
fn unknown_duplicate_and_malformed_entries_are_refused_and_not_also_missing() {
    let entries = [
        Entry {
            template_id: "nope",
            request: Request::New,
        },
        Entry {
            template_id: "t-crm",
            request: Request::New,
        },
        Entry {
            template_id: "t-crm",
            request: Request::New,
        },
        Entry {
            template_id: "t-erp",
            request: Request::Neither,
        },
    ];
    let r = plan(
        &slots(),
        &entries,
        &HashMap::new(),
        &alice(),
        &V2,
        ok(),
        unit,
    );
    assert_eq!(
        fields(&r),
        [
            "connections[0].connectionTemplateId",
            "connections[2].connectionTemplateId",
            "connections[3].connection"
        ]
    );
    assert!(r.unwrap_err().missing.is_empty());
}

#[test]
fn another_users_or_another_connectors_connection_is_refused() {
    let (bob, alice_owner) = (Owner::EndUser("bob".into()), alice());
    let existing = HashMap::from([
        ("bobs".to_owned(), conn("crm", &bob)),
        ("wrong".to_owned(), conn("erp", &alice_owner)),
    ]);
    let entries = [
        Entry {
            template_id: "t-crm",
            request: Request::Existing("bobs"),
        },
        Entry {
            template_id: "t-erp",
            request: Request::Existing("gone"),
        },
    ];
    let r = plan(&slots(), &entries, &existing, &alice(), &V1, ok(), unit);
    assert_eq!(
        fields(&r),
        ["connections[0].connectionId", "connections[1].connectionId"]
    );
    let entries = [Entry {
        template_id: "t-crm",
        request: Request::Existing("wrong"),
    }];
    let r = plan(
        &slots()[..1],
        &entries,
        &existing,
        &alice(),
        &V1,
        ok(),
        unit,
    );
    assert!(r.unwrap_err().fields[0]
        .message
        .contains("needs connector crm"));
}

#[test]
fn the_organisations_connections_serve_only_where_the_rules_allow() {
    let org = Owner::Organisation;
    let existing = HashMap::from([("static".to_owned(), conn("crm", &org))]);
    let entries = [Entry {
        template_id: "t-crm",
        request: Request::Existing("static"),
    }];
    assert!(plan(
        &slots()[..1],
        &entries,
        &existing,
        &alice(),
        &V2,
        ok(),
        unit
    )
    .is_ok());
    assert_eq!(
        fields(&plan(
            &slots()[..1],
            &entries,
            &existing,
            &alice(),
            &V1,
            ok(),
            unit
        )),
        ["connections[0].connectionId"]
    );
}

#[test]
fn new_connections_are_built_for_their_slot_and_their_problems_join_the_refusal() {
    let entries = [
        Entry {
            template_id: "t-crm",
            request: Request::New,
        },
        Entry {
            template_id: "t-erp",
            request: Request::New,
        },
    ];
    let mut p = plan(
        &slots(),
        &entries,
        &HashMap::new(),
        &alice(),
        &V1,
        ok(),
        |i, s| Ok(format!("{i}:{}", s.connector_id)),
    )
    .unwrap();
    assert_eq!(p.take_new(1).as_deref(), Some("1:erp"));
    assert_eq!(p.take_new(1), None);
    let refuse = |i: usize, _: &Slot<'_>| -> Result<(), Vec<FieldError>> {
        Err(vec![FieldError::new(
            format!("connections[{i}].name"),
            "must not be empty",
        )])
    };
    let r = plan(
        &slots(),
        &entries,
        &HashMap::new(),
        &alice(),
        &V1,
        ok(),
        refuse,
    );
    assert_eq!(fields(&r), ["connections[0].name", "connections[1].name"]);
    assert!(
        r.unwrap_err().missing.is_empty(),
        "a template whose new connection is refused is not also missing"
    );
}

#[test]
fn variable_problems_join_the_refusal_and_valid_variables_are_planned() {
    let entries = [
        Entry {
            template_id: "t-crm",
            request: Request::New,
        },
        Entry {
            template_id: "t-erp",
            request: Request::New,
        },
    ];
    let bad = Err(vec![FieldError::new(
        "dynamicVariables.region",
        "is required",
    )]);
    let r = plan(
        &slots(),
        &entries,
        &HashMap::new(),
        &alice(),
        &V1,
        bad,
        unit,
    );
    assert_eq!(fields(&r), ["dynamicVariables.region"]);
    let good = Ok(json!({"region": "eu", "batch": 50})
        .as_object()
        .unwrap()
        .clone());
    assert_eq!(
        plan(
            &slots(),
            &entries,
            &HashMap::new(),
            &alice(),
            &V1,
            good,
            unit
        )
        .unwrap()
        .variables["batch"],
        50
    );
}
