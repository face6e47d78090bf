//! Seeded synthetic incidents with a known root cause, to measure RCA accuracy honestly.
//!
//! Every parameter below was fixed before the ranker was measured against it and is described
//! in BENCHMARKS.md; change them only with a reason written there, never to please the ranker.
//!
//! An incident: a topology of services and datastores (an edge `from → to` means *from calls
//! to*), a root whose fault (errors, latency or both) starts at `onset`, and propagation back
//! to callers: each caller sees `share × attenuation` of its callee's extra error rate and
//! `share ×` its extra latency, after a hop delay. Metrics are 10 s buckets over 10 minutes:
//! Poisson request counts, binomial errors, log-normal p99 noise. Datastores and queues export
//! no metrics at all with probability 0.6. Red herrings are layered on top.

use ccp_core::rca::{
    BundleAlert, BundleDeploy, BundleEdge, BundleLogLine, BundleService, RcaBundle,
};
use ccp_core::stats::rng::Rng;
use std::collections::BTreeMap;

/// Metric bucket, seconds (the pipeline's RCA stage uses the same).
const STEP_S: i64 = 10;
/// History before the incident start, seconds.
const HISTORY_S: i64 = 600;
/// Incident start (unix seconds) of every generated bundle.
const START: i64 = 1_700_000_000;
/// Chance a datastore/queue exports metrics at all.
const DATASTORE_EXPORTS: f64 = 0.4;

/// What error logs the generated services write (the bundle's `logs` part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogMode {
    /// No logs in the bundle: metrics, deploys and alerts only.
    None,
    /// Affected callers log the error of the dependency the fault reached them through (host
    /// name, connection string, client library or port), as real clients do; the root logs its
    /// own stack trace; a few healthy services log unrelated warnings.
    NameDependency,
    /// Affected services log errors that name nothing useful (generic 500s, own-code stack
    /// traces, addresses outside the graph): logs must then not hurt.
    Unhelpful,
}

/// The conditions an incident is generated under. [`Conditions::STANDARD`] is the suite the
/// ranker was built against; [`Conditions::HARD`] is the harder kind of issue 25, fixed before
/// the ranker was measured on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// Points of history before the fault's onset; `None`: the standard 600 s window.
    pub history_points: Option<usize>,
    /// Range of the share of a callee's extra errors/latency a caller sees.
    pub share: (f64, f64),
    /// Range of the per-edge propagation delay, seconds.
    pub delay_s: (f64, f64),
    /// Chance a datastore/queue exports metrics.
    pub datastore_exports: f64,
    /// Noisy healthy services added to every incident (beyond the red herring).
    pub noisy_healthy: usize,
    /// Fraction of metric points missing (scrape gaps).
    pub gap_rate: f64,
    /// Chance a service root is deployed before its onset (where the herring allows it).
    pub root_deploy: f64,
    /// Chance each caller of the root gets a deploy 0–10 min before the onset.
    pub caller_deploy: f64,
    /// What the services log.
    pub logs: LogMode,
}

impl Conditions {
    /// The suite of BENCHMARKS.md's 2026-11-23 entry: 600 s of history, no gaps.
    pub const STANDARD: Conditions = Conditions {
        history_points: None,
        share: (0.2, 1.0),
        delay_s: (0.0, 20.0),
        datastore_exports: DATASTORE_EXPORTS,
        noisy_healthy: 0,
        gap_rate: 0.0,
        root_deploy: 1.0,
        caller_deploy: 0.0,
        logs: LogMode::None,
    };

    /// Issue 25's harder incidents: 12 points of history before the onset, weaker and later
    /// propagation, ~90 % of datastores silent, two noisy healthy services, 10 % scrape gaps,
    /// the root deployed half the time and each of its callers deployed half the time.
    pub const HARD: Conditions = Conditions {
        history_points: Some(12),
        share: (0.1, 0.7),
        delay_s: (5.0, 45.0),
        datastore_exports: 0.1,
        noisy_healthy: 2,
        gap_rate: 0.1,
        root_deploy: 0.5,
        caller_deploy: 0.5,
        logs: LogMode::None,
    };

    /// The same conditions with another log mode.
    pub const fn with_logs(self, logs: LogMode) -> Conditions {
        Conditions { logs, ..self }
    }
}

/// Shapes of call graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topology {
    /// entry → s1 → … → s(L−1) → datastore, L in 4..=7.
    Chain,
    /// entry → 3..=6 callers → one shared hub → datastore.
    FanIn,
    /// entry → 3..=8 services → one of two datastores each.
    FanOut,
    /// entry → a → {b, c} → d → datastore.
    Diamond,
    /// 34 services in three layers plus 6 datastores, random layered calls.
    Mesh40,
    /// Google's Online Boutique (microservices-demo): 10 services and its Redis cart store.
    OnlineBoutique,
    /// Weaveworks' Sock Shop: 8 services, 4 databases and RabbitMQ.
    SockShop,
    /// DeathStarBench's social network: 13 services over Redis, Memcached, MongoDB and RabbitMQ.
    SocialNetwork,
    /// DeathStarBench's hotel reservation: 8 services, most stores with a single caller (only in
    /// the hard suite, so the published suite's figures stay comparable).
    HotelReservation,
}

/// Caller → callees of published microservice benchmarks, as their manifests wire them (only
/// synchronous calls and the stores each service talks to; load generators left out). Their
/// datastores are *not* shared the way the synthetic ones are: a store with one caller is as
/// ambiguous here as it is in production, and the accuracy reported on them says so.
const ONLINE_BOUTIQUE: &[(&str, &[&str])] = &[
    (
        "frontend",
        &[
            "adservice",
            "cartservice",
            "checkoutservice",
            "currencyservice",
            "productcatalogservice",
            "recommendationservice",
            "shippingservice",
        ],
    ),
    (
        "checkoutservice",
        &[
            "cartservice",
            "currencyservice",
            "emailservice",
            "paymentservice",
            "productcatalogservice",
            "shippingservice",
        ],
    ),
    ("recommendationservice", &["productcatalogservice"]),
    ("cartservice", &["redis-cart"]),
];

/// See [`ONLINE_BOUTIQUE`].
const SOCK_SHOP: &[(&str, &[&str])] = &[
    ("front-end", &["catalogue", "carts", "orders", "user"]),
    (
        "orders",
        &["carts", "user", "payment", "shipping", "orders-db"],
    ),
    ("shipping", &["rabbitmq"]),
    ("queue-master", &["rabbitmq"]),
    ("catalogue", &["catalogue-db"]),
    ("carts", &["carts-db"]),
    ("user", &["user-db"]),
];

/// See [`ONLINE_BOUTIQUE`].
const SOCIAL_NETWORK: &[(&str, &[&str])] = &[
    (
        "nginx-web-server",
        &[
            "compose-post-service",
            "home-timeline-service",
            "user-timeline-service",
            "user-service",
            "social-graph-service",
        ],
    ),
    (
        "compose-post-service",
        &[
            "text-service",
            "user-service",
            "media-service",
            "unique-id-service",
            "post-storage-service",
            "user-timeline-service",
            "write-home-timeline-rabbitmq",
        ],
    ),
    (
        "text-service",
        &["url-shorten-service", "user-mention-service"],
    ),
    (
        "write-home-timeline-service",
        &[
            "write-home-timeline-rabbitmq",
            "social-graph-service",
            "home-timeline-redis",
        ],
    ),
    (
        "home-timeline-service",
        &[
            "post-storage-service",
            "social-graph-service",
            "home-timeline-redis",
        ],
    ),
    (
        "user-timeline-service",
        &[
            "post-storage-service",
            "user-timeline-redis",
            "user-timeline-mongodb",
        ],
    ),
    (
        "post-storage-service",
        &["post-storage-memcached", "post-storage-mongodb"],
    ),
    (
        "social-graph-service",
        &["user-service", "social-graph-redis", "social-graph-mongodb"],
    ),
    ("user-service", &["user-memcached", "user-mongodb"]),
    (
        "url-shorten-service",
        &["url-shorten-memcached", "url-shorten-mongodb"],
    ),
    ("user-mention-service", &["user-memcached", "user-mongodb"]),
    ("media-service", &["media-memcached", "media-mongodb"]),
];

/// See [`ONLINE_BOUTIQUE`]. Every Memcached and MongoDB instance here has exactly one caller.
const HOTEL_RESERVATION: &[(&str, &[&str])] = &[
    (
        "frontend",
        &["search", "profile", "recommendation", "user", "reservation"],
    ),
    ("search", &["geo", "rate"]),
    ("geo", &["mongodb-geo"]),
    ("rate", &["memcached-rate", "mongodb-rate"]),
    ("profile", &["memcached-profile", "mongodb-profile"]),
    ("recommendation", &["mongodb-recommendation"]),
    ("user", &["mongodb-user"]),
    ("reservation", &["memcached-reserve", "mongodb-reservation"]),
];

/// Whether a published topology's node is a datastore or queue, by its name.
fn is_store_name(name: &str) -> bool {
    ["-db", "redis", "mongodb", "memcached", "rabbitmq"]
        .iter()
        .any(|w| name.contains(w))
}

impl Topology {
    /// Published benchmark topologies, reported separately from the generated ones.
    pub const PUBLISHED: [Topology; 3] = [
        Topology::OnlineBoutique,
        Topology::SockShop,
        Topology::SocialNetwork,
    ];

    /// Published topologies of the hard suite: the three above and hotel reservation.
    pub const HARD_PUBLISHED: [Topology; 4] = [
        Topology::OnlineBoutique,
        Topology::SockShop,
        Topology::SocialNetwork,
        Topology::HotelReservation,
    ];

    /// Every generated topology, in report order.
    pub const ALL: [Topology; 5] = [
        Topology::Chain,
        Topology::FanIn,
        Topology::FanOut,
        Topology::Diamond,
        Topology::Mesh40,
    ];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Topology::Chain => "chain",
            Topology::FanIn => "fan-in",
            Topology::FanOut => "fan-out",
            Topology::Diamond => "diamond",
            Topology::Mesh40 => "mesh-40",
            Topology::OnlineBoutique => "online-boutique",
            Topology::SockShop => "sock-shop",
            Topology::SocialNetwork => "social-network",
            Topology::HotelReservation => "hotel-reservation",
        }
    }
}

/// Misleading evidence added to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Herring {
    /// None beyond the background (old deploys, silent datastores).
    None,
    /// A large deploy of an unaffected service minutes before the onset.
    DeployElsewhere,
    /// An unaffected service with very noisy, spiky metrics.
    NoisyHealthy,
    /// The root is a service with no deploy at all.
    RootNoDeploy,
    /// The root has no deploy; one of its callers was deployed just before the onset.
    CallerDeploy,
    /// The root is a datastore or queue that exports no metrics.
    UnobservedRoot,
}

impl Herring {
    /// Every red herring, in report order.
    pub const ALL: [Herring; 6] = [
        Herring::None,
        Herring::DeployElsewhere,
        Herring::NoisyHealthy,
        Herring::RootNoDeploy,
        Herring::CallerDeploy,
        Herring::UnobservedRoot,
    ];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Herring::None => "none",
            Herring::DeployElsewhere => "deploy elsewhere",
            Herring::NoisyHealthy => "noisy healthy service",
            Herring::RootNoDeploy => "root without deploy",
            Herring::CallerDeploy => "deploy on a caller",
            Herring::UnobservedRoot => "root without metrics",
        }
    }
}

/// One generated incident and its truth.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The bundle `rank` sees.
    pub bundle: RcaBundle,
    /// The true root cause.
    pub root: String,
    /// Its topology.
    pub topology: Topology,
    /// Its red herring.
    pub herring: Herring,
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    datastore: bool,
    exports: bool,
    rps: f64,
    base_err: f64,
    base_p99: f64,
    sigma: f64,
    noisy: bool,
}

struct Spec {
    nodes: Vec<Node>,
    edges: Vec<(usize, usize)>,
    services: usize,
    stores: usize,
    /// Chance a datastore exports metrics.
    exports: f64,
}

fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.next_f64()
}

fn int(rng: &mut Rng, lo: usize, hi_inclusive: usize) -> usize {
    lo + rng.below((hi_inclusive - lo + 1) as u64) as usize
}

impl Spec {
    fn new(exports: f64) -> Self {
        Spec {
            nodes: Vec::new(),
            edges: Vec::new(),
            services: 0,
            stores: 0,
            exports,
        }
    }

    fn add(&mut self, rng: &mut Rng, name: String, datastore: bool) -> usize {
        self.nodes.push(Node {
            name,
            datastore,
            exports: !datastore || rng.next_f64() < self.exports,
            rps: uniform(rng, 20.0, 400.0),
            base_err: uniform(rng, 0.0005, 0.02),
            base_p99: uniform(rng, 10.0, 400.0),
            sigma: uniform(rng, 0.05, 0.15),
            noisy: false,
        });
        self.nodes.len() - 1
    }

    fn svc(&mut self, rng: &mut Rng) -> usize {
        let n = self.services;
        self.services += 1;
        self.add(rng, format!("svc-{n}"), false)
    }

    fn store(&mut self, rng: &mut Rng) -> usize {
        let n = self.stores;
        self.stores += 1;
        let kind = ["db", "queue", "cache"][n % 3];
        self.add(rng, format!("{kind}-{n}"), true)
    }

    fn call(&mut self, from: usize, to: usize) {
        if from != to && !self.edges.contains(&(from, to)) {
            self.edges.push((from, to));
        }
    }

    fn callers(&self, n: usize) -> Vec<usize> {
        self.edges
            .iter()
            .filter(|e| e.1 == n)
            .map(|e| e.0)
            .collect()
    }

    /// Datastores are shared: give every datastore at least two callers (random services).
    fn share_datastores(&mut self, rng: &mut Rng) {
        for d in 0..self.nodes.len() {
            if !self.nodes[d].datastore {
                continue;
            }
            let mut guard = 0;
            while self.callers(d).len() < 2 && guard < 50 {
                guard += 1;
                let services: Vec<usize> = (0..self.nodes.len())
                    .filter(|&i| !self.nodes[i].datastore && !self.callers(d).contains(&i))
                    .collect();
                if services.is_empty() {
                    break;
                }
                let p = services[rng.below(services.len() as u64) as usize];
                self.call(p, d);
            }
        }
    }

    /// Two standalone services every small topology has: somewhere a deploy can be harmless.
    fn aux(&mut self, rng: &mut Rng) {
        let a = self.svc(rng);
        let b = self.svc(rng);
        self.call(a, b);
    }
}

/// A published topology's nodes and calls, in table order (so seeds give the same incident).
fn published(
    table: &[(&'static str, &'static [&'static str])],
    rng: &mut Rng,
    exports: f64,
) -> Spec {
    let mut s = Spec::new(exports);
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut id = |s: &mut Spec, rng: &mut Rng, name: &'static str| -> usize {
        if let Some(&i) = ids.get(name) {
            return i;
        }
        let i = s.add(rng, name.to_string(), is_store_name(name));
        ids.insert(name, i);
        i
    };
    for &(from, callees) in table {
        let f = id(&mut s, rng, from);
        for &to in callees {
            let t = id(&mut s, rng, to);
            s.call(f, t);
        }
    }
    s
}

fn topology(t: Topology, rng: &mut Rng, exports: f64) -> Spec {
    let mut s = Spec::new(exports);
    match t {
        Topology::OnlineBoutique => return published(ONLINE_BOUTIQUE, rng, exports),
        Topology::SockShop => return published(SOCK_SHOP, rng, exports),
        Topology::SocialNetwork => return published(SOCIAL_NETWORK, rng, exports),
        Topology::HotelReservation => return published(HOTEL_RESERVATION, rng, exports),
        Topology::Chain => {
            let len = int(rng, 4, 7);
            let ids: Vec<usize> = (0..len).map(|_| s.svc(rng)).collect();
            for w in ids.windows(2) {
                s.call(w[0], w[1]);
            }
            let db = s.store(rng);
            s.call(ids[len - 1], db);
            s.aux(rng);
        }
        Topology::FanIn => {
            let entry = s.svc(rng);
            let hub = s.svc(rng);
            let db = s.store(rng);
            for _ in 0..int(rng, 3, 6) {
                let c = s.svc(rng);
                s.call(entry, c);
                s.call(c, hub);
            }
            s.call(hub, db);
            s.aux(rng);
        }
        Topology::FanOut => {
            let entry = s.svc(rng);
            let dbs = [s.store(rng), s.store(rng)];
            for _ in 0..int(rng, 3, 8) {
                let c = s.svc(rng);
                s.call(entry, c);
                s.call(c, dbs[rng.below(2) as usize]);
            }
            s.aux(rng);
        }
        Topology::Diamond => {
            let entry = s.svc(rng);
            let [a, b, c, d] = [s.svc(rng), s.svc(rng), s.svc(rng), s.svc(rng)];
            let db = s.store(rng);
            s.call(entry, a);
            s.call(a, b);
            s.call(a, c);
            s.call(b, d);
            s.call(c, d);
            s.call(d, db);
            s.aux(rng);
        }
        Topology::Mesh40 => {
            let sizes = [4usize, 12, 18];
            let mut layers: Vec<Vec<usize>> = sizes
                .iter()
                .map(|&n| (0..n).map(|_| s.svc(rng)).collect())
                .collect();
            layers.push((0..6).map(|_| s.store(rng)).collect());
            for i in 0..layers.len() - 1 {
                for &from in &layers[i].clone() {
                    for _ in 0..int(rng, 1, 3) {
                        let next = &layers[i + 1];
                        let to = next[rng.below(next.len() as u64) as usize];
                        s.call(from, to);
                    }
                    if i + 2 < layers.len() && rng.next_f64() < 0.3 {
                        let next = &layers[i + 2];
                        let to = next[rng.below(next.len() as u64) as usize];
                        s.call(from, to);
                    }
                }
                for &to in &layers[i + 1].clone() {
                    if s.callers(to).is_empty() {
                        let prev = &layers[i];
                        let from = prev[rng.below(prev.len() as u64) as usize];
                        s.call(from, to);
                    }
                }
            }
        }
    }
    s.share_datastores(rng);
    s
}

/// How the fault reaches each node: extra error rate, extra p99 ms, since when.
#[derive(Debug, Clone, Copy, Default)]
struct Effect {
    err: f64,
    lat: f64,
    onset: Option<f64>,
    /// The callee the fault reached this node through (what its error logs name).
    via: Option<usize>,
}

/// Propagate the root's fault to every caller, callees first (the generated graphs are DAGs).
fn propagate(s: &Spec, root: usize, fault: Effect, rng: &mut Rng, c: &Conditions) -> Vec<Effect> {
    let n = s.nodes.len();
    let mut callers: Vec<Vec<(usize, f64, f64, f64)>> = vec![Vec::new(); n];
    for &(from, to) in &s.edges {
        let share = uniform(rng, c.share.0, c.share.1);
        let attenuation = uniform(rng, 0.6, 1.0);
        let delay = uniform(rng, c.delay_s.0, c.delay_s.1);
        callers[to].push((from, share, attenuation, delay));
    }
    let mut eff = vec![Effect::default(); n];
    eff[root] = fault;
    // Breadth-first from the root along callers, relaxing until nothing changes (DAG: bounded).
    let mut frontier = vec![root];
    let mut rounds = 0;
    while !frontier.is_empty() && rounds < n + 1 {
        rounds += 1;
        let mut next = Vec::new();
        for &c in &frontier {
            for &(p, share, att, delay) in &callers[c] {
                if p == root {
                    continue;
                }
                let e = eff[c];
                let Some(on) = e.onset else { continue };
                let cand = Effect {
                    err: share * att * e.err,
                    lat: share * e.lat,
                    onset: Some(on + delay),
                    via: Some(c),
                };
                let cur = &mut eff[p];
                let mut changed = false;
                if cand.err > cur.err + 1e-12 {
                    cur.err = cand.err;
                    cur.via = cand.via;
                    changed = true;
                }
                if cand.lat > cur.lat + 1e-9 {
                    cur.lat = cand.lat;
                    if cur.via.is_none() || cand.err >= cur.err {
                        cur.via = cand.via;
                    }
                    changed = true;
                }
                if cur.onset.is_none_or(|o| cand.onset.is_some_and(|x| x < o)) {
                    cur.onset = cand.onset;
                    changed = true;
                }
                if changed {
                    next.push(p);
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        frontier = next;
    }
    eff
}

fn series(
    node: &Node,
    eff: &Effect,
    (first, end): (i64, i64),
    gap_rate: f64,
    rng: &mut Rng,
) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut err = Vec::new();
    let mut p99 = Vec::new();
    let mut t = first;
    while t <= end {
        let tf = t as f64;
        let active = eff.onset.is_some_and(|o| tf >= o);
        let mut p = node.base_err;
        if node.noisy {
            p *= rng.lognormal(0.0, 0.8);
        }
        if active {
            p += eff.err;
        }
        let requests = rng.poisson(node.rps * STEP_S as f64).max(1);
        let errors = rng.binomial(requests, p.min(1.0));
        err.push((tf, errors as f64 / requests as f64));
        let mut lat = node.base_p99 + if active { eff.lat } else { 0.0 };
        lat *= rng.lognormal(0.0, if node.noisy { 0.5 } else { node.sigma });
        if node.noisy && rng.next_f64() < 0.05 {
            lat *= 4.0;
        }
        // A scrape gap loses the point of both series (one scrape carries both).
        if gap_rate <= 0.0 || rng.next_f64() >= gap_rate {
            p99.push((tf, lat));
        } else {
            err.pop();
        }
        t += STEP_S;
    }
    BTreeMap::from([
        ("error_rate".to_string(), err),
        ("latency_p99_ms".to_string(), p99),
    ])
}

fn deploy(rng: &mut Rng, service: &str, at: f64, lines: (u32, u32)) -> BundleDeploy {
    let files = int(rng, 1, 8);
    BundleDeploy {
        service: service.to_string(),
        at: at.round() as i64,
        commit: format!("{:016x}", rng.next_u64()),
        files: (0..files)
            .map(|i| format!("{service}/src/module_{i}.py"))
            .collect(),
        lines_changed: lines.0 + rng.below(u64::from(lines.1 - lines.0 + 1)) as u32,
        message: None,
    }
}

fn pick(rng: &mut Rng, from: &[usize]) -> Option<usize> {
    (!from.is_empty()).then(|| from[rng.below(from.len() as u64) as usize])
}

fn incident(
    mut s: Spec,
    topology: Topology,
    herring: Herring,
    rng: &mut Rng,
    c: &Conditions,
) -> Incident {
    let n = s.nodes.len();
    let all: Vec<usize> = (0..n).collect();
    let services: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| !s.nodes[i].datastore)
        .collect();
    let stores: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| s.nodes[i].datastore)
        .collect();
    let mut has_caller = vec![false; n];
    for &(_, to) in &s.edges {
        has_caller[to] = true;
    }
    let called: Vec<usize> = all.iter().copied().filter(|&i| has_caller[i]).collect();
    let root = match herring {
        Herring::UnobservedRoot => pick(rng, &stores),
        Herring::CallerDeploy => pick(rng, &called),
        Herring::RootNoDeploy => pick(rng, &services),
        _ => pick(rng, &all),
    }
    .unwrap_or(0);
    if herring == Herring::UnobservedRoot {
        s.nodes[root].exports = false;
    }
    let detect_delay = uniform(rng, 20.0, 150.0);
    let onset = START as f64 - detect_delay;
    let kind = rng.below(3);
    let fault = Effect {
        err: if kind != 1 {
            uniform(rng, 0.03, 0.30)
        } else {
            0.0
        },
        lat: if kind != 0 {
            s.nodes[root].base_p99 * uniform(rng, 0.8, 4.0)
        } else {
            0.0
        },
        onset: Some(onset),
        via: None,
    };
    let eff = propagate(&s, root, fault, rng, c);
    let affected = |i: usize| eff[i].onset.is_some();
    let healthy: Vec<usize> = services.iter().copied().filter(|&i| !affected(i)).collect();
    let mut deploys = Vec::new();
    for _ in 0..rng.below(3) {
        if let Some(i) = pick(rng, &services) {
            let at = onset - uniform(rng, 3_600.0, 86_400.0);
            deploys.push(deploy(rng, &s.nodes[i].name, at, (1, 300)));
        }
    }
    let root_deployed = !s.nodes[root].datastore
        && !matches!(herring, Herring::RootNoDeploy | Herring::CallerDeploy)
        && (c.root_deploy >= 1.0 || rng.next_f64() < c.root_deploy);
    if root_deployed {
        let at = onset - uniform(rng, 60.0, 1_800.0);
        deploys.push(deploy(rng, &s.nodes[root].name, at, (5, 400)));
    }
    match herring {
        Herring::DeployElsewhere => {
            if let Some(i) = pick(rng, &healthy) {
                let at = onset - uniform(rng, 0.0, 600.0);
                deploys.push(deploy(rng, &s.nodes[i].name, at, (200, 1_500)));
            }
        }
        Herring::NoisyHealthy => {
            if let Some(i) = pick(rng, &healthy) {
                s.nodes[i].noisy = true;
            }
        }
        Herring::CallerDeploy => {
            let callers: Vec<usize> = s
                .callers(root)
                .into_iter()
                .filter(|&c| !s.nodes[c].datastore)
                .collect();
            if let Some(c) = pick(rng, &callers) {
                let at = onset - uniform(rng, 0.0, 180.0);
                deploys.push(deploy(rng, &s.nodes[c].name, at, (5, 400)));
            }
        }
        _ => {}
    }
    if c.caller_deploy > 0.0 {
        for p in s.callers(root) {
            if !s.nodes[p].datastore && rng.next_f64() < c.caller_deploy {
                let at = onset - uniform(rng, 0.0, 600.0);
                deploys.push(deploy(rng, &s.nodes[p].name, at, (5, 400)));
            }
        }
    }
    for _ in 0..c.noisy_healthy {
        let quiet: Vec<usize> = healthy
            .iter()
            .copied()
            .filter(|&i| !s.nodes[i].noisy)
            .collect();
        if let Some(i) = pick(rng, &quiet) {
            s.nodes[i].noisy = true;
        }
    }
    let end = START + STEP_S * rng.below(4) as i64;
    let first = match c.history_points {
        None => START - HISTORY_S,
        Some(k) => {
            // The last point before the onset, then k − 1 more before it.
            let pre = ((START as f64 - onset) / STEP_S as f64).ceil() as i64;
            START - (pre + k.max(1) as i64 - 1) * STEP_S
        }
    };
    let mut metrics = BTreeMap::new();
    let mut alerts = Vec::new();
    for (i, node) in s.nodes.iter().enumerate() {
        if node.exports {
            metrics.insert(
                node.name.clone(),
                series(node, &eff[i], (first, end), c.gap_rate, rng),
            );
        }
        let e = &eff[i];
        let loud = e.err >= 0.02 || e.lat >= 0.5 * node.base_p99;
        if node.exports && loud && rng.next_f64() < 0.5 {
            alerts.push(BundleAlert {
                service: node.name.clone(),
                name: if e.err >= 0.02 {
                    "HighErrorRate".into()
                } else {
                    "HighLatency".into()
                },
                at: START + rng.below(30) as i64,
                severity: "critical".into(),
            });
        }
    }
    let bundle = RcaBundle {
        incident_start: START,
        services: s
            .nodes
            .iter()
            .map(|n| BundleService {
                name: n.name.clone(),
                criticality: 0.5,
            })
            .collect(),
        edges: s
            .edges
            .iter()
            .map(|&(a, b)| BundleEdge {
                from: s.nodes[a].name.clone(),
                to: s.nodes[b].name.clone(),
            })
            .collect(),
        metrics,
        deploys: Some(deploys),
        alerts,
        trace_files: Vec::new(),
        logs: match c.logs {
            LogMode::None => BTreeMap::new(),
            mode => logs(&s, &eff, root, (first, end), mode, rng),
        },
    };
    Incident {
        bundle,
        root: s.nodes[root].name.clone(),
        topology,
        herring,
    }
}

/// One incident of the given shape and red herring; the same seed gives the same incident.
pub fn generate(topology_kind: Topology, herring: Herring, seed: u64) -> Incident {
    generate_with(topology_kind, herring, seed, &Conditions::STANDARD)
}

/// One incident under the given conditions; the same seed gives the same incident.
pub fn generate_with(
    topology_kind: Topology,
    herring: Herring,
    seed: u64,
    c: &Conditions,
) -> Incident {
    let mut rng = Rng::new(seed);
    let spec = topology(topology_kind, &mut rng, c.datastore_exports);
    incident(spec, topology_kind, herring, &mut rng, c)
}

/// `per_cell` incidents for every generated topology × red herring, seeds derived from `seed`.
pub fn suite(per_cell: usize, seed: u64) -> Vec<Incident> {
    cells(&Topology::ALL, per_cell, seed, &Conditions::STANDARD)
}

/// `per_cell` incidents for every published topology × red herring.
pub fn published_suite(per_cell: usize, seed: u64) -> Vec<Incident> {
    cells(&Topology::PUBLISHED, per_cell, seed, &Conditions::STANDARD)
}

/// `per_cell` incidents for every generated topology × red herring under hard conditions.
pub fn hard_suite(per_cell: usize, seed: u64, logs: LogMode) -> Vec<Incident> {
    cells(
        &Topology::ALL,
        per_cell,
        seed,
        &Conditions::HARD.with_logs(logs),
    )
}

/// `per_cell` incidents for every published topology (hotel reservation included) × red
/// herring under hard conditions.
pub fn hard_published_suite(per_cell: usize, seed: u64, logs: LogMode) -> Vec<Incident> {
    cells(
        &Topology::HARD_PUBLISHED,
        per_cell,
        seed,
        &Conditions::HARD.with_logs(logs),
    )
}

/// `per_cell` incidents for every given topology × red herring under the given conditions.
pub fn suite_with(
    topologies: &[Topology],
    per_cell: usize,
    seed: u64,
    c: &Conditions,
) -> Vec<Incident> {
    cells(topologies, per_cell, seed, c)
}

fn cells(topologies: &[Topology], per_cell: usize, seed: u64, c: &Conditions) -> Vec<Incident> {
    let base = Rng::new(seed);
    let mut out = Vec::new();
    for (ti, &t) in topologies.iter().enumerate() {
        for (hi, h) in Herring::ALL.into_iter().enumerate() {
            for k in 0..per_cell {
                let stream = ((ti * 16 + hi) * 100_000 + k) as u64;
                out.push(generate_with(t, h, base.fork(stream).next_u64(), c));
            }
        }
    }
    out
}

/// A large random layered call graph (`services` nodes, about `edges` edges, a tenth of them
/// datastores) with one incident in it: the scale test for `rank`.
pub fn large(services: usize, edges: usize, seed: u64) -> Incident {
    let mut rng = Rng::new(seed);
    let mut s = Spec::new(DATASTORE_EXPORTS);
    let n = services.max(2);
    for i in 0..n {
        if i >= n - n / 10 {
            s.store(&mut rng);
        } else {
            s.svc(&mut rng);
        }
    }
    // Edges go from a lower index to a higher one: a DAG, datastores (last) only called.
    let mut seen = std::collections::HashSet::new();
    let mut guard = 0usize;
    while s.edges.len() < edges && guard < edges * 4 {
        guard += 1;
        let a = rng.below((n - n / 10).max(1) as u64) as usize;
        let span = (n - a - 1).max(1) as u64;
        let b = a + 1 + rng.below(span.min(n as u64 / 5 + 1)) as usize;
        if b < n && seen.insert((a, b)) {
            s.edges.push((a, b));
        }
    }
    incident(
        s,
        Topology::Mesh40,
        Herring::None,
        &mut rng,
        &Conditions::STANDARD,
    )
}

/// What a client library says when the dependency `to` fails, in one of the ways real clients
/// say it: by host name (sometimes a cluster DNS name), connection string, client library or
/// port on a bare address.
fn dependency_error(rng: &mut Rng, to: &str, timeout: bool) -> String {
    let ip = format!("10.0.{}.{}", rng.below(8), 2 + rng.below(250));
    let host = if rng.next_f64() < 0.3 {
        format!("{to}.default.svc.cluster.local")
    } else {
        to.to_string()
    };
    let kind = if to.contains("redis") || to.starts_with("cache") {
        "redis"
    } else if to.contains("memcached") {
        "memcached"
    } else if to.contains("mongo") {
        "mongo"
    } else if to.contains("rabbitmq") || to.starts_with("queue") {
        "amqp"
    } else if to.contains("-db") || to.starts_with("db") {
        "postgres"
    } else {
        "service"
    };
    let k = rng.below(3);
    match (kind, k) {
        ("redis", 0) => format!("redis.exceptions.ConnectionError: Error 111 connecting to {host}:6379. Connection refused."),
        ("redis", 1) => format!("Error: connect ECONNREFUSED {ip}:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"),
        ("redis", _) => "redis.exceptions.TimeoutError: Timeout reading from socket".to_string(),
        ("memcached", 0) => format!("pymemcache.exceptions.MemcacheUnexpectedCloseError: connection to {host}:11211 closed"),
        ("memcached", _) => format!("memcache: dial tcp {ip}:11211: i/o timeout"),
        ("mongo", 0) => format!("pymongo.errors.ServerSelectionTimeoutError: {host}:27017: timed out"),
        ("mongo", 1) => format!("MongoTimeoutError: Server selection timed out after 30000 ms ({host}:27017)"),
        ("mongo", _) => format!("server selection error: context deadline exceeded, current topology: {{ Type: Unknown, Servers: [{{ Addr: {ip}:27017, Type: Unknown }}] }}"),
        ("amqp", 0) => format!("pika.exceptions.AMQPConnectionError: Connection to {host}:5672 failed"),
        ("amqp", _) => format!("Error: connect ECONNREFUSED {ip}:5672"),
        ("postgres", 0) => format!("psycopg2.OperationalError: could not connect to server \"{host}\": Connection refused"),
        ("postgres", 1) => format!("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"{host}\" ({ip}), port 5432 failed: timeout expired"),
        ("postgres", _) => format!("org.postgresql.util.PSQLException: Connection to {ip}:5432 refused."),
        (_, 0) if timeout => format!("java.net.SocketTimeoutException: Read timed out\n\tat java.net.SocketInputStream.read(SocketInputStream.java:171)\n\tat com.example.client.Http.get(Http.java:88) GET http://{host}:8080/api/v1/items"),
        (_, 0) => format!("requests.exceptions.ConnectionError: HTTPConnectionPool(host='{host}', port=8080): Max retries exceeded with url: /api"),
        (_, 1) => format!("grpc._channel._InactiveRpcError: status = StatusCode.UNAVAILABLE, details = \"failed to connect to all addresses; last error: {host}:50051\""),
        _ => format!("upstream connect error or disconnect/reset before headers. reset reason: connection failure, upstream: {host}"),
    }
}

/// An error that names no dependency: a handler's own bug, a generic 500, an address outside
/// the graph.
fn own_error(rng: &mut Rng, service: &str) -> String {
    match rng.below(4) {
        0 => format!(
            "Traceback (most recent call last):\n  File \"/app/{service}/src/module_{}.py\", line {}, in handle\n    item = order[\"sku\"]\nKeyError: 'sku'",
            rng.below(8),
            10 + rng.below(200)
        ),
        1 => "ERROR request failed: 500 Internal Server Error".to_string(),
        2 => "java.lang.NullPointerException\n\tat com.example.Handler.handle(Handler.java:88)".to_string(),
        _ => format!("dial tcp 10.9.{}.{}:9999: connect: connection refused", rng.below(8), 2 + rng.below(250)),
    }
}

/// The error logs of an incident: per service, 1–3 lines during its episode, and unrelated
/// warnings of a few healthy services anywhere in the window.
fn logs(
    s: &Spec,
    eff: &[Effect],
    root: usize,
    (first, end): (i64, i64),
    mode: LogMode,
    rng: &mut Rng,
) -> BTreeMap<String, Vec<BundleLogLine>> {
    let mut out: BTreeMap<String, Vec<BundleLogLine>> = BTreeMap::new();
    for (i, node) in s.nodes.iter().enumerate() {
        let e = &eff[i];
        let mut lines = Vec::new();
        if let Some(on) = e.onset {
            let loud = e.err >= 0.005 || e.lat >= 0.2 * node.base_p99;
            // Datastores do not write application error logs the bundle would carry.
            let p = if node.datastore {
                0.0
            } else if loud {
                0.8
            } else {
                0.3
            };
            if rng.next_f64() < p {
                for _ in 0..1 + rng.below(3) {
                    let at = uniform(rng, on, end as f64).round() as i64;
                    let text = match (mode, e.via) {
                        (LogMode::NameDependency, Some(v)) if i != root => {
                            dependency_error(rng, &s.nodes[v].name, e.err < 0.005)
                        }
                        _ => own_error(rng, &node.name),
                    };
                    lines.push(BundleLogLine { at: Some(at), text });
                }
            }
        } else if !node.datastore && rng.next_f64() < 0.15 {
            // A healthy service's unrelated warning, naming one of its (healthy) callees.
            let callees: Vec<usize> = s.edges.iter().filter(|x| x.0 == i).map(|x| x.1).collect();
            let at = rng.below((end - first).max(1) as u64) as i64 + first;
            let text = match (mode, pick(rng, &callees)) {
                (LogMode::NameDependency, Some(c)) => format!(
                    "WARN retrying request to {} (attempt 1 of 3)",
                    s.nodes[c].name
                ),
                _ => own_error(rng, &node.name),
            };
            lines.push(BundleLogLine { at: Some(at), text });
        }
        if !lines.is_empty() {
            out.insert(node.name.clone(), lines);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_incident() {
        let a = generate(Topology::Mesh40, Herring::CallerDeploy, 7);
        let b = generate(Topology::Mesh40, Herring::CallerDeploy, 7);
        assert_eq!(a.bundle, b.bundle);
        assert_eq!(a.root, b.root);
    }

    #[test]
    fn unobserved_root_exports_nothing_and_datastores_are_shared() {
        for seed in 0..20 {
            let i = generate(Topology::Chain, Herring::UnobservedRoot, seed);
            assert!(!i.bundle.metrics.contains_key(&i.root));
            let callers = i.bundle.edges.iter().filter(|e| e.to == i.root).count();
            assert!(callers >= 2, "{seed}: {callers}");
        }
    }
}
