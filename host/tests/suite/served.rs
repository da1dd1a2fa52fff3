//! A serving host for the API tests: `h2h serve` on a free loopback port
//! over a fixture's database, with an ERP key and an admin key, and JSON
//! requests with either.

use h2h_host::admin::Role;
use h2h_host::serve::{self, Running};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::admin::Fixture;

/// A serving host with an ERP key and an admin key.
pub struct Served {
    pub running: Running,
    stop: tokio::sync::oneshot::Sender<()>,
    pub base: String,
    pub client: reqwest::Client,
    pub erp_key: String,
    pub admin_key: String,
}

impl Served {
    pub async fn start(fx: &Fixture) -> Self {
        let erp_key = fx
            .host
            .admin
            .create_api_key(&fx.actor, "erp", Role::Erp)
            .await
            .expect("key")
            .secret;
        let admin_key = fx
            .host
            .admin
            .create_api_key(&fx.actor, "ops", Role::Admin)
            .await
            .expect("key")
            .secret;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = serve::start(
            fx.config.clone(),
            "127.0.0.1:0".parse::<std::net::SocketAddr>().expect("addr"),
            async {
                let _ = stopped.await;
            },
        )
        .await
        .expect("serving");
        Self {
            base: format!("http://{}", running.addr),
            running,
            stop,
            client: reqwest::Client::new(),
            erp_key,
            admin_key,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running.server.await.expect("join").expect("served");
    }

    /// An ERP request acting for `user` (none: no header).
    pub async fn erp(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/erp/v1{path}", self.base))
            .bearer_auth(&self.erp_key);
        if let Some(user) = user {
            request = request.header("X-H2H-User", user);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call");
        let status = response.status();
        let text = response.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, user: &str) -> (StatusCode, Value) {
        self.erp(Method::GET, path, Some(user), None).await
    }

    pub async fn post(&self, path: &str, user: &str, body: Value) -> (StatusCode, Value) {
        self.erp(Method::POST, path, Some(user), Some(body)).await
    }

    pub async fn put(&self, path: &str, user: &str, body: Value) -> (StatusCode, Value) {
        self.erp(Method::PUT, path, Some(user), Some(body)).await
    }

    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call");
        let status = response.status();
        let text = response.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}
