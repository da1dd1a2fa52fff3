//! What `/metrics` tells a monitoring system, in the Prometheus/OpenMetrics
//! text format (prometheus-client). Counters and histograms are recorded
//! where things happen (plugin calls, bank requests, task runs); gauges of
//! shared state (service mode, the database pool, webhook lag) are read
//! when scraped. One [`Metrics`] per runtime, so tests count exactly.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Host label of a request that never left (refused by the allow-list,
/// malformed): what the plugin asked for is in the log, not in a label it
/// could multiply without bound.
pub const UNSENT_HOST: &str = "(not sent)";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    export: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExportLabels {
    plugin: String,
    export: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    plugin: String,
    host: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    plugin: String,
    task: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

/// Plugin calls take from under a millisecond to the deadline (30 s):
/// 0.5 ms doubling sixteen times reaches 16 s, the rest is `+Inf`.
fn call_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The host's meters.
pub struct Metrics {
    registry: Registry,
    plugin_calls: Family<CallLabels, Counter>,
    plugin_call_seconds: Family<ExportLabels, Histogram>,
    instances_in_use: Gauge,
    http_requests: Family<HttpLabels, Counter>,
    task_runs: Family<TaskLabels, Counter>,
    service_mode: Gauge,
    webhook_lag_seconds: Gauge<f64, AtomicU64>,
    db_connections: Family<PoolLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Every meter at zero; `max_instances` is the runtime's cap.
    pub fn new(max_instances: u32) -> Arc<Self> {
        let mut registry = Registry::with_prefix("h2h");
        let plugin_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "plugin_calls",
            "Plugin calls by plugin, export and outcome (ok, or why it failed)",
            plugin_calls.clone(),
        );
        let plugin_call_seconds =
            Family::<ExportLabels, Histogram>::new_with_constructor(call_histogram as fn() -> _);
        registry.register(
            "plugin_call_duration_seconds",
            "Wall-clock time of plugin calls, host calls included",
            plugin_call_seconds.clone(),
        );
        let instances_in_use = Gauge::default();
        registry.register(
            "instances_in_use",
            "Plugin calls running now, each in an instance of its own",
            instances_in_use.clone(),
        );
        let instances_max: Gauge = Gauge::default();
        instances_max.set(i64::from(max_instances));
        registry.register(
            "instances_max",
            "Plugin instances the pool holds; one more call is refused as busy",
            instances_max,
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_capability_requests",
            "Requests plugins sent through the HTTP capability, by plugin, host and status \
             (the HTTP status, or denied, timeout, connection, ...)",
            http_requests.clone(),
        );
        let task_runs = Family::<TaskLabels, Counter>::default();
        registry.register(
            "task_runs",
            "Task runs of this process by plugin, task and outcome (ok, error, not-taken)",
            task_runs.clone(),
        );
        let service_mode = Gauge::default();
        registry.register(
            "service_mode",
            "1 while the host is in service mode (the ERP API answers 503)",
            service_mode.clone(),
        );
        let webhook_lag_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "webhook_delivery_lag_seconds",
            "Age of the oldest event a company's webhook has not yet received (0 when none waits)",
            webhook_lag_seconds.clone(),
        );
        let db_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, busy)",
            db_connections.clone(),
        );
        Arc::new(Self {
            registry,
            plugin_calls,
            plugin_call_seconds,
            instances_in_use,
            http_requests,
            task_runs,
            service_mode,
            webhook_lag_seconds,
            db_connections,
        })
    }

    /// One plugin call ended with `outcome` after `elapsed`.
    pub fn record_call(&self, plugin: &str, export: &str, outcome: &str, elapsed: Duration) {
        self.plugin_calls
            .get_or_create(&CallLabels {
                plugin: plugin.to_owned(),
                export: export.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.plugin_call_seconds
            .get_or_create(&ExportLabels {
                plugin: plugin.to_owned(),
                export: export.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts an instance alive until the guard drops.
    pub fn instance(self: &Arc<Self>) -> InstanceInUse {
        self.instances_in_use.inc();
        InstanceInUse(self.clone())
    }

    /// A plugin's request through the HTTP capability.
    pub fn record_http(&self, plugin: &str, host: &str, status: &str) {
        self.http_requests
            .get_or_create(&HttpLabels {
                plugin: plugin.to_owned(),
                host: host.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }

    /// A task run of this process ended.
    pub fn record_task_run(&self, plugin: &str, task: &str, outcome: &str) {
        self.task_runs
            .get_or_create(&TaskLabels {
                plugin: plugin.to_owned(),
                task: task.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The gauges read at scrape time.
    pub fn set_shared_state(&self, state: &SharedState) {
        self.service_mode.set(i64::from(state.service_mode));
        self.webhook_lag_seconds
            .set(state.webhook_lag.as_secs_f64());
        for (label, value) in [("idle", state.db_idle), ("busy", state.db_busy)] {
            self.db_connections
                .get_or_create(&PoolLabels {
                    state: label.to_owned(),
                })
                .set(i64::from(value));
        }
    }

    /// Everything, in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// What the scrape reads from the database and the process.
#[derive(Debug, Clone, Default)]
pub struct SharedState {
    /// Service mode is on.
    pub service_mode: bool,
    /// Age of the oldest undelivered webhook event.
    pub webhook_lag: Duration,
    /// Idle database connections.
    pub db_idle: u32,
    /// Connections in use.
    pub db_busy: u32,
}

/// An instance counted in `instances_in_use` while this lives.
pub struct InstanceInUse(Arc<Metrics>);

impl Drop for InstanceInUse {
    fn drop(&mut self) {
        self.0.instances_in_use.dec();
    }
}
