//! The rules `keyhole doctor` checks: each names its requirement level, the document and section
//! it comes from, and how a server author fixes a server that breaks it. Findings point here by
//! id, so the wording lives in one place and the report stays small.
//!
//! Sections of the MCP specification are those of revision 2026-07-28 (`basic/authorization`).

use serde::{Deserialize, Serialize};

/// The strength of a requirement (RFC 2119).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
    /// Not a requirement: what the doctor tells for information.
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::May => "MAY",
        }
    }
}

/// One rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    /// Document and section, e.g. "RFC 9728 §3.3".
    pub source: &'static str,
    /// What a conforming server does.
    pub statement: &'static str,
    /// How to make a server that breaks the rule conform.
    pub fix: &'static str,
}

const MCP_AUTH: &str = "MCP 2026-07-28 Authorization";

/// Every rule, in the order a report lists its sections.
pub const RULES: &[Rule] = &[
    Rule {
        id: "transport-https",
        level: Level::Must,
        source: "OAuth 2.1 §1.5; MCP 2026-07-28 Security Considerations, Communication Security",
        statement: "The MCP server and every authorization-server endpoint are served over HTTPS (plain HTTP only on loopback).",
        fix: "Serve the server and the authorization server over HTTPS.",
    },
    Rule {
        id: "challenge-401",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization, Error Handling; RFC 6750 §3",
        statement: "A request without an access token is answered 401 with a `WWW-Authenticate: Bearer` challenge (`DPoP` where only DPoP-bound tokens are taken, RFC 9449 §7.1).",
        fix: "Answer requests that carry no `Authorization` header with 401 and `WWW-Authenticate: Bearer resource_metadata=\"…\"`.",
    },
    Rule {
        id: "challenge-syntax",
        level: Level::Must,
        source: "RFC 9110 §11.6.1; RFC 6750 §3",
        statement: "`WWW-Authenticate` follows the challenge grammar (quoted values, comma-separated parameters, each parameter once).",
        fix: "Quote parameter values, separate parameters with commas and send each parameter once.",
    },
    Rule {
        id: "challenge-no-error-without-token",
        level: Level::Should,
        source: "RFC 6750 §3.1",
        statement: "A request that carried no credentials is answered without an `error` code (`invalid_token` is for a token that was sent and refused).",
        fix: "Leave `error` out of the 401 challenge when the request had no `Authorization` header.",
    },
    Rule {
        id: "challenge-resource-metadata",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization Server Discovery, Protected Resource Metadata Discovery Requirements; RFC 9728 §5.1",
        statement: "The 401 challenge names the protected-resource metadata in `resource_metadata` (else clients must guess well-known URLs).",
        fix: "Add `resource_metadata=\"<URL of the protected-resource metadata>\"` to the 401 challenge.",
    },
    Rule {
        id: "challenge-scope",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Scope Selection Strategy",
        statement: "The 401 challenge names the scopes to ask for in `scope`.",
        fix: "Add `scope=\"<the scopes a client needs>\"` to the 401 challenge.",
    },
    Rule {
        id: "challenge-expose-headers",
        level: Level::Should,
        source: "Fetch Standard §3.2.3 (CORS protocol); MCP 2026-07-28 Authorization Server Discovery",
        statement: "Browser clients can read the challenge: the 401 answer to a cross-origin request exposes `WWW-Authenticate` (`Access-Control-Expose-Headers`).",
        fix: "Send `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers: WWW-Authenticate, Mcp-Session-Id` with 401 answers.",
    },
    Rule {
        id: "cors-preflight",
        level: Level::Should,
        source: "Fetch Standard §3.2.2–3.2.3 (CORS protocol)",
        statement: "Browser clients may POST to the server: the preflight allows the origin, `POST` and the `Authorization`, `Content-Type`, `Mcp-Protocol-Version` and `Mcp-Session-Id` headers (`*` does not cover `Authorization`).",
        fix: "Answer `OPTIONS` with `Access-Control-Allow-Origin`, `Access-Control-Allow-Methods: GET, POST, DELETE` and `Access-Control-Allow-Headers` naming `Authorization` and the MCP headers.",
    },
    Rule {
        id: "cors-metadata",
        level: Level::Should,
        source: "RFC 8414 §3; RFC 9728 §3; Fetch Standard §3.2 (CORS protocol)",
        statement: "Browser clients can read the metadata documents: they are served with `Access-Control-Allow-Origin`.",
        fix: "Serve the protected-resource and authorization-server metadata with `Access-Control-Allow-Origin: *`.",
    },
    Rule {
        id: "prm-published",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization, Overview 4; Authorization Server Discovery; RFC 9728 §3",
        statement: "The server publishes protected-resource metadata, at the challenge's `resource_metadata` URL or a well-known URL (path-aware first, then the root).",
        fix: "Serve RFC 9728 metadata at `/.well-known/oauth-protected-resource<path of the MCP endpoint>`.",
    },
    Rule {
        id: "prm-document",
        level: Level::Must,
        source: "RFC 9728 §3.2",
        statement: "The protected-resource metadata is a JSON object with a `resource` string.",
        fix: "Answer 200 with `Content-Type: application/json` and a JSON object holding `resource` and `authorization_servers`.",
    },
    Rule {
        id: "prm-resource",
        level: Level::Must,
        source: "RFC 9728 §3.3; MCP 2026-07-28 Authorization, Canonical Server URI",
        statement: "The metadata's `resource` is identical to the server's URL, the one clients send as `resource` (RFC 8707).",
        fix: "Set `resource` to the exact URL clients connect to (same scheme, host, port, path, and trailing slash or not).",
    },
    Rule {
        id: "prm-authorization-servers",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization Server Discovery, Authorization Server Location",
        statement: "`authorization_servers` lists at least one authorization server.",
        fix: "List the issuer of your authorization server in `authorization_servers`.",
    },
    Rule {
        id: "as-published",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization, Overview 5; Authorization Server Discovery; RFC 8414 §3",
        statement: "The authorization server publishes RFC 8414 or OpenID Connect discovery metadata at a well-known URL of its issuer, in the order MCP clients try.",
        fix: "Serve RFC 8414 metadata at `/.well-known/oauth-authorization-server<issuer path>`.",
    },
    Rule {
        id: "as-issuer",
        level: Level::Must,
        source: "RFC 8414 §3.3",
        statement: "The metadata's `issuer` is identical to the issuer it was fetched for.",
        fix: "Make `issuer` the exact URL listed in `authorization_servers` (and the one the well-known URL was built from).",
    },
    Rule {
        id: "as-endpoints",
        level: Level::Must,
        source: "RFC 8414 §2",
        statement: "The metadata names `authorization_endpoint`, `token_endpoint` and `response_types_supported`, with absolute URLs.",
        fix: "Add the missing fields to the authorization-server metadata.",
    },
    Rule {
        id: "as-pkce-s256",
        level: Level::Must,
        source: "MCP 2026-07-28 Security Considerations, Authorization Code Protection; OAuth 2.1 §4.1.1",
        statement: "`code_challenge_methods_supported` includes `S256`; without it MCP clients must refuse to proceed.",
        fix: "Support PKCE with S256 and announce `\"code_challenge_methods_supported\": [\"S256\"]`.",
    },
    Rule {
        id: "as-client-registration",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Overview 2–3; Client Registration",
        statement: "Clients can identify themselves without pre-registration: Client ID Metadata Documents (`client_id_metadata_document_supported`), or dynamic registration (`registration_endpoint`, deprecated).",
        fix: "Support Client ID Metadata Documents and announce `\"client_id_metadata_document_supported\": true`.",
    },
    Rule {
        id: "as-iss-parameter",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Authorization Response Validation; RFC 9207 §2–3",
        statement: "The authorization server sends `iss` in authorization responses and announces `authorization_response_iss_parameter_supported`.",
        fix: "Add `iss` to every authorization response and `\"authorization_response_iss_parameter_supported\": true` to the metadata.",
    },
    Rule {
        id: "as-refresh-tokens",
        level: Level::May,
        source: "MCP 2026-07-28 Authorization, Refresh Tokens",
        statement: "The authorization server announces the `refresh_token` grant, so sessions outlive an access token without a new sign-in.",
        fix: "Issue refresh tokens and list `refresh_token` in `grant_types_supported`.",
    },
    Rule {
        id: "client-identity",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Client Registration Approaches",
        statement: "A client without a registration in advance obtains one: a Client ID Metadata Document, else dynamic registration (RFC 7591).",
        fix: "Support Client ID Metadata Documents (or RFC 7591 registration), or give users a client id to configure.",
    },
    Rule {
        id: "authorization-request",
        level: Level::Must,
        source: "OAuth 2.1 §4.1.1; RFC 7636 §4.3; RFC 8707 §2; MCP 2026-07-28 Authorization, Resource Parameter Implementation",
        statement: "The authorization request carries `response_type=code`, `client_id`, `redirect_uri`, `state`, an S256 `code_challenge` and `resource`.",
        fix: "Accept these parameters at the authorization endpoint (and `scope` when given).",
    },
    Rule {
        id: "callback-state",
        level: Level::Must,
        source: "RFC 6749 §4.1.2; OAuth 2.1 §4.1.2",
        statement: "The authorization response returns the request's `state` unchanged.",
        fix: "Redirect back with `state` exactly as received, on success and on error.",
    },
    Rule {
        id: "callback-iss",
        level: Level::Must,
        source: "RFC 9207 §2",
        statement: "An authorization server that announces `authorization_response_iss_parameter_supported` puts `iss`, equal to its issuer, in every authorization response.",
        fix: "Add `iss=<issuer>` to the redirect (success and error), exactly the `issuer` of the metadata.",
    },
    Rule {
        id: "callback-code",
        level: Level::Must,
        source: "RFC 6749 §4.1.2 and §4.1.2.1",
        statement: "The authorization response carries a `code`, or an `error` the client can report.",
        fix: "Redirect back with `code`, or with `error` and `error_description`.",
    },
    Rule {
        id: "token-response",
        level: Level::Must,
        source: "RFC 6749 §5.1; OAuth 2.1 §3.2.3",
        statement: "The token endpoint exchanges the code (with the PKCE verifier and `resource`) for an `access_token` of `token_type` Bearer.",
        fix: "Answer the code exchange with 200 and `access_token`, `token_type`, `expires_in` (and `scope` when it differs).",
    },
    Rule {
        id: "token-refresh-issued",
        level: Level::May,
        source: "MCP 2026-07-28 Authorization, Refresh Tokens; OAuth 2.1 §4.3",
        statement: "A refresh token comes with the access token, so the session outlives it without a new sign-in.",
        fix: "Issue a refresh token to clients that may use the `refresh_token` grant.",
    },
    Rule {
        id: "token-scopes-granted",
        level: Level::May,
        source: "RFC 6749 §3.3",
        statement: "The scopes granted cover those requested (a narrower grant is said in `scope`).",
        fix: "Grant the requested scopes, or say in the token response's `scope` which were granted.",
    },
    Rule {
        id: "invalid-token-401",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization, Token Handling; RFC 6750 §3.1",
        statement: "An invalid or expired token is answered 401 (with `error=\"invalid_token\"`), never 5xx or success.",
        fix: "Treat a token that fails validation as the client's error: 401 with `WWW-Authenticate: Bearer error=\"invalid_token\"`.",
    },
    Rule {
        id: "audience-401",
        level: Level::Must,
        source: "MCP 2026-07-28 Authorization, Token Handling; Security Considerations, Token Audience Binding and Validation",
        statement: "A token issued for another resource (audience) is refused with 401.",
        fix: "Check the token's audience (`aud` or the introspected resource) against this server's URL and answer 401 when it differs.",
    },
    Rule {
        id: "token-accepted",
        level: Level::May,
        source: "MCP 2026-07-28 Authorization, Access Token Usage",
        statement: "The token given to the doctor is accepted for `initialize`.",
        fix: "Check the token's scopes, audience and expiry.",
    },
    Rule {
        id: "refresh-grant",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Refresh Tokens; RFC 6749 §6",
        statement: "The refresh token issued with the access token gets a new access token at the token endpoint.",
        fix: "Accept the `refresh_token` grant for the client and resource the token was issued to (with `resource` per RFC 8707).",
    },
    Rule {
        id: "refresh-rotation",
        level: Level::Must,
        source: "OAuth 2.1 §4.3.1; RFC 9700 §4.14.2",
        statement: "For public clients, refresh tokens are sender-constrained or rotated: each refresh issues a new refresh token and invalidates the one used.",
        fix: "Rotate refresh tokens on use (or bind them with DPoP) for public clients.",
    },
    Rule {
        id: "insufficient-scope-403",
        level: Level::Should,
        source: "MCP 2026-07-28 Authorization, Runtime Insufficient Scope Errors; RFC 6750 §3.1",
        statement: "A token lacking a scope is answered 403 with `error=\"insufficient_scope\"` and the needed scopes in `scope`.",
        fix: "Answer 403 with `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"<needed scopes>\", resource_metadata=\"…\"`.",
    },
];

/// The rule with `id`; every id the checks use is in [`RULES`] (a test holds it to that).
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| rule.id == id)
        .unwrap_or(&UNKNOWN_RULE)
}

const UNKNOWN_RULE: Rule = Rule {
    id: "unknown",
    level: Level::May,
    source: MCP_AUTH,
    statement: "",
    fix: "",
};
