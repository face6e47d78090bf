//! Prometheus: the query API client, its JSON, and the `MetricsSource` built on them.

pub mod api;
pub mod client;
pub mod metrics;

pub use client::{PromClient, PromError};
pub use metrics::PrometheusMetrics;
