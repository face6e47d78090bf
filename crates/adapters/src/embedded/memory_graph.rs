//! The in-memory dependency graph: the zero-setup stand-in for Neo4j, loaded from the fleet file.

use super::fleet_spec::FleetSpec;
use ccp_core::domain::ServiceNode;
use ccp_core::ports::{DependencyGraph, PortResult};

/// Nodes and call edges held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryGraph {
    nodes: Vec<ServiceNode>,
    edges: Vec<(String, String)>,
}

impl MemoryGraph {
    /// A graph from explicit parts (tests, RCA bundles).
    pub fn new(nodes: Vec<ServiceNode>, edges: Vec<(String, String)>) -> Self {
        Self { nodes, edges }
    }

    /// The graph the simulated fleet runs on.
    pub fn from_fleet(spec: &FleetSpec) -> Self {
        let nodes = spec
            .services
            .iter()
            .map(|s| ServiceNode {
                name: s.name.clone(),
                criticality: s.criticality,
                resources: s.resources.clone(),
            })
            .collect();
        let edges = spec
            .services
            .iter()
            .flat_map(|s| s.calls.iter().map(move |c| (s.name.clone(), c.to.clone())))
            .collect();
        Self { nodes, edges }
    }
}

impl DependencyGraph for MemoryGraph {
    fn nodes(&self) -> PortResult<Vec<ServiceNode>> {
        Ok(self.nodes.clone())
    }
    fn edges(&self) -> PortResult<Vec<(String, String)>> {
        Ok(self.edges.clone())
    }
}
