//! Loader and validator: the shipped trees load; every validation error names file:line:col and
//! says what is wrong, exactly.

use super::*;

const GOOD: &str = "\
name: t
start: assess
nodes:
  assess:
    type: condition
    if: 'severity >= \"high\"'
    then: rollback
    else: done
  rollback:
    type: action
    action: rollback_deployment
    next: done
    on_failure: escalate
  done:
    type: end
  escalate:
    type: escalate
";

fn err(text: &str) -> String {
    match Tree::from_str(text, "t.yaml") {
        Ok(t) => panic!("expected an error, got {t:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_trees_load_and_a_good_tree_gets_its_defaults() {
    let set = TreeSet::embedded().unwrap();
    let names: Vec<&str> = set.trees().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rollback-on-deploy-failure",
            "retry-flaky-timing",
            "infra-escalate",
            "escalate-unknown"
        ]
    );
    let t = Tree::from_str(GOOD, "t.yaml").unwrap();
    match &t.nodes["rollback"] {
        Node::Action(a) => {
            assert_eq!(a.phase, Phase::ImmediateResponse);
            assert!(a.disruptive);
            assert_eq!(a.takes_out, 0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_node_id_points_at_the_key_with_a_hint() {
    let text = GOOD.replace("on_failure: escalate", "on_failure: escalat");
    assert_eq!(
        err(&text),
        "t.yaml:13:5: `on_failure` names `escalat`, which is not a node of this tree; did you mean `escalate`?"
    );
    let text = GOOD.replace("start: assess", "start: nowhere");
    assert_eq!(
        err(&text),
        "t.yaml:2:1: `start` names `nowhere`, which is not a node of this tree; nodes: assess, done, escalate, rollback"
    );
}

#[test]
fn cycles_are_refused_where_they_close() {
    let text = GOOD.replace("    next: done\n", "    next: assess\n");
    assert_eq!(
        err(&text),
        "t.yaml:12:5: `next` of `rollback` leads back to `assess`: trees cannot loop (use an action's `retries` to try again)"
    );
}

#[test]
fn unreachable_nodes_are_named() {
    let text = format!("{GOOD}  orphan:\n    type: end\n");
    assert_eq!(
        err(&text),
        "t.yaml:18:3: node `orphan` is unreachable from `start` (assess)"
    );
}

#[test]
fn missing_branches_and_foreign_keys_are_named() {
    let text = GOOD.replace("    else: done\n", "");
    assert_eq!(
        err(&text),
        "t.yaml:4:3: condition node `assess` needs `else`"
    );
    let text = GOOD.replace("    next: done\n", "");
    assert_eq!(
        err(&text),
        "t.yaml:9:3: action node `rollback` needs `next` (end the path with an `end` or `escalate` node)"
    );
    let text = GOOD.replace("    type: end\n", "    type: end\n    branches: [a, b]\n");
    assert_eq!(
        err(&text),
        "t.yaml:16:5: `branches` is not used by end nodes (node `done`); they take: outcome, reason"
    );
}

#[test]
fn bad_expressions_are_refused_at_load() {
    let text = GOOD.replace("\"high\"", "\"hihg\"");
    assert_eq!(
        err(&text),
        "t.yaml:6:5: `hihg` is not a severity; use one of info, low, medium, high, critical (at character 1 of `severity >= \"hihg\"`)"
    );
}

#[test]
fn phases_only_move_forward() {
    let text = GOOD
        .replace("    next: done\n", "    next: undo\n")
        .replace(
            "  done:\n",
            "  undo:\n    type: action\n    action: snapshot_state\n    next: done\n  done:\n",
        );
    assert_eq!(
        err(&text),
        "t.yaml:12:5: `rollback` runs in immediate_response but leads to `undo` in preparation: phases only move forward (preparation → immediate_response → stabilization → validation → optimization → cleanup → post_recovery)"
    );
}

#[test]
fn parallel_branches_must_be_action_chains() {
    let text = "\
name: p
start: fork
nodes:
  fork:
    type: parallel
    branches: [a, ask]
    next: done
  a:
    type: action
    action: health_check
  ask:
    type: gate
    then: done
    else: done
  done:
    type: end
";
    assert_eq!(
        err(text),
        "t.yaml:12:5: `ask` runs in a branch of parallel node `fork` and must be an action, not a gate"
    );
    let one = "name: p\nstart: fork\nnodes:\n  fork:\n    type: parallel\n    branches: [a]\n    next: done\n  a:\n    type: action\n    action: health_check\n  done:\n    type: end\n";
    assert_eq!(
        err(one),
        "t.yaml:6:5: parallel node `fork` needs at least two branches"
    );
}

#[test]
fn schema_errors_come_from_the_config_machinery() {
    let text = GOOD.replace("type: escalate", "type: escalation");
    let e = err(&text);
    assert!(e.starts_with("t.yaml:17:11: "), "{e}");
    assert!(e.contains("escalation"), "{e}");
    let text = GOOD.replace("    type: end\n", "    type: end\n    outcom: recovered\n");
    let e = err(&text);
    assert!(e.starts_with("t.yaml:16:5: unknown key `outcom`"), "{e}");
    assert!(e.contains("did you mean `outcome`?"), "{e}");
}

#[test]
fn a_user_tree_replaces_a_default_of_the_same_name() {
    let mut set = TreeSet::embedded().unwrap();
    let mine = GOOD.replace("name: t", "name: escalate-unknown");
    set.add(Tree::from_str(&mine, "mine.yaml").unwrap());
    assert_eq!(set.trees().len(), 4);
    let t = set
        .trees()
        .iter()
        .find(|t| t.name == "escalate-unknown")
        .unwrap();
    assert_eq!(t.source, "mine.yaml");
}
