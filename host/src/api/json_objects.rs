//! Every JSON body the API takes is an object. serde also reads a struct
//! from an array of its fields in order (`[true, "why"]` for
//! `{"active": true, "reason": "why"}`), which the document does not
//! promise and a client should not come to rely on; this layer refuses any
//! other JSON value before a handler sees it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Middleware: a JSON body that is not an object is 400 `invalid_input`;
/// one over `limit` bytes is 413 `body_too_large`, as the extractors say.
pub async fn only_objects(limit: usize, request: Request, next: Next) -> Response {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than this route takes",
        )
        .into_response();
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return ApiError::invalid_input("the body must be a JSON object").into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
