//! The web inspector's HTTP server: [`app`] builds the router (tests drive it with `oneshot`),
//! [`serve`] binds it and runs until Ctrl+C.

pub mod accept_encoding;
pub mod app_sandbox;
pub mod assets;
pub mod doctor_route;
pub mod error;
pub mod http1_server;
pub mod hub;
pub mod oauth_fetch;
pub mod security;
pub mod self_wake;
pub mod servers_config;
pub mod store_routes;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Router, middleware};
use keyhole_shared::api::ConfigResponse;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use keyhole_testbed::RunningTestbed;

use crate::catalog::Catalog;
use crate::launcher::demo;
use crate::native::oauth_store::FileStore;
use crate::saved_servers::SavedServersFile;
use assets::WebApp;
use error::AppError;
use hub::{Hub, HubOptions};
use security::{ApiToken, Guard};
use servers_config::ServersConfig;
use store_routes::SharedStore;

/// Page policy: our own scripts and wasm only, nothing framed but the MCP Apps sandbox origin,
/// nothing fetched from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// [`CONTENT_SECURITY_POLICY`], with the apps' sandbox origin allowed as a frame when there is one.
fn page_policy(app_sandbox: Option<&str>) -> HeaderValue {
    let policy = match app_sandbox {
        Some(origin) => format!("{CONTENT_SECURITY_POLICY}; frame-src {origin}"),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    };
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static(CONTENT_SECURITY_POLICY))
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub guard: Guard,
    pub web_app: Option<&'static WebApp>,
    /// What `/api/config` describes (the demo, the catalog, servers added in the connect form).
    pub servers: ServersConfig,
    pub hub: Arc<Hub>,
    /// The OAuth store shared with the CLI, when there is one.
    pub store: SharedStore,
}

impl AppState {
    /// State for a server bound at `bound`, serving the app compiled into this binary.
    pub fn new(token: ApiToken, bound: SocketAddr) -> Self {
        let config = ConfigResponse {
            version: keyhole_shared::VERSION.to_owned(),
            demo_servers: Vec::new(),
            catalog: Vec::new(),
            added_servers: Vec::new(),
            demo_control_url: None,
            saved: Default::default(),
            app_sandbox: None,
        };
        Self {
            guard: Guard::new(token, bound),
            web_app: assets::WEB_APP.as_ref(),
            servers: ServersConfig {
                started: Arc::new(config),
                added: Default::default(),
                // No folder until the launcher names one: tests never touch the user's files.
                saved: Arc::new(std::sync::Mutex::new(SavedServersFile::in_dir(None))),
            },
            hub: Hub::new(HubOptions::default()),
            store: None,
        }
    }

    /// Serves `store` at `/api/store/oauth`.
    pub fn with_store(mut self, store: Arc<FileStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses `hub` for the MCP sessions.
    pub fn with_hub(mut self, hub: Arc<Hub>) -> Self {
        self.hub = hub;
        self
    }

    /// Lists the demo's servers and control page in `/api/config`.
    pub fn with_demo(mut self, demo: &RunningTestbed) -> Self {
        let config = Arc::make_mut(&mut self.servers.started);
        config.demo_servers = demo::catalog_entries(demo);
        config.demo_control_url = Some(demo.control_url());
        self
    }

    /// Keeps the saved servers in `file`.
    pub fn with_saved_servers(mut self, file: SavedServersFile) -> Self {
        self.servers.saved = Arc::new(std::sync::Mutex::new(file));
        self
    }

    /// Names the MCP Apps sandbox origin in `/api/config` (and allows it as a frame).
    pub fn with_app_sandbox(mut self, origin: String) -> Self {
        Arc::make_mut(&mut self.servers.started).app_sandbox = Some(origin);
        self
    }

    /// Lists the `--config` catalog's servers in `/api/config`.
    pub fn with_catalog(mut self, catalog: &Catalog) -> Self {
        Arc::make_mut(&mut self.servers.started).catalog = catalog.entries();
        self
    }
}

/// The whole HTTP surface: `/healthz`, the guarded `/api/*`, the app's assets and the SPA fallback.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/config",
            get(servers_config::read).with_state(state.servers.clone()),
        )
        .route(
            "/config/servers",
            post(servers_config::add).with_state(state.servers.clone()),
        )
        .route(
            "/config/saved",
            axum::routing::put(servers_config::save).with_state(state.servers.clone()),
        )
        .route(
            "/config/saved/export",
            get(servers_config::export).with_state(state.servers.clone()),
        )
        .route(
            "/config/saved/import",
            post(servers_config::import).with_state(state.servers.clone()),
        )
        .nest("/mcp", hub::routes::router().with_state(state.hub.clone()))
        .route("/doctor", post(doctor_route::run))
        .route(
            "/oauth/fetch",
            post(oauth_fetch::fetch).with_state(state.hub.clone()),
        )
        .route(
            "/oauth/dpop-proof",
            post(oauth_fetch::dpop_proof).with_state(state.hub.clone()),
        )
        .route(
            "/store/oauth",
            get(store_routes::read)
                .put(store_routes::write)
                .with_state(state.store.clone()),
        )
        .fallback(api_not_found)
        .layer(middleware::from_fn_with_state(
            state.guard.clone(),
            security::require_api_token,
        ));
    let routes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api", api)
        .route("/assets/{file}", get(assets::asset))
        .route("/assets/{version}/{file}", get(assets::versioned_asset))
        .fallback_service(get(assets::spa).with_state(state.clone()))
        .with_state(state.clone());
    // One stack around the whole router, not `Router::layer`, which wraps every route and so
    // made each request clone (and allocate) every layer once per level (#25). Outermost first.
    let perimeter = ServiceBuilder::new()
        // Spans name the path only: query strings may carry the API token or OAuth codes.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .layer(middleware::from_fn(accept_encoding::identity_on_loopback))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            page_policy(state.servers.started.app_sandbox.as_deref()),
        ))
        .layer(middleware::from_fn_with_state(
            state.guard.clone(),
            security::require_own_origin,
        ))
        .service(routes);
    Router::new().fallback_service(perimeter)
}

async fn api_not_found(request: Request) -> AppError {
    AppError::NotFound(format!(
        "no API route {} {}",
        request.method(),
        request.uri().path()
    ))
}

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: IpAddr,
    pub port: u16,
    pub token: ApiToken,
    /// Where to start the built-in demo (`Some(0)`: any free port), or `None` for no demo.
    pub demo_port: Option<u16>,
    /// The `--config` catalog, already checked.
    pub catalog: Option<Catalog>,
    pub hub: HubOptions,
    /// Where the OAuth store keeps its secrets.
    pub secrets: crate::native::secret_vault::SecretsMode,
}

/// Why the server could not start, worded for the person who ran `keyhole`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is already in use (another Keyhole?). Stop it, or pick another port with --port N \
         (--port 0 picks a free one)."
    )]
    PortInUse(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, io::Error),
    #[error("{0}")]
    WebAppMissing(&'static str),
    #[error("could not start the built-in demo: {0} (pass --no-demo to run without it)")]
    Demo(#[from] keyhole_testbed::StartError),
    #[error("the server stopped: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Secrets(String),
}

/// Binds the MCP Apps sandbox origin (any free port, on the page's interface or loopback) and
/// serves it in the background; its origin.
async fn start_app_sandbox(guard: &Guard, host: IpAddr) -> io::Result<String> {
    let ip = if host.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, 0)).await?;
    let bound = listener.local_addr()?;
    let origin = match bound.ip() {
        ip if ip.is_loopback() && ip.is_ipv4() => format!("http://127.0.0.1:{}", bound.port()),
        _ => format!("http://{bound}"),
    };
    let router = app_sandbox::router(guard.allowed_origins().to_vec());
    tokio::spawn(async move {
        if let Err(error) = http1_server::serve(listener, router, std::future::pending()).await {
            tracing::warn!(%error, "the MCP Apps sandbox origin stopped");
        }
    });
    Ok(origin)
}

/// Binds, prints where to open the app, and serves until Ctrl+C.
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    if assets::WEB_APP.is_none() {
        return Err(ServeError::WebAppMissing(assets::MISSING_APP_MESSAGE));
    }
    let wanted = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(wanted)
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse => ServeError::PortInUse(wanted),
            _ => ServeError::Bind(wanted, e),
        })?;
    let bound = listener.local_addr()?;
    let demo = match options.demo_port {
        Some(port) => Some(demo::start(port, bound.port()).await?),
        None => None,
    };
    let hub = Hub::new(options.hub);
    hub.spawn_reaper();
    let mut state = AppState::new(options.token, bound).with_hub(hub.clone());
    match start_app_sandbox(&state.guard, options.host).await {
        Ok(origin) => state = state.with_app_sandbox(origin),
        Err(error) => tracing::warn!(%error, "no MCP Apps sandbox origin: apps will not render"),
    }
    let mut secrets_place = None;
    let mut vault = None;
    match FileStore::open(options.secrets) {
        Ok((store, place)) => {
            vault = store.vault();
            tracing::info!(path = %store.path().display(), "OAuth store");
            hub.use_dpop_keys(Arc::new(crate::native::dpop_keys::DpopKeys::beside(&store)));
            if let Err(error) = store.tidy() {
                tracing::warn!(%error, "could not tidy the OAuth store");
            }
            state = state.with_store(Arc::new(store));
            secrets_place = Some(place);
        }
        // The keychain was asked for by name: running without it would surprise.
        Err(error) if options.secrets == crate::native::secret_vault::SecretsMode::Keyring => {
            return Err(ServeError::Secrets(error.to_string()));
        }
        Err(error) => tracing::warn!(%error, "running without an OAuth store"),
    }
    if let Some(demo) = &demo {
        state = state.with_demo(demo);
    }
    if let Some(catalog) = &options.catalog {
        state = state.with_catalog(catalog);
    }
    let saved =
        SavedServersFile::in_dir(crate::native::paths::keyhole_dir().as_deref()).with_vault(vault);
    if let Some(problem) = saved.read().problem {
        tracing::warn!(%problem, "the saved servers cannot be read; they are left as they are");
    } else if let Err(problem) = saved.tidy() {
        tracing::warn!(%problem, "the saved servers' secrets could not be moved to the keychain");
    }
    state = state.with_saved_servers(saved);
    let browse_host = if bound.ip().is_loopback() || bound.ip().is_unspecified() {
        format!("127.0.0.1:{}", bound.port())
    } else {
        bound.to_string()
    };
    println!("Keyhole {} — MCP inspector", keyhole_shared::VERSION);
    println!(
        "  Open http://{browse_host}/?token={}",
        state.guard.api_token()
    );
    if let Some(demo) = &demo {
        for (name, url) in demo.servers() {
            println!("  Demo MCP server {name:<12} {url}");
        }
        println!("  Demo control page            {}", demo.control_url());
    }
    if let Some(catalog) = &options.catalog {
        let source = catalog
            .source
            .as_ref()
            .map(|path| format!(" from {}", path.display()))
            .unwrap_or_default();
        println!(
            "  Catalog: {} server(s){source}, listed in the servers view",
            catalog.servers.len()
        );
    }
    if let Some(place) = secrets_place {
        println!("  {place}");
    }
    println!("  Press Ctrl+C to stop.");
    tracing::info!(%bound, "listening");
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = http1_server::serve(listener, app(state), async move {
        shutdown_signal(hub).await;
        let _ = stopping.send(());
    });
    // Pages' event streams never end by themselves: after the signal they get a moment, then
    // Keyhole stops anyway.
    let open_streams_waited = async {
        if stopped.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = serve => served?,
        () = open_streams_waited => tracing::info!("stopping with event streams still open"),
    }
    if let Some(demo) = demo {
        demo.shutdown().await;
    }
    Ok(())
}

/// How long open connections get to finish after Ctrl+C or `SIGTERM`.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Ctrl+C, or (on Unix) `SIGTERM` as a service manager sends it; then every session is ended at
/// once (stdio servers with what they started), before open streams are waited for.
async fn shutdown_signal(hub: Arc<Hub>) {
    #[cfg(unix)]
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminated = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
    tracing::info!("shutting down");
    hub.close_all().await;
}
