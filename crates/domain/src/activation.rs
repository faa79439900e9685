//! The activation engine: decides whether an activation request is complete and consistent, and
//! what it binds. Pure: the caller looks up what it needs and writes what the plan says.
use crate::error::{Error, FieldError};
use crate::model::{Connection, ConnectionTemplate, EndUser, Integration};
use std::collections::{HashMap, HashSet};

/// One entry of an activation request's `connections` list.
#[derive(Debug, Clone, Copy)]
pub enum Requested<'a> {
    /// Bind an existing connection of the end user.
    Existing { connection_id: &'a str },
    /// Bind a connection created by this request.
    New,
}

#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub template_id: &'a str,
    pub requested: Requested<'a>,
}

/// What serves one template in the activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// An existing connection, by id.
    Existing(String),
    /// The new connection of request entry `index`.
    New(usize),
}

/// Checks the request's entries against the integration's templates and returns, in template
/// order, what binds each template. `connections` holds the existing connections the entries name
/// (whoever owns them); `primary` is the end user's primary connection, which serves a primary
/// template the request leaves out. `field` is the list's name in error paths. All problems are
/// reported at once.
pub fn bind_templates(
    integration: &Integration,
    templates: &[ConnectionTemplate],
    user: &EndUser,
    entries: &[Entry<'_>],
    connections: &HashMap<String, Connection>,
    primary: Option<&Connection>,
    field: &str,
) -> Result<Vec<(String, Binding)>, Vec<FieldError>> {
    let by_id: HashMap<&str, &ConnectionTemplate> =
        templates.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut fields = Vec::new();
    let mut bound: HashMap<&str, Binding> = HashMap::new();
    // Templates an entry tried to bind: when that entry is wrong, its own error says so, and the
    // template is not reported missing as well.
    let mut attempted: HashSet<&str> = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(template) = by_id.get(entry.template_id) else {
            fields.push(FieldError::new(
                format!("{field}[{i}].templateId"),
                format!(
                    "template {} is not a connection template of integration {}",
                    entry.template_id, integration.id
                ),
            ));
            continue;
        };
        attempted.insert(entry.template_id);
        if bound.contains_key(entry.template_id) {
            fields.push(FieldError::new(
                format!("{field}[{i}].templateId"),
                format!("template {} is bound more than once", entry.template_id),
            ));
            continue;
        }
        let binding = match entry.requested {
            Requested::New => Binding::New(i),
            Requested::Existing { connection_id } => {
                match connections.get(connection_id) {
                    Some(c)
                        if c.end_user_id.as_deref() == Some(user.id.as_str())
                            && c.connector_id == template.connector_id => {}
                    Some(c) if c.end_user_id.as_deref() == Some(user.id.as_str()) => {
                        fields.push(FieldError::new(
                            format!("{field}[{i}].connectionId"),
                            format!(
                                "connection {connection_id} is for connector {}, but template {} needs connector {}",
                                c.connector_id, template.id, template.connector_id
                            ),
                        ));
                        continue;
                    }
                    _ => {
                        fields.push(FieldError::new(
                            format!("{field}[{i}].connectionId"),
                            format!(
                                "connection {connection_id} is not a connection of this end user"
                            ),
                        ));
                        continue;
                    }
                }
                // One connection may serve several templates of the same connector.
                Binding::Existing(connection_id.to_owned())
            }
        };
        bound.insert(entry.template_id, binding);
    }
    let mut out = Vec::with_capacity(templates.len());
    let mut missing = Vec::new();
    for t in templates {
        match bound.remove(t.id.as_str()) {
            Some(b) => out.push((t.id.clone(), b)),
            None => match primary {
                Some(p) if t.is_primary && p.connector_id == t.connector_id => {
                    out.push((t.id.clone(), Binding::Existing(p.id.clone())))
                }
                _ if attempted.contains(t.id.as_str()) => {}
                _ => missing.push(t),
            },
        }
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|t| format!("{} ({})", t.id, t.name))
            .collect::<Vec<_>>()
            .join(", ");
        fields.push(FieldError::new(
            field.to_owned(),
            format!("missing connections for the following templates: {list}"),
        ));
    }
    if fields.is_empty() {
        Ok(out)
    } else {
        Err(fields)
    }
}

/// The integration must be deployed to be activated.
pub fn check_deployed(integration: &Integration) -> Result<(), Error> {
    if integration.is_deployed {
        Ok(())
    } else {
        Err(Error::invalid_field(
            "integrationId",
            format!(
                "integration {} is not deployed and cannot be activated",
                integration.id
            ),
        ))
    }
}

/// The message of a 400 for a list of binding and variable problems.
pub fn summarise(fields: &[FieldError]) -> String {
    match fields {
        [one] => one.message.clone(),
        many => format!("the activation request has {} problems", many.len()),
    }
}
