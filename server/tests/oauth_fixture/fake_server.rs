//! A scripted HTTP server on loopback: each `METHOD path` answers a canned status and body
//! (with `{base}` replaced by the server's own base URL); everything else is 404. Every request
//! is recorded, so tests can check what the client sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Recorded {
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

type Routes = Arc<Mutex<HashMap<String, (u16, String, String)>>>;
/// `Cache-Control` by route.
type Caching = Arc<Mutex<HashMap<String, String>>>;

pub struct FakeServer {
    pub base: String,
    routes: Routes,
    caching: Caching,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Routes = Arc::default();
        let caching: Caching = Arc::default();
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let (r, c, q) = (
            Arc::clone(&routes),
            Arc::clone(&caching),
            Arc::clone(&requests),
        );
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (routes, caching, requests) = (Arc::clone(&r), Arc::clone(&c), Arc::clone(&q));
                async move {
                    let key = format!("{method} {}", uri.path());
                    let mut response = answer(&routes, &requests, method, uri, headers, body);
                    if let Some(value) = caching.lock().unwrap().get(&key) {
                        response
                            .headers_mut()
                            .insert(header::CACHE_CONTROL, value.parse().unwrap());
                    }
                    response
                }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base,
            routes,
            caching,
            requests,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers `METHOD path` with `status` and a JSON body.
    pub fn json(&self, method: &str, path: &str, status: u16, body: Value) {
        self.raw(method, path, status, "application/json", &body.to_string());
    }

    /// Serves the discovery documents of a resource at `/mcp` whose authorization server is this
    /// server: its protected-resource metadata, and authorization-server metadata `metadata`.
    pub fn discovery(&self, metadata: Value) {
        self.json(
            "GET",
            "/.well-known/oauth-protected-resource/mcp",
            200,
            serde_json::json!({"resource": "{base}/mcp", "authorization_servers": ["{base}"]}),
        );
        self.json(
            "GET",
            "/.well-known/oauth-authorization-server",
            200,
            metadata,
        );
    }

    pub fn raw(&self, method: &str, path: &str, status: u16, content_type: &str, body: &str) {
        let body = body.replace("{base}", &self.base);
        self.routes.lock().unwrap().insert(
            format!("{method} {path}"),
            (status, content_type.to_owned(), body),
        );
    }

    /// Answers `METHOD path` with this `Cache-Control` too.
    pub fn cache_control(&self, method: &str, path: &str, value: &str) {
        self.caching
            .lock()
            .unwrap()
            .insert(format!("{method} {path}"), value.to_owned());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

fn answer(
    routes: &Routes,
    requests: &Mutex<Vec<Recorded>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let key = format!("{method} {}", uri.path());
    match routes.lock().unwrap().get(&key).cloned() {
        Some((status, content_type, body)) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, content_type)],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
