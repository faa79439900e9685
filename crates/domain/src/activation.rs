//! The activation engine, for both API generations: from the templates an end user must fill
//! (a v1 integration's connection templates, a v2 environment's), the entries of the request,
//! the existing connections those entries name and the variables' validation, to a [`Plan`]
//! (which template is served by which existing, fallback or new connection, and the variables
//! with their defaults) or every problem at once ([`Refusal`]). Pure: the faces decode their wire
//! encoding into [`Slot`]s and [`Entry`]s, look up what the engine needs, and write what the plan
//! says. A v1 primary template falls back on the user's primary connection, a v2 static one on
//! the environment's static connection: both are a [`Slot::fallback`].
use crate::connection::Owner;
use crate::error::{Error, FieldError};
use crate::model::{Connection, Integration};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// One template an activation must serve.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The connector (v2: system) its connection must be to.
    pub connector_id: &'a str,
    /// The connection that serves it when the request leaves it out, if any.
    pub fallback: Option<&'a str>,
}

/// What one entry of the request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// An existing connection, by id.
    Existing(&'a str),
    /// A connection the request describes (built by the connection service).
    New,
    /// Neither: a malformed entry.
    Neither,
}

/// One entry of the request's list of connections.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub template_id: &'a str,
    pub request: Request<'a>,
}

/// What serves one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// An existing connection the request named.
    Existing(String),
    /// The new connection of request entry `index`.
    New(usize),
    /// The template's fallback connection (the request left it out).
    Fallback(String),
}

/// The API's own words for what it calls things: field names in error paths, and nouns.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    /// The request's list (`connections`).
    pub list: &'static str,
    /// An entry's template id field (`templateId`, `connectionTemplateId`).
    pub template_field: &'static str,
    /// An entry's existing connection field (`connectionId`, `existingConnectionId`).
    pub existing_field: &'static str,
    /// Where a malformed entry is reported, under the entry (`""`, `.connection`), and why.
    pub neither_field: &'static str,
    pub neither_message: &'static str,
    /// What holds the templates (`integration`, `environment`).
    pub scope: &'static str,
    /// What a connection is to (`connector`, `system`).
    pub connector: &'static str,
}

/// The rules that differ between the API generations.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub words: Words,
    /// Whether the organisation's own connections (v2 static ones) may serve a template.
    pub organisation_connections: bool,
}

/// A template no entry served and no fallback could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub template_id: String,
    pub name: String,
}

/// Everything wrong with an activation request: field errors in the order found (entries,
/// existing connections, variables), and the templates left unserved, which each face reports in
/// its own words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    pub fields: Vec<FieldError>,
    pub missing: Vec<Missing>,
}

/// What an activation writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<T> {
    /// In template order.
    pub bindings: Vec<(String, Binding)>,
    /// The new connections, by the index of the entry that describes each.
    pub new: Vec<(usize, T)>,
    pub variables: Map<String, Value>,
}

impl<T> Plan<T> {
    /// The new connection of entry `index`, once (`None` when taken already).
    pub fn take_new(&mut self, index: usize) -> Option<T> {
        let at = self.new.iter().position(|(i, _)| *i == index)?;
        Some(self.new.remove(at).1)
    }
}

/// Whether `connection` may serve `slot` for the end user `user`; the error names `field`.
pub fn check_existing(
    slot: &Slot<'_>,
    connection_id: &str,
    connection: Option<&Connection>,
    user: &Owner,
    rules: &Rules,
    field: &str,
) -> Result<(), FieldError> {
    let w = &rules.words;
    let Some(c) = connection else {
        return Err(FieldError::new(
            field,
            format!("connection {connection_id} is not a connection of this organisation"),
        ));
    };
    let owner = Owner::of(c);
    let allowed =
        owner == *user || (rules.organisation_connections && owner == Owner::Organisation);
    if !allowed {
        return Err(FieldError::new(
            field,
            format!("connection {connection_id} is not a connection of this end user"),
        ));
    }
    if c.connector_id != slot.connector_id {
        return Err(FieldError::new(
            field,
            format!(
                "connection {connection_id} is for {noun} {}, but template {} needs {noun} {}",
                c.connector_id,
                slot.id,
                slot.connector_id,
                noun = w.connector
            ),
        ));
    }
    Ok(())
}

/// Binds every slot to a connection: the entry naming it (an existing connection, checked, or a
/// new one, made by `build_new` from the entry's index and its slot), else its fallback. Entries
/// naming no slot, a slot twice, or nothing at all are refused; so are slots left without a
/// connection, and new connections `build_new` refuses. `variables` is the outcome of validating
/// the request's variables (see [`crate::variables`]), whose violations join the refusal.
pub fn plan<T>(
    slots: &[Slot<'_>],
    entries: &[Entry<'_>],
    existing: &HashMap<String, Connection>,
    user: &Owner,
    rules: &Rules,
    variables: Result<Map<String, Value>, Vec<FieldError>>,
    mut build_new: impl FnMut(usize, &Slot<'_>) -> Result<T, Vec<FieldError>>,
) -> Result<Plan<T>, Refusal> {
    let w = &rules.words;
    let by_id: HashMap<&str, &Slot<'_>> = slots.iter().map(|s| (s.id, s)).collect();
    let mut refusal = Refusal::default();
    let mut bound: HashMap<&str, Binding> = HashMap::new();
    // Slots an entry tried to serve: when that entry is wrong, its own error says so, and the
    // slot is not also reported missing.
    let mut attempted: HashSet<&str> = HashSet::new();
    let mut to_check = Vec::new();
    let mut to_build = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{}[{i}]", w.list);
        let Some(slot) = by_id.get(entry.template_id) else {
            refusal.fields.push(FieldError::new(
                format!("{at}.{}", w.template_field),
                format!(
                    "{} is not a connection template of this {}",
                    entry.template_id, w.scope
                ),
            ));
            continue;
        };
        if !attempted.insert(slot.id) {
            refusal.fields.push(FieldError::new(
                format!("{at}.{}", w.template_field),
                format!(
                    "names template {} ({}), which another entry already serves",
                    slot.id, slot.name
                ),
            ));
            continue;
        }
        match entry.request {
            Request::New => to_build.push((i, *slot)),
            Request::Existing(id) => to_check.push((i, *slot, id)),
            Request::Neither => refusal.fields.push(FieldError::new(
                format!("{at}{}", w.neither_field),
                w.neither_message,
            )),
        }
    }
    for (i, slot, id) in to_check {
        let field = format!("{}[{i}].{}", w.list, w.existing_field);
        match check_existing(slot, id, existing.get(id), user, rules, &field) {
            Ok(()) => {
                bound.insert(slot.id, Binding::Existing(id.to_owned()));
            }
            Err(e) => refusal.fields.push(e),
        }
    }
    let mut new = Vec::new();
    for (i, slot) in to_build {
        match build_new(i, slot) {
            Ok(t) => {
                new.push((i, t));
                bound.insert(slot.id, Binding::New(i));
            }
            Err(mut f) => refusal.fields.append(&mut f),
        }
    }
    let mut bindings = Vec::with_capacity(slots.len());
    for slot in slots {
        match bound.remove(slot.id) {
            Some(b) => bindings.push((slot.id.to_owned(), b)),
            None if attempted.contains(slot.id) => {}
            None => match slot.fallback {
                Some(c) => bindings.push((slot.id.to_owned(), Binding::Fallback(c.to_owned()))),
                None => refusal.missing.push(Missing {
                    template_id: slot.id.to_owned(),
                    name: slot.name.to_owned(),
                }),
            },
        }
    }
    let variables = match variables {
        Ok(v) => v,
        Err(mut f) => {
            refusal.fields.append(&mut f);
            Map::new()
        }
    };
    if refusal.fields.is_empty() && refusal.missing.is_empty() {
        Ok(Plan {
            bindings,
            new,
            variables,
        })
    } else {
        Err(refusal)
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

#[cfg(test)]
mod tests;
