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

use ccp_core::rca::{BundleAlert, BundleDeploy, BundleEdge, BundleService, RcaBundle};
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
}

fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.next_f64()
}

fn int(rng: &mut Rng, lo: usize, hi_inclusive: usize) -> usize {
    lo + rng.below((hi_inclusive - lo + 1) as u64) as usize
}

impl Spec {
    fn new() -> Self {
        Spec {
            nodes: Vec::new(),
            edges: Vec::new(),
            services: 0,
            stores: 0,
        }
    }

    fn add(&mut self, rng: &mut Rng, name: String, datastore: bool) -> usize {
        self.nodes.push(Node {
            name,
            datastore,
            exports: !datastore || rng.next_f64() < DATASTORE_EXPORTS,
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
fn published(table: &[(&'static str, &'static [&'static str])], rng: &mut Rng) -> Spec {
    let mut s = Spec::new();
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

fn topology(t: Topology, rng: &mut Rng) -> Spec {
    let mut s = Spec::new();
    match t {
        Topology::OnlineBoutique => return published(ONLINE_BOUTIQUE, rng),
        Topology::SockShop => return published(SOCK_SHOP, rng),
        Topology::SocialNetwork => return published(SOCIAL_NETWORK, rng),
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
}

/// Propagate the root's fault to every caller, callees first (the generated graphs are DAGs).
fn propagate(s: &Spec, root: usize, fault: Effect, rng: &mut Rng) -> Vec<Effect> {
    let n = s.nodes.len();
    let mut callers: Vec<Vec<(usize, f64, f64, f64)>> = vec![Vec::new(); n];
    for &(from, to) in &s.edges {
        let share = uniform(rng, 0.2, 1.0);
        let attenuation = uniform(rng, 0.6, 1.0);
        let delay = uniform(rng, 0.0, 20.0);
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
                };
                let cur = &mut eff[p];
                let mut changed = false;
                if cand.err > cur.err + 1e-12 {
                    cur.err = cand.err;
                    changed = true;
                }
                if cand.lat > cur.lat + 1e-9 {
                    cur.lat = cand.lat;
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

fn series(node: &Node, eff: &Effect, end: i64, rng: &mut Rng) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut err = Vec::new();
    let mut p99 = Vec::new();
    let mut t = START - HISTORY_S;
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
        p99.push((tf, lat));
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

fn incident(mut s: Spec, topology: Topology, herring: Herring, rng: &mut Rng) -> Incident {
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
    };
    let eff = propagate(&s, root, fault, rng);
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
        && !matches!(herring, Herring::RootNoDeploy | Herring::CallerDeploy);
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
    let end = START + STEP_S * rng.below(4) as i64;
    let mut metrics = BTreeMap::new();
    let mut alerts = Vec::new();
    for (i, node) in s.nodes.iter().enumerate() {
        if node.exports {
            metrics.insert(node.name.clone(), series(node, &eff[i], end, rng));
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
    let mut rng = Rng::new(seed);
    let spec = topology(topology_kind, &mut rng);
    incident(spec, topology_kind, herring, &mut rng)
}

/// `per_cell` incidents for every generated topology × red herring, seeds derived from `seed`.
pub fn suite(per_cell: usize, seed: u64) -> Vec<Incident> {
    cells(&Topology::ALL, per_cell, seed)
}

/// `per_cell` incidents for every published topology × red herring.
pub fn published_suite(per_cell: usize, seed: u64) -> Vec<Incident> {
    cells(&Topology::PUBLISHED, per_cell, seed)
}

fn cells(topologies: &[Topology], per_cell: usize, seed: u64) -> Vec<Incident> {
    let base = Rng::new(seed);
    let mut out = Vec::new();
    for (ti, &t) in topologies.iter().enumerate() {
        for (hi, h) in Herring::ALL.into_iter().enumerate() {
            for k in 0..per_cell {
                let stream = ((ti * 16 + hi) * 100_000 + k) as u64;
                out.push(generate(t, h, base.fork(stream).next_u64()));
            }
        }
    }
    out
}

/// A large random layered call graph (`services` nodes, about `edges` edges, a tenth of them
/// datastores) with one incident in it: the scale test for `rank`.
pub fn large(services: usize, edges: usize, seed: u64) -> Incident {
    let mut rng = Rng::new(seed);
    let mut s = Spec::new();
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
    incident(s, Topology::Mesh40, Herring::None, &mut rng)
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
