//! What an operation may answer besides its own outcomes, added to every
//! operation of the OpenAPI document from what the operation declares: the
//! extractors and the authentication in front of each handler answer these
//! the same way everywhere (`http/extract.rs`, `http/query.rs`,
//! `http/auth.rs`, `flows/idempotency.rs`), so a handler's own
//! `#[utoipa::path]` lists only what is its own. A status an operation
//! already documents keeps its own description.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::http::fields::CHECKED_REQUESTS;

/// Adds to each operation: 400 where it reads a body or parameters, 401
/// where it needs a credential, 404 where a path names a resource, 409
/// where it takes an `Idempotency-Key`, 422 where its body's fields are
/// checked for size and characters (`http/fields.rs`).
pub fn add_common_responses(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add(operation);
        }
    }
}

fn add(operation: &mut Operation) {
    let parameters: Vec<(String, ParameterIn)> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|parameter| match parameter {
            RefOr::T(parameter) => Some((parameter.name.clone(), parameter.parameter_in.clone())),
            RefOr::Ref(_) => None,
        })
        .collect();
    if operation.request_body.is_some() || !parameters.is_empty() {
        insert(
            operation,
            "400",
            "invalid_request: a body, parameter or header that cannot be read (`param` names it)",
        );
    }
    if operation
        .request_body
        .as_ref()
        .is_some_and(|body| match body {
            RefOr::T(body) => body.content.values().any(names_checked_request),
            RefOr::Ref(_) => false,
        })
    {
        insert(
            operation,
            "422",
            "field_too_long, invalid_characters: a field too long or with characters it does not take (`param` names it)",
        );
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        insert(
            operation,
            "401",
            "unauthenticated: no credential, or one that is unknown, revoked or expired",
        );
    }
    if parameters.iter().any(|(_, at)| *at == ParameterIn::Path) {
        insert(
            operation,
            "404",
            "not_found: nothing by that id for this caller",
        );
    }
    if parameters.iter().any(|(name, at)| {
        *at == ParameterIn::Header && name.eq_ignore_ascii_case("Idempotency-Key")
    }) {
        insert(
            operation,
            "409",
            "idempotency_conflict: the key was used with another request",
        );
    }
}

fn names_checked_request(content: &RefOr<Content>) -> bool {
    let RefOr::T(Content {
        schema: Some(RefOr::Ref(schema)),
        ..
    }) = content
    else {
        return false;
    };
    schema
        .ref_location
        .rsplit('/')
        .next()
        .is_some_and(|name| CHECKED_REQUESTS.contains(&name))
}

fn insert(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                            .build(),
                    )
                    .build(),
            )
        });
}
