//! The `/api/mcp/*` routes (see ARCHITECTURE.md, “The backend API”). Misuse of our API is a 4xx
//! [`AppError`]; everything the upstream server does is an HTTP 200 envelope ([`Reply`]).

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use keyhole_shared::Secret;
use keyhole_shared::api::mcp::{
    AuthState, AuthStateRequest, ConnectRequest, Done, NetworkLogReply, SendReply, SendRequest,
    SessionRef, SessionReply, TransportConfig,
};
use keyhole_shared::dpop;
use serde_json::{Value, json};

use super::envelope::{Reply, context_of, upstream_failure};
use super::{ConnectSpec, Delivery, Hub, Session, dropped_frame};
use crate::native::mcp_client::stdio::StdioCommand;
use crate::native::mcp_client::{
    ClientConfig, Credentials, HttpTransport, SendError, known_protocol_version,
};
use crate::web::error::{ApiJson, AppError};

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

/// The token the page hands over, and whether it is DPoP-bound (the backend then proves
/// possession of the server's key with each request); Bearer and DPoP tokens are sent upstream.
fn token_of(auth_state: AuthState) -> Result<(Secret, bool), AppError> {
    let tokens = auth_state.tokens;
    match tokens.token_type.as_deref() {
        None => Ok((tokens.access_token, false)),
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => Ok((tokens.access_token, false)),
        Some(kind) if kind.eq_ignore_ascii_case(dpop::TOKEN_TYPE) => {
            Ok((tokens.access_token, true))
        }
        Some(kind) => Err(AppError::BadRequest(format!(
            "token_type {kind:?} is not supported; use Bearer or DPoP"
        ))),
    }
}

/// Hands `auth_state`'s token to `credentials` (with the key of `endpoint` for a DPoP-bound one).
fn install(
    hub: &Hub,
    credentials: &Credentials,
    endpoint: &str,
    auth_state: Option<AuthState>,
) -> Result<(), AppError> {
    let (bearer, bound) = match auth_state.map(token_of).transpose()? {
        Some((secret, bound)) => (Some(secret), bound),
        None => (None, false),
    };
    credentials
        .install(bearer, bound, Some(hub.dpop_keys()), endpoint)
        .map_err(|e| AppError::BadRequest(format!("no DPoP key for {endpoint}: {e}")))
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
    let mut client_config = match config.kind.as_str() {
        "streamable-http" => http_config(&config)?,
        "sse" => {
            let mut client_config = http_config(&config)?;
            client_config.http_transport = HttpTransport::LegacySse;
            client_config
        }
        "stdio" => stdio_config(&config)?,
        other => {
            return Err(AppError::BadRequest(format!(
                "transport {other:?} is not supported; Keyhole connects over \"streamable-http\" \
                 (falling back to HTTP+SSE when the server refuses it), \"sse\" or \"stdio\""
            )));
        }
    };
    client_config.protocol_version = config
        .protocol_version
        .as_deref()
        .map(known_protocol_version)
        .transpose()
        .map_err(|speaks| {
            AppError::BadRequest(format!(
                "`protocolVersion` {:?} is not one Keyhole speaks: {speaks}",
                config.protocol_version.as_deref().unwrap_or_default()
            ))
        })?;
    // The page answers sampling and elicitation (the user does, in its server-requests panel)
    // and roots: over a 2025 session as the server's requests, over 2026-07-28 as the input
    // requests of an input-required result (where roots have no change notification).
    static CAPABILITIES: LazyLock<Arc<Value>> = LazyLock::new(|| {
        Arc::new(json!({
            "sampling": {},
            "elicitation": { "form": {}, "url": {} },
            "roots": { "listChanged": true },
        }))
    });
    static STATELESS_CAPABILITIES: LazyLock<Arc<Value>> = LazyLock::new(|| {
        Arc::new(json!({
            "sampling": {},
            "elicitation": { "form": {}, "url": {} },
            "roots": {},
        }))
    });
    client_config.capabilities = CAPABILITIES.clone();
    client_config.stateless_capabilities = Some(STATELESS_CAPABILITIES.clone());
    Ok(client_config)
}

/// `stdio`: a command to start. Anyone who holds the API token may run one (the token and the
/// origin and host guards stand between a web page and this route); its environment values are
/// never logged.
fn stdio_config(config: &TransportConfig) -> Result<ClientConfig, AppError> {
    let command = config
        .command
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::BadRequest("a \"stdio\" server needs `command`".into()))?;
    if !config.url.is_empty() || !config.headers.is_empty() {
        return Err(AppError::BadRequest(
            "a \"stdio\" server has no `url` or `headers` (set `env` for it instead)".into(),
        ));
    }
    let cwd = config.cwd.as_deref().map(std::path::PathBuf::from);
    if let Some(cwd) = &cwd
        && !cwd.is_dir()
    {
        return Err(AppError::BadRequest(format!(
            "`cwd` {:?} is not a directory",
            cwd.display()
        )));
    }
    let stdio = StdioCommand {
        command: command.to_owned(),
        args: config.args.clone(),
        env: config.env.clone().into_iter().collect(),
        cwd,
    };
    let mut client_config = ClientConfig::new(stdio.pseudo_url());
    client_config.stdio = Some(stdio);
    Ok(client_config)
}

/// `streamable-http` (or `sse`): an http(s) URL and the extra headers to send.
fn http_config(config: &TransportConfig) -> Result<ClientConfig, AppError> {
    if config.command.is_some()
        || !config.args.is_empty()
        || !config.env.is_empty()
        || config.cwd.is_some()
    {
        return Err(AppError::BadRequest(
            "`command`, `args`, `env` and `cwd` are for \"stdio\" servers".into(),
        ));
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
    for (name, value) in &config.headers {
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AppError::BadRequest(format!("{name:?} is not a valid header name")))?;
        if MANAGED_HEADERS
            .iter()
            .any(|managed| managed.eq_ignore_ascii_case(name))
        {
            return Err(AppError::BadRequest(format!(
                "header {name:?} is managed by Keyhole (tokens go in `authState`); remove it from `headers`"
            )));
        }
        reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            AppError::BadRequest(format!("the value of header {name:?} is not valid"))
        })?;
        client_config.headers.push((name.clone(), value.clone()));
    }
    Ok(client_config)
}

async fn connect(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<ConnectRequest>,
) -> Result<Reply<SessionReply>, AppError> {
    let config = client_config(request.config)?;
    let credentials = Credentials::default();
    install(
        &hub,
        &credentials,
        config.endpoint.as_str(),
        request.auth_state,
    )?;
    let spec = ConnectSpec {
        config,
        credentials,
    };
    Ok(match hub.connect(spec).await {
        Ok(session) => Reply::ok(describe(&session)),
        Err(failure) => Reply::failed(failure),
    })
}

/// What a page needs to show a session: the `connect` reply, plus the server URL.
fn describe(session: &Session) -> SessionReply {
    SessionReply {
        session_id: session.id.clone(),
        server_url: session.client.endpoint().to_string(),
        initialize_result: session.initialize_result(),
        protocol_version: session.client.protocol_version(),
        upstream_session_id: session.client.session_id(),
        transport: session.client.transport().to_owned(),
    }
}

/// `GET /api/mcp/session?sessionId=…`: a page that came back from an OAuth redirect picks up
/// the session it left (it is still live: [`HubOptions::idle_grace`](super::HubOptions)).
async fn describe_session(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<SessionRef>,
) -> Result<Reply<SessionReply>, AppError> {
    let session = session(&hub, &query.session_id)?;
    Ok(Reply::ok(describe(&session)))
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
) -> Result<Reply<SendReply>, AppError> {
    validate_message(&request.message)?;
    let session = session(&hub, &request.session_id)?;
    let _running = session.events.begin_command();
    let bearer = session.client.credentials().bearer();
    Ok(match session.client.send(&request.message).await {
        Ok(response) => {
            session.client.credentials().accept(bearer);
            Reply::ok(SendReply { response })
        }
        Err(error) => {
            if let SendError::Challenge(challenge) = &error {
                session.events.command_challenged(challenge);
            }
            let worked_before = session.client.credentials().was_accepted(bearer.as_ref());
            Reply::failed(upstream_failure(
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
) -> Result<Reply<NetworkLogReply>, AppError> {
    let session = session(&hub, &query.session_id)?;
    Ok(Reply::ok(NetworkLogReply {
        exchanges: session.events.network_log(),
    }))
}

async fn auth_state(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<AuthStateRequest>,
) -> Result<Reply<Done>, AppError> {
    let session = session(&hub, &request.session_id)?;
    let endpoint = session.client.endpoint().to_string();
    install(
        &hub,
        session.client.credentials(),
        &endpoint,
        request.auth_state,
    )?;
    Ok(Reply::ok(Done {}))
}

async fn disconnect(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<SessionRef>,
) -> Result<Reply<Done>, AppError> {
    if hub.disconnect(&request.session_id).await {
        Ok(Reply::ok(Done {}))
    } else {
        Err(AppError::NotFound(format!(
            "no Keyhole session {:?}",
            request.session_id
        )))
    }
}
