//! CORS for MCP clients running in a browser page: the MCP endpoints and the metadata documents
//! answer preflights and may be read from any origin, with `WWW-Authenticate` and
//! `Mcp-Session-Id` exposed so such a client can follow a 401. The control API and the sign-in
//! pages get none of it.
//!
//! Written here rather than with tower-http's `CorsLayer` because a server configured with the
//! `noCors` flaw must go without, per server, which a layer fixed at start cannot decide.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::ServerFlaw;
use crate::state::TestbedState;

const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID";
const EXPOSE_HEADERS: &str = "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version";

/// The server a path belongs to, for the paths that get CORS: `Some(None)` for the
/// authorization server's metadata, `None` for paths without CORS.
fn cors_scope(path: &str) -> Option<Option<&str>> {
    if path.starts_with("/.well-known/oauth-authorization-server") {
        return Some(None);
    }
    let rest = path
        .strip_prefix("/.well-known/oauth-protected-resource")
        .unwrap_or(path);
    let name = rest.strip_prefix("/servers/")?.split('/').next()?;
    Some(Some(name))
}

/// The middleware.
pub async fn cors(
    State(state): State<Arc<TestbedState>>,
    request: Request,
    next: Next,
) -> Response {
    let wanted = request.headers().contains_key(header::ORIGIN);
    let allowed = match cors_scope(request.uri().path()) {
        Some(Some(name)) => state
            .server(name)
            .is_some_and(|server| !server.has_flaw(ServerFlaw::NoCors)),
        Some(None) => true,
        None => false,
    };
    if !(wanted && allowed) {
        return next.run(request).await;
    }
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let mut added = vec![
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS),
    ];
    if preflight {
        added.extend([
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, DELETE, OPTIONS",
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ]);
    }
    for (name, value) in added {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::cors_scope;

    #[test]
    fn only_mcp_endpoints_and_metadata_get_cors() {
        assert_eq!(cors_scope("/servers/demo/mcp"), Some(Some("demo")));
        assert_eq!(cors_scope("/servers/demo/sse"), Some(Some("demo")));
        assert_eq!(
            cors_scope("/.well-known/oauth-protected-resource/servers/demo/mcp"),
            Some(Some("demo"))
        );
        assert_eq!(
            cors_scope("/.well-known/oauth-authorization-server/oauth"),
            Some(None)
        );
        for path in [
            "/control/api/state",
            "/oauth/token",
            "/oauth/authorize",
            "/idp/token",
            "/",
        ] {
            assert_eq!(cors_scope(path), None, "{path}");
        }
    }
}
