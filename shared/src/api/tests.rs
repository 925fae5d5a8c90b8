//! The `/api/mcp/*` wire, pinned: each shape is written out as the JSON a page or a script sees
//! (ARCHITECTURE.md, “The envelope”). Changing a type without changing its JSON here fails.

use serde_json::{Value, json};

use super::mcp::*;
use crate::challenge::{AuthChallenge, ChallengeContext};
use crate::recovery::Refused;
use crate::secret::Secret;

fn challenge() -> AuthChallenge {
    let context = ChallengeContext {
        method: Some("tools/call".into()),
        tool_name: Some("get-weather".into()),
    };
    let header = br#"Bearer error="insufficient_scope", scope="weather:read""#;
    AuthChallenge::from_response(403, &[header], context).unwrap()
}

/// Both ways: the value writes `json`, and `json` reads back as the value.
fn pinned<T: std::fmt::Debug + PartialEq + serde::Serialize + serde::de::DeserializeOwned>(
    value: Envelope<T>,
    json: Value,
) {
    assert_eq!(value.to_json(), json);
    assert_eq!(Envelope::<T>::from_json(json).unwrap(), value);
}

#[test]
fn a_send_reply_carries_the_response_beside_ok() {
    let response = json!({"jsonrpc": "2.0", "id": 7, "result": {}});
    pinned(
        Envelope::Ok(SendReply {
            response: Some(response.clone()),
        }),
        json!({"ok": true, "response": response}),
    );
    pinned(Envelope::Ok(SendReply::default()), json!({"ok": true}));
}

#[test]
fn a_session_reply_is_camel_case() {
    pinned(
        Envelope::Ok(SessionReply {
            session_id: "s1".into(),
            server_url: "http://127.0.0.1:1/mcp".into(),
            initialize_result: json!({"protocolVersion": "2025-11-25"}),
            protocol_version: Some("2025-11-25".into()),
            upstream_session_id: None,
            transport: "sse".into(),
        }),
        json!({
            "ok": true,
            "sessionId": "s1",
            "serverUrl": "http://127.0.0.1:1/mcp",
            "initializeResult": {"protocolVersion": "2025-11-25"},
            "protocolVersion": "2025-11-25",
            "upstreamSessionId": null,
            "transport": "sse",
        }),
    );
}

#[test]
fn an_auth_challenge_failure_carries_the_normalised_challenge() {
    let challenge = challenge();
    pinned(
        Envelope::<SendReply>::Failed(Failure::AuthChallenge {
            auth_challenge: Box::new(challenge.clone()),
            message: "asks".into(),
        }),
        json!({
            "ok": false,
            "kind": "auth_challenge",
            "authChallenge": serde_json::to_value(&challenge).unwrap(),
            "message": "asks",
        }),
    );
    let shape = serde_json::to_value(&challenge).unwrap();
    assert_eq!(shape["reason"], "insufficient_scope");
    assert_eq!(shape["requiredScopes"], json!(["weather:read"]));
    assert_eq!(shape["context"]["toolName"], "get-weather");
    assert_eq!(shape["raw"]["httpStatus"], 403);
}

#[test]
fn a_transport_error_says_the_status_and_the_hint_only_when_known() {
    pinned(
        Envelope::<SendReply>::Failed(Failure::TransportError {
            message: "HTTP 500".into(),
            http_status: Some(500),
            hint: Some(Hint::TokenNotRecognised),
        }),
        json!({"ok": false, "kind": "transport_error", "message": "HTTP 500",
               "httpStatus": 500, "hint": "token_not_recognised"}),
    );
    pinned(
        Envelope::<SendReply>::Failed(Failure::transport("refused".into())),
        json!({"ok": false, "kind": "transport_error", "message": "refused"}),
    );
}

#[test]
fn a_body_without_ok_or_of_another_shape_is_an_error_not_a_panic() {
    for body in [
        json!({}),
        json!([]),
        json!({"ok": "yes"}),
        json!({"ok": false, "kind": "teapot", "message": "x"}),
        json!({"ok": false, "kind": "auth_challenge", "message": "x"}),
        json!({"ok": false, "kind": "transport_error", "message": "x", "extra": 1}),
        json!({"ok": true, "sessionId": 1}),
    ] {
        assert!(
            Envelope::<SessionReply>::from_json(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn failures_read_as_the_recovery_engine_expects() {
    let not_recognised = Failure::TransportError {
        message: "HTTP 500".into(),
        http_status: Some(500),
        hint: Some(Hint::TokenNotRecognised),
    };
    assert!(matches!(
        not_recognised.refused(),
        Refused::NotRecognised { status: 500, .. }
    ));
    assert!(matches!(
        Failure::transport("down".into()).refused(),
        Refused::Other(_)
    ));
    let challenged = Failure::AuthChallenge {
        auth_challenge: Box::new(challenge()),
        message: String::new(),
    };
    assert_eq!(
        match challenged.refused() {
            Refused::Challenge(c) => *c,
            other => panic!("{other:?}"),
        },
        challenge()
    );
}

#[test]
fn request_bodies_are_pinned() {
    let connect = ConnectRequest {
        config: TransportConfig {
            kind: "streamable-http".into(),
            url: "http://127.0.0.1:1/mcp".into(),
            headers: [("X-Team".to_owned(), "a".to_owned())].into(),
            protocol_version: Some("2026-07-28".into()),
            ..TransportConfig::default()
        },
        auth_state: Some(AuthState {
            tokens: BearerToken {
                access_token: Secret::new("tok"),
                token_type: Some("Bearer".into()),
            },
        }),
    };
    let json = json!({
        "config": {"type": "streamable-http", "url": "http://127.0.0.1:1/mcp",
                   "headers": {"X-Team": "a"}, "protocolVersion": "2026-07-28"},
        "authState": {"tokens": {"access_token": "tok", "token_type": "Bearer"}},
    });
    assert_eq!(serde_json::to_value(&connect).unwrap(), json);
    assert_eq!(
        serde_json::from_value::<ConnectRequest>(json).unwrap(),
        connect
    );
    let stdio = json!({"config": {"type": "stdio", "command": "npx",
        "args": ["-y", "server"], "env": {"API_KEY": "k"}, "cwd": "/tmp"}});
    let typed: ConnectRequest = serde_json::from_value(stdio.clone()).unwrap();
    assert_eq!(typed.config.command.as_deref(), Some("npx"));
    assert_eq!(typed.config.url, "");
    assert_eq!(serde_json::to_value(&typed).unwrap(), stdio);
    let send = json!({"sessionId": "s1", "message": {"jsonrpc": "2.0", "method": "ping", "id": 1}});
    let typed: SendRequest = serde_json::from_value(send.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), send);
    let unknown = json!({"sessionId": "s1", "message": {}, "extra": 1});
    assert!(serde_json::from_value::<SendRequest>(unknown).is_err());
    assert!(
        !format!("{connect:?}").contains("tok\""),
        "the token is redacted in Debug"
    );
}

#[test]
fn every_event_is_pinned_by_name_and_data() {
    let failure = Failure::AuthChallenge {
        auth_challenge: Box::new(challenge()),
        message: "asks".into(),
    };
    let events = [
        (
            SessionEvent::Message(json!({"jsonrpc": "2.0", "method": "notifications/progress"})),
            "message",
            json!({"jsonrpc": "2.0", "method": "notifications/progress"}),
        ),
        (
            SessionEvent::AuthChallenge(failure.clone()),
            "auth_challenge",
            Envelope::<Done>::Failed(failure).to_json(),
        ),
        (
            SessionEvent::Notice(Notice {
                message: "reopened".into(),
            }),
            "notice",
            json!({"message": "reopened"}),
        ),
        (
            SessionEvent::Dropped(Dropped {
                events: 3,
                messages: 1,
                reason: "slow".into(),
            }),
            "dropped",
            json!({"events": 3, "messages": 1, "reason": "slow"}),
        ),
        (
            SessionEvent::Console(ConsoleLine {
                line: "listening on stdio".into(),
            }),
            "console",
            json!({"line": "listening on stdio"}),
        ),
    ];
    for (event, name, data) in events {
        assert_eq!(event.name(), name);
        assert_eq!(serde_json::from_str::<Value>(&event.data()).unwrap(), data);
        assert_eq!(SessionEvent::parse(name, &event.data()).unwrap(), event);
        assert!(SessionEvent::NAMES.contains(&name));
    }
    assert_eq!(
        SessionEvent::NAMES.len(),
        6,
        "a new event needs its pinned data here"
    );
    assert!(SessionEvent::parse("teapot", "{}").is_err());
    assert!(SessionEvent::parse("dropped", "{\"events\": \"x\"}").is_err());
    assert!(SessionEvent::parse("auth_challenge", "{\"ok\": true}").is_err());
}
