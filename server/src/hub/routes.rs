//! The `/api/mcp/*` routes (see ARCHITECTURE.md, “The backend API”). Misuse of our API is a 4xx
//! [`AppError`]; everything the upstream server does is an HTTP 200 envelope ([`Reply`]).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use keyhole_shared::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::envelope::{Failure, Reply, context_of};
use super::{ConnectSpec, Delivery, Hub, Session, dropped_frame};
use crate::error::{ApiJson, AppError};
use crate::mcp_client::{ClientConfig, Credentials, SendError};

pub fn router() -> Router<Arc<Hub>> {
    Router::new()
        .route("/connect", post(connect))
        .route("/send", post(send))
        .route("/events", get(events))
        .route("/log", get(network_log))
        .route("/session", get(describe_session))
        .route("/auth-state", post(auth_state))
        .route("/disconnect", post(disconnect))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectRequest {
    config: TransportConfig,
    #[serde(default)]
    auth_state: Option<AuthState>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransportConfig {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// What the page holds for a server. Deliberately not `Debug`: it carries tokens.
#[derive(Deserialize)]
struct AuthState {
    tokens: TokenSet,
}

#[derive(Deserialize)]
struct TokenSet {
    access_token: Secret,
    #[serde(default)]
    token_type: Option<String>,
}

impl AuthState {
    fn bearer(self) -> Result<Secret, AppError> {
        match self.tokens.token_type.as_deref() {
            None => Ok(self.tokens.access_token),
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => Ok(self.tokens.access_token),
            Some(kind) => Err(AppError::BadRequest(format!(
                "token_type {kind:?} is not supported; use Bearer"
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRef {
    session_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendRequest {
    session_id: String,
    message: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuthStateRequest {
    session_id: String,
    auth_state: AuthState,
}

fn session(hub: &Hub, id: &str) -> Result<Arc<Session>, AppError> {
    hub.get(id).ok_or_else(|| {
        AppError::NotFound(format!(
            "no Keyhole session {id:?} (it ended or never existed)"
        ))
    })
}

/// Headers Keyhole sets itself; a custom value would duplicate them and break the token hot swap.
const MANAGED_HEADERS: &[&str] = &[
    "authorization",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "host",
    "content-type",
    "accept",
    "content-length",
];

fn client_config(config: TransportConfig) -> Result<ClientConfig, AppError> {
    if config.kind != "streamable-http" {
        return Err(AppError::BadRequest(format!(
            "transport {:?} is not supported; Keyhole connects over \"streamable-http\"",
            config.kind
        )));
    }
    let endpoint = url::Url::parse(&config.url)
        .map_err(|e| AppError::BadRequest(format!("{:?} is not a URL: {e}", config.url)))?;
    if !matches!(endpoint.scheme(), "http" | "https") {
        return Err(AppError::BadRequest(format!(
            "{:?} is not an http(s) URL",
            config.url
        )));
    }
    let mut client_config = ClientConfig::new(endpoint);
    for (name, value) in config.headers {
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AppError::BadRequest(format!("{name:?} is not a valid header name")))?;
        if MANAGED_HEADERS
            .iter()
            .any(|managed| managed.eq_ignore_ascii_case(&name))
        {
            return Err(AppError::BadRequest(format!(
                "header {name:?} is managed by Keyhole (tokens go in `authState`); remove it from `headers`"
            )));
        }
        reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
            AppError::BadRequest(format!("the value of header {name:?} is not valid"))
        })?;
        client_config.headers.push((name, value));
    }
    Ok(client_config)
}

async fn connect(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<ConnectRequest>,
) -> Result<Reply, AppError> {
    let config = client_config(request.config)?;
    let bearer = request.auth_state.map(AuthState::bearer).transpose()?;
    let spec = ConnectSpec {
        config,
        credentials: Credentials::new(bearer),
    };
    Ok(match hub.connect(spec).await {
        Ok(session) => Reply::Ok(describe(&session)),
        Err(failure) => Reply::Failed(failure),
    })
}

/// What a page needs to show a session: the `connect` reply, plus the server URL.
fn describe(session: &Session) -> Value {
    json!({
        "sessionId": session.id,
        "serverUrl": session.client.endpoint().as_str(),
        "initializeResult": session.initialize_result,
        "protocolVersion": session.client.protocol_version(),
        "upstreamSessionId": session.client.session_id(),
    })
}

/// `GET /api/mcp/session?sessionId=…`: a page that came back from an OAuth redirect picks up
/// the session it left (it is still live: [`HubOptions::idle_grace`](super::HubOptions)).
async fn describe_session(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<SessionRef>,
) -> Result<Reply, AppError> {
    let session = session(&hub, &query.session_id)?;
    Ok(Reply::Ok(describe(&session)))
}

fn validate_message(message: &Value) -> Result<(), AppError> {
    let Some(object) = message.as_object() else {
        return Err(AppError::BadRequest(
            "`message` must be one JSON-RPC message (an object)".into(),
        ));
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(AppError::BadRequest(
            "`message.jsonrpc` must be \"2.0\"".into(),
        ));
    }
    let is_call = object.get("method").is_some_and(Value::is_string);
    let is_answer = object.contains_key("id")
        && (object.contains_key("result") || object.contains_key("error"));
    if !is_call && !is_answer {
        return Err(AppError::BadRequest(
            "`message` is neither a request/notification (with `method`) nor a response (with `id` and \
             `result` or `error`)"
                .into(),
        ));
    }
    Ok(())
}

async fn send(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<SendRequest>,
) -> Result<Reply, AppError> {
    validate_message(&request.message)?;
    let session = session(&hub, &request.session_id)?;
    let _running = session.events.begin_command();
    let bearer = session.client.credentials().bearer();
    Ok(match session.client.send(&request.message).await {
        Ok(response) => {
            session.accepted(bearer);
            Reply::Ok(match response {
                Some(response) => json!({ "response": response }),
                None => json!({}),
            })
        }
        Err(error) => {
            if let SendError::Challenge(challenge) = &error {
                session.events.command_challenged(challenge);
            }
            let worked_before = session.was_accepted(bearer.as_ref());
            Reply::Failed(Failure::from_send_error_with(
                error,
                context_of(&request.message),
                worked_before,
            ))
        }
    })
}

async fn events(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<SessionRef>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let session = session(&hub, &query.session_id)?;
    let subscriber = session.subscribe();
    let opening = futures_util::stream::once(async {
        Ok(Event::default().comment("keyhole session events"))
    });
    let reader = session.events.subscribe();
    let live = futures_util::stream::unfold(
        (reader, subscriber),
        |(mut reader, subscriber)| async move {
            // `subscriber` is dropped with the stream: the page went away.
            let event = match reader.next().await {
                Delivery::Frame(frame) => Event::default().event(frame.name).data(&frame.data),
                Delivery::Dropped { events, messages } => {
                    let frame = dropped_frame(
                        events,
                        messages,
                        "the page read too slowly; the oldest events were dropped \
                         (read /api/mcp/log for the network log)",
                    );
                    Event::default().event(frame.name).data(frame.data)
                }
            };
            Some((Ok(event), (reader, subscriber)))
        },
    );
    Ok(Sse::new(opening.chain(live)).keep_alive(KeepAlive::default()))
}

async fn network_log(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<SessionRef>,
) -> Result<Reply, AppError> {
    let session = session(&hub, &query.session_id)?;
    Ok(Reply::Ok(
        json!({ "exchanges": session.events.network_log() }),
    ))
}

async fn auth_state(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<AuthStateRequest>,
) -> Result<Reply, AppError> {
    let session = session(&hub, &request.session_id)?;
    session
        .client
        .credentials()
        .set_bearer(Some(request.auth_state.bearer()?));
    Ok(Reply::Ok(json!({})))
}

async fn disconnect(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<SessionRef>,
) -> Result<Json<Value>, AppError> {
    if hub.disconnect(&request.session_id).await {
        Ok(Json(json!({ "ok": true })))
    } else {
        Err(AppError::NotFound(format!(
            "no Keyhole session {:?}",
            request.session_id
        )))
    }
}
