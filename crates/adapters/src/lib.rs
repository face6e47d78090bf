//! Adapters: implementations of the core's ports. `embedded` holds the zero-setup defaults; the
//! modules beside it talk to real things (git, Python, …).

pub mod alertmanager_poller;
pub mod command_checks;
pub mod desk_client;
pub mod embedded;
pub mod fleet_policy;
pub mod git_history;
pub mod git_repo;
pub mod http_errors;
pub mod lock_keeper;
pub mod merged_alerts;
pub mod neo4j_graph;
pub mod notify;
pub mod probe;
pub mod prometheus;
pub mod python_checks;
pub mod recovery_scripts;
pub mod redis_conn;
pub mod redis_lock;
pub mod redis_registry;
pub mod script_deployer;
pub mod subprocess;
pub mod tls;
pub mod url_redact;
