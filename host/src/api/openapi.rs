//! What the routers' generated document cannot say per handler: the
//! answers every operation shares (the authentication layers', the body
//! limits', service mode), bearer security, and the ERP's `X-H2H-User`
//! header. Each answer names `ErrorBody`, so the document says exactly what
//! the layers send.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn, PathItem};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};

use super::auth::ERP_USER_HEADER;

/// Every ERP operation: the user header, bearer security, and the answers
/// of the authentication and gate layers and of the body limits.
pub(super) fn erp_common(item: &mut PathItem) {
    let mut header = Parameter::new(ERP_USER_HEADER);
    header.parameter_in = ParameterIn::Header;
    header.required = Required::True;
    header.description = Some("The ERP user this request acts for (an id the admin added).".into());
    header.schema = Some(RefOr::T(
        utoipa::openapi::schema::Object::with_type(utoipa::openapi::schema::Type::String).into(),
    ));
    let parameters = item.parameters.get_or_insert_with(Vec::new);
    if !parameters
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.name == ERP_USER_HEADER))
    {
        parameters.push(RefOr::T(header));
    }
    for operation in operations(item) {
        bearer(operation);
        if names_a_resource(operation) {
            error(
                operation,
                "404",
                "What the path names does not exist or is not the user's (`unknown_*`)",
            );
        }
        for (status, description) in [
            (
                "400",
                "Invalid input, or `X-H2H-User` missing (`erp_user_required`)",
            ),
            ("401", "No or unknown API key (`unauthorized`)"),
            (
                "403",
                "Unknown or disabled ERP user (`unknown_erp_user`), or not allowed (`forbidden`)",
            ),
            ("503", "Service mode (`service_mode`), with `Retry-After`"),
        ] {
            error(operation, status, description);
        }
        body_limits(operation);
    }
}

/// Every admin operation: bearer security, the answers of the admin key
/// check, and of the body limits.
pub(super) fn admin_common(item: &mut PathItem) {
    for operation in operations(item) {
        bearer(operation);
        error(operation, "401", "No or unknown API key (`unauthorized`)");
        error(
            operation,
            "403",
            "The key is not an admin key (`forbidden`)",
        );
        // Every admin operation reads what admin wrote: what it names may be
        // gone, may conflict, or may be refused (`AdminError`'s codes).
        if names_a_resource(operation) {
            error(
                operation,
                "404",
                "What the path names does not exist (`not_installed`, `unknown_company`, `unknown_erp_user`, ...)",
            );
        }
        error(
            operation,
            "409",
            "It conflicts with the current state (exists already, busy, installed, service mode, ...)",
        );
        error(
            operation,
            "422",
            "Well-formed but refused (an invalid value, an untrusted key, a bad package or license; see `code`)",
        );
        body_limits(operation);
    }
}

/// Whether the path has a parameter: the thing it names may not exist.
fn names_a_resource(operation: &Operation) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path)))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

fn bearer(operation: &mut Operation) {
    let security = operation.security.get_or_insert_with(Vec::new);
    if security.is_empty() {
        security.push(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
}

/// An operation with a body: what the body extractors and limits answer.
fn body_limits(operation: &mut Operation) {
    let Some(body) = &operation.request_body else {
        return;
    };
    let json = match body {
        RefOr::T(body) => body.content.contains_key("application/json"),
        RefOr::Ref(_) => true,
    };
    error(
        operation,
        "400",
        "The body or a parameter is invalid (`invalid_input`)",
    );
    error(
        operation,
        "413",
        "The body is larger than the route takes (`body_too_large`)",
    );
    if json {
        error(
            operation,
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
        );
        error(
            operation,
            "422",
            "The JSON does not fit the body's schema (`invalid_input`)",
        );
    }
}

/// Documents `status` as an `ErrorBody` answer, unless the handler did.
fn error(operation: &mut Operation, status: &str, description: &str) {
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
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
}
