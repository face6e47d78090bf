//! The graph pane drawn at many sizes and shapes: layered drawings, routes that never merge,
//! labels that stay distinct, the fallback list, and never a cell outside the pane.

use super::*;
use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::memory_graph::MemoryGraph;

fn svc(name: &str, err: f64, unhealthy: bool) -> ServiceHealth {
    ServiceHealth {
        name: name.to_string(),
        criticality: 0.5,
        error_rate: err,
        latency_p99_ms: 42.0,
        unhealthy,
    }
}

fn edges(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn render(input: &GraphInput, w: u16, h: u16, theme: &Theme) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    draw_graph(&mut buf, Rect::new(0, 0, w, h), input, theme);
    buf
}

fn lines(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.y..a.y + a.height)
        .map(|y| {
            let row: String = (a.x..a.x + a.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.trim_end().to_string()
        })
        .collect()
}

/// The demo fleet mid-incident: payment-service failing, its callers hurt.
fn demo() -> (Vec<ServiceHealth>, Vec<(String, String)>) {
    let path =
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("demo/fleet.yaml");
    let spec = FleetSpec::load(&path).expect("demo fleet loads");
    let bad: &[(&str, f64, bool)] = &[
        ("payment-service", 0.147, true),
        ("order-service", 0.089, true),
        ("user-service", 0.022, false),
        ("api", 0.016, false),
        ("gateway", 0.013, false),
    ];
    let services = spec
        .services
        .iter()
        .map(|s| {
            let (err, unhealthy) = bad
                .iter()
                .find(|b| b.0 == s.name)
                .map_or((s.base_error_rate, false), |b| (b.1, b.2));
            ServiceHealth {
                name: s.name.clone(),
                criticality: s.criticality,
                error_rate: err,
                latency_p99_ms: s.latency_p50_ms * 2.5,
                unhealthy,
            }
        })
        .collect();
    let edges = ccp_core::ports::DependencyGraph::edges(&MemoryGraph::from_fleet(&spec))
        .expect("memory graph edges");
    (services, edges)
}

fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// (x, y) of the first occurrence of `needle` in the rendered text.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let a = buf.area;
    for y in a.y..a.y + a.height {
        let row: Vec<String> = (a.x..a.x + a.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        let first: Vec<char> = needle.chars().collect();
        for x0 in 0..row.len() {
            if first
                .iter()
                .enumerate()
                .all(|(i, c)| row.get(x0 + i).is_some_and(|s| s.starts_with(*c)))
            {
                return Some((a.x + u16::try_from(x0).unwrap_or(0), y));
            }
        }
    }
    None
}

fn demo_input<'a>(
    services: &'a [ServiceHealth],
    edges: &'a [(String, String)],
    blast: &'a [String],
) -> GraphInput<'a> {
    GraphInput {
        services,
        edges,
        root: Some("payment-service"),
        blast,
        selected: Some("api"),
    }
}

/// Chain edge-lb → gateway → api → order-service → payment-service → postgres_primary, and
/// api → auth-service beside it.
fn chain() -> (Vec<ServiceHealth>, Vec<(String, String)>) {
    let services = vec![
        svc("edge-lb", 0.001, false),
        svc("gateway", 0.012, false),
        svc("api", 0.02, true),
        svc("order-service", 0.09, true),
        svc("payment-service", 0.137, true),
        svc("postgres_primary", 0.0, false),
        svc("auth-service", 0.001, false),
    ];
    let e = edges(&[
        ("edge-lb", "gateway"),
        ("gateway", "api"),
        ("api", "order-service"),
        ("order-service", "payment-service"),
        ("payment-service", "postgres_primary"),
        ("api", "auth-service"),
    ]);
    (services, e)
}

#[test]
fn chain_with_sibling_is_drawn_as_boxes_and_arrows() {
    let (services, e) = chain();
    let blast = blast_radius("payment-service", &e);
    let input = GraphInput {
        services: &services,
        edges: &e,
        root: Some("payment-service"),
        blast: &blast,
        selected: None,
    };
    let buf = render(&input, 120, 30, &Theme::default_dark());
    let t = text(&buf);
    for s in &services {
        assert!(t.contains(&s.name), "{} missing:\n{t}", s.name);
    }
    assert!(t.contains("13.7%"), "{t}");
    // Root marker in the top border right above the root's name, heavy frame around it.
    let (rx, ry) = find(&buf, "payment-service").expect("root drawn");
    let above: String = (rx.saturating_sub(1)..rx + 15)
        .map(|x| buf[(x, ry - 1)].symbol().to_string())
        .collect();
    assert!(above.contains("◆ ROOT"), "{above:?}\n{t}");
    assert_eq!(buf[(rx - 1, ry)].symbol(), "┃", "{t}");
    // order-service → payment-service: an arrowhead just left of the root's frame, a line
    // back to order-service's frame.
    assert_eq!(buf[(rx - 2, ry)].symbol(), "▶", "{t}");
    let (ox, oy) = find(&buf, "order-service").expect("order drawn");
    assert_eq!(oy, ry, "a chain is drawn straight:\n{t}");
    let between: String = (ox + 13..rx - 2)
        .map(|x| buf[(x, ry)].symbol().to_string())
        .collect();
    assert!(between.contains('─'), "{between:?}\n{t}");
    // Blast radius members carry ▲; the legend counts them.
    assert_eq!(
        t.matches('▲').count(),
        4 + 1,
        "four boxes and the legend:\n{t}"
    );
    assert!(t.contains("▲ blast radius (4)"), "{t}");
    // Healthy, degraded and unhealthy frames take their colours.
    let theme = Theme::default_dark();
    let (px, py) = find(&buf, "postgres_primary").expect("db drawn");
    assert_eq!(buf[(px - 1, py)].fg, theme.ok);
    assert_eq!(buf[(rx - 1, ry)].fg, theme.bad);
    let (gx, gy) = find(&buf, "gateway").expect("gateway drawn");
    assert_eq!(buf[(gx - 1, gy)].fg, theme.warn);
}

#[test]
fn narrow_pane_falls_back_to_a_prioritised_list() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = GraphInput {
        selected: None,
        ..demo_input(&services, &e, &blast)
    };
    let buf = render(&input, 30, 8, &Theme::default_dark());
    let l = lines(&buf);
    assert!(
        !text(&buf).contains('┌'),
        "list, not boxes:\n{}",
        text(&buf)
    );
    assert!(
        l[0].starts_with("◆ payment-service") && l[0].ends_with("14.7%"),
        "{l:?}"
    );
    assert!(l[1].starts_with("▲ order-service"), "unhealthy next: {l:?}");
    assert!(
        l[2].starts_with("▲ user-service"),
        "then blast radius by error rate: {l:?}"
    );
    assert_eq!(l[7], format!("… +{} more", services.len() - 7), "{l:?}");
}

#[test]
fn fallback_list_keeps_the_selection_visible() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = GraphInput {
        selected: Some("s3_blobstore"),
        ..demo_input(&services, &e, &blast)
    };
    let theme = Theme::default_dark();
    let buf = render(&input, 30, 8, &theme);
    let (x, y) = find(&buf, "s3_blobstore").expect("selection shown");
    assert_eq!(buf[(x, y)].bg, theme.selected().bg.unwrap_or_default());
}

#[test]
fn small_graph_list_is_grouped_by_layer_when_it_fits() {
    let (services, e) = chain();
    let input = GraphInput {
        services: &services,
        edges: &e,
        root: None,
        blast: &[],
        selected: None,
    };
    let buf = render(&input, 24, 8, &Theme::default_dark());
    let l = lines(&buf);
    assert!(l[0].starts_with("● edge-lb"), "{l:?}");
    assert!(l[1].starts_with(" ● gateway"), "indented by depth: {l:?}");
    assert_eq!(l.iter().filter(|s| s.contains('●')).count(), 7, "{l:?}");
    assert!(!text(&buf).contains("more"));
}

#[test]
fn empty_topology_waits_for_the_first_incident() {
    let input = GraphInput {
        services: &[],
        edges: &[],
        root: None,
        blast: &[],
        selected: None,
    };
    let buf = render(&input, 40, 5, &Theme::default_dark());
    assert_eq!(lines(&buf)[2].trim(), "waiting for the first incident…");
    assert!(lines(&buf)[2].starts_with("    "), "centred");
}

#[test]
fn tiny_areas_do_not_panic() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = demo_input(&services, &e, &blast);
    let empty = GraphInput {
        services: &[],
        edges: &[],
        root: None,
        blast: &[],
        selected: None,
    };
    for (w, h) in [
        (0, 0),
        (1, 1),
        (0, 5),
        (5, 0),
        (1, 30),
        (200, 1),
        (2, 2),
        (12, 3),
    ] {
        for inp in [&input, &empty] {
            let _ = render(inp, w, h, &Theme::default_dark());
            let _ = render(inp, w, h, &Theme::monochrome());
        }
    }
    // An area larger than, or outside, the buffer is clipped to it.
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 4));
    draw_graph(
        &mut buf,
        Rect::new(5, 2, 500, 500),
        &input,
        &Theme::default_dark(),
    );
    draw_graph(
        &mut buf,
        Rect::new(50, 50, 5, 5),
        &input,
        &Theme::default_dark(),
    );
}

#[test]
fn never_writes_outside_the_area() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = demo_input(&services, &e, &blast);
    let (chain_s, chain_e) = chain();
    let small = GraphInput {
        services: &chain_s,
        edges: &chain_e,
        root: Some("api"),
        blast: &[],
        selected: Some("gateway"),
    };
    let full = Rect::new(0, 0, 130, 44);
    for w in (0..=120).step_by(7) {
        for h in (0..=40).step_by(3) {
            for inp in [&input, &small] {
                let mut buf = Buffer::empty(full);
                for c in buf.content.iter_mut() {
                    c.set_char('#');
                }
                let area = Rect::new(3, 2, w, h);
                draw_graph(&mut buf, area, inp, &Theme::default_dark());
                for y in 0..full.height {
                    for x in 0..full.width {
                        if !area.contains(Position::new(x, y)) {
                            assert_eq!(buf[(x, y)].symbol(), "#", "({x},{y}) written for {w}x{h}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn huge_area_draws_full_names() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = demo_input(&services, &e, &blast);
    let buf = render(&input, 400, 200, &Theme::default_dark());
    let t = text(&buf);
    for s in &services {
        assert!(t.contains(&s.name), "{} missing", s.name);
    }
    assert!(t.contains("p99 300ms"), "roomy boxes show latency too");
}

#[test]
fn monochrome_keeps_every_distinction() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = demo_input(&services, &e, &blast);
    let theme = Theme::monochrome();
    let buf = render(&input, 98, 26, &theme);
    let t = text(&buf);
    assert!(
        t.contains("◆ ROOT") && t.contains('┏') && t.contains('┛'),
        "heavy root frame:\n{t}"
    );
    assert!(
        t.contains('▲') && t.contains('┆'),
        "dashed blast frames:\n{t}"
    );
    let (x, y) = find(&buf, "api").expect("api drawn");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "selection reversed"
    );
    let (x, y) = find(&buf, "order-service").expect("order drawn");
    assert!(
        buf[(x, y)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED),
        "unhealthy marked"
    );
    let (x, y) = find(&buf, "auth-service").expect("auth drawn");
    assert!(buf[(x, y)].modifier.is_empty(), "healthy plain");
}

#[test]
fn cycles_are_drawn() {
    let services = vec![
        svc("a", 0.0, false),
        svc("b", 0.0, false),
        svc("c", 0.3, true),
    ];
    let e = edges(&[
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("a", "a"),
        ("a", "ghost"),
    ]);
    let blast = blast_radius("c", &e);
    assert_eq!(blast, vec!["a".to_string(), "b".to_string()]);
    let input = GraphInput {
        services: &services,
        edges: &e,
        root: Some("c"),
        blast: &blast,
        selected: Some("b"),
    };
    let buf = render(&input, 60, 12, &Theme::default_dark());
    let t = text(&buf);
    for n in ["a", "b", "c"] {
        assert!(
            t.contains(&format!("│{n}"))
                || t.contains(&format!("┨{n}"))
                || t.contains(&format!("┆{n}")),
            "{t}"
        );
    }
    assert!(t.contains('◀'), "the back-edge keeps its direction:\n{t}");
    assert_eq!(navigation_order(&services, &e), vec!["a", "b", "c"]);
}

#[test]
fn blast_radius_of_a_known_graph() {
    let (_, e) = demo();
    assert_eq!(
        blast_radius("payment-service", &e),
        vec!["api", "gateway", "order-service", "user-service"]
    );
    let kafka = blast_radius("kafka", &e);
    assert!(
        kafka.contains(&"notification-service".to_string())
            && kafka.contains(&"gateway".to_string())
    );
    assert!(!kafka.contains(&"kafka".to_string()));
    assert!(blast_radius("gateway", &e).is_empty());
    assert!(blast_radius("nobody", &e).is_empty());
}

#[test]
fn navigation_order_is_layered_and_deterministic() {
    let (services, e) = demo();
    let order = navigation_order(&services, &e);
    assert_eq!(order, navigation_order(&services, &e));
    assert_eq!(order.len(), services.len());
    let pos = |n: &str| order.iter().position(|o| o == n).expect("listed");
    for (a, b) in &e {
        assert!(pos(a) < pos(b), "{a} before {b}: {order:?}");
    }
    assert!(order[..2].contains(&"gateway".to_string()));
}

#[test]
fn labels_stay_distinct_when_cut() {
    assert_eq!(label("payment-service", 20, false), "payment-service");
    assert_eq!(label("payment-service", 10, false), "payment");
    assert_eq!(label("recommendation-service", 10, false), "recommend…");
    let l = distinct_labels(&[(0, "postgres_primary", 9), (1, "postgres_replica", 9)]);
    assert_ne!(l[&0], l[&1]);
    assert_eq!(l[&0], "post…mary");
}

#[test]
fn two_hundred_services_stay_cheap() {
    // A deterministic pseudo-random layered fleet.
    let n = 200;
    let services: Vec<ServiceHealth> = (0..n)
        .map(|i| svc(&format!("svc-{i:03}"), 0.001, i % 17 == 0))
        .collect();
    let mut seed: u64 = 7;
    let mut e = Vec::new();
    for i in 1..n {
        for _ in 0..2 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let j = usize::try_from(seed >> 33).unwrap_or(0) % i;
            e.push((format!("svc-{j:03}"), format!("svc-{i:03}")));
        }
    }
    let input = GraphInput {
        services: &services,
        edges: &e,
        root: Some("svc-017"),
        blast: &[],
        selected: None,
    };
    let start = std::time::Instant::now();
    for (w, h) in [(98, 26), (400, 300)] {
        let _ = render(&input, w, h, &Theme::default_dark());
    }
    let took = start.elapsed();
    // Generous for unoptimised test builds; guards against quadratic-or-worse blowups.
    assert!(took.as_millis() < 2000, "{took:?}");
}

#[test]
fn demo_fleet_dumps() {
    let (services, e) = demo();
    let blast = blast_radius("payment-service", &e);
    let input = demo_input(&services, &e, &blast);
    let theme = Theme::default_dark();
    for (w, h) in [(98, 26), (78, 20), (38, 10)] {
        let buf = render(&input, w, h, &theme);
        println!("--- {w}x{h}");
        for l in lines(&buf) {
            println!("|{l}");
        }
        let t = text(&buf);
        if w >= 78 {
            assert!(
                t.contains('◆') && t.contains('┃') && t.contains('▶'),
                "layered at {w}x{h}:\n{t}"
            );
        } else {
            assert!(
                t.contains("… +") && !t.contains('▶'),
                "list at {w}x{h}:\n{t}"
            );
        }
    }
    let start = std::time::Instant::now();
    let _ = render(&input, 98, 26, &theme);
    println!("one 98x26 frame: {:?}", start.elapsed());
}

#[test]
fn the_cached_drawing_is_the_drawing_and_follows_every_input() {
    let theme = Theme::default_dark();
    let services = vec![
        svc("web", 0.0, false),
        svc("api", 0.2, true),
        svc("db", 0.0, false),
    ];
    let calls = edges(&[("web", "api"), ("api", "db")]);
    let blast = vec!["web".to_string()];
    fn input<'a>(
        services: &'a [ServiceHealth],
        calls: &'a [(String, String)],
        blast: &'a [String],
        selected: Option<&'a str>,
    ) -> GraphInput<'a> {
        GraphInput {
            services,
            edges: calls,
            root: Some("api"),
            blast,
            selected,
        }
    }
    let cache = crate::draw::DrawCache::new();
    // Drawn into a pane offset from the origin, over cells that held something else.
    let area = Rect::new(3, 2, 60, 16);
    let cached = |inp: &GraphInput| {
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 20));
        buf.set_string(0, 0, "x".repeat(70 * 20), Style::default());
        cache.draw_graph(&mut buf, area, inp, &theme);
        buf
    };
    let direct = |inp: &GraphInput| {
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, 20));
        buf.set_string(0, 0, "x".repeat(70 * 20), Style::default());
        draw_graph(&mut buf, area, inp, &theme);
        buf
    };
    let first = input(&services, &calls, &blast, None);
    assert_eq!(cached(&first), direct(&first));
    assert_eq!(
        cached(&first),
        direct(&first),
        "a hit copies the same cells"
    );
    let selected = input(&services, &calls, &blast, Some("db"));
    assert_eq!(
        cached(&selected),
        direct(&selected),
        "the selection is part of the key"
    );
    let mut healed = services.clone();
    healed[1] = svc("api", 0.0, false);
    let after = input(&healed, &calls, &blast, None);
    assert_eq!(cached(&after), direct(&after), "health is part of the key");
    assert_ne!(direct(&after), direct(&first));
}
