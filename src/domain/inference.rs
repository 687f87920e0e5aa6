//! Inference clusters (AKS): what the cluster is for, and the nodes it needs for that.
//!
//! Azure ML asks a production cluster for at least 12 vCPUs in all (nodes × vCPUs of the
//! size): fewer cannot hold the system services and a scoring replica with room to spare. A
//! dev-test cluster may be as small as one node.

use std::fmt;

/// The fewest vCPUs (nodes × vCPUs per node) of a production inference cluster.
pub const MIN_PRODUCTION_VCPUS: i64 = 12;

/// The most nodes the form takes (AKS allows up to 1000 per pool; an inference cluster with
/// more than 100 is made in the AKS portal).
pub const MAX_NODES: i64 = 100;

/// `clusterPurpose`: Azure's `FastProd` (the default) and `DenseProd` are production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterPurpose {
    Production,
    DevTest,
}

impl ClusterPurpose {
    /// The form's values: `production` or `devtest`.
    pub fn from_form(value: &str) -> Result<ClusterPurpose, String> {
        match value.trim() {
            "production" => Ok(ClusterPurpose::Production),
            "devtest" => Ok(ClusterPurpose::DevTest),
            _ => Err("Cluster purpose must be Production or Dev-test.".into()),
        }
    }

    /// Azure's values, in any case; a missing one is Azure's default, `FastProd`.
    pub fn from_arm(value: Option<&str>) -> Result<ClusterPurpose, String> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("fastprod") | Some("denseprod") => Ok(ClusterPurpose::Production),
            Some("devtest") => Ok(ClusterPurpose::DevTest),
            Some(_) => Err("clusterPurpose must be FastProd, DenseProd or DevTest.".into()),
        }
    }

    pub fn to_arm(self) -> &'static str {
        match self {
            ClusterPurpose::Production => "FastProd",
            ClusterPurpose::DevTest => "DevTest",
        }
    }

    pub fn form_value(self) -> &'static str {
        match self {
            ClusterPurpose::Production => "production",
            ClusterPurpose::DevTest => "devtest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClusterPurpose::Production => "Production",
            ClusterPurpose::DevTest => "Dev-test",
        }
    }
}

impl fmt::Display for ClusterPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The number of nodes as typed: a whole number from 1 to [`MAX_NODES`].
pub fn parse_node_count(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Number of nodes is required.".into());
    }
    let nodes: i64 = text
        .parse()
        .map_err(|_| "Number of nodes must be a whole number, such as 3.".to_string())?;
    if !(1..=MAX_NODES).contains(&nodes) {
        return Err(format!(
            "Number of nodes must be between 1 and {MAX_NODES} (it is {nodes})."
        ));
    }
    Ok(nodes)
}

/// The cluster's vCPUs in words: "3 nodes × 4 vCPUs = 12 vCPUs".
pub fn describe_capacity(nodes: i64, vcpus_per_node: i64) -> String {
    let node_word = if nodes == 1 { "node" } else { "nodes" };
    format!(
        "{nodes} {node_word} × {vcpus_per_node} vCPUs = {} vCPUs",
        nodes.saturating_mul(vcpus_per_node)
    )
}

/// The production rule: nodes × vCPUs of the size ≥ [`MIN_PRODUCTION_VCPUS`]. The message says
/// how many nodes of this size would do.
pub fn check_capacity(
    purpose: ClusterPurpose,
    nodes: i64,
    vcpus_per_node: i64,
) -> Result<(), String> {
    let total = nodes.saturating_mul(vcpus_per_node);
    if purpose == ClusterPurpose::DevTest || total >= MIN_PRODUCTION_VCPUS {
        return Ok(());
    }
    let per_node = vcpus_per_node.max(1);
    // Rounded up; written so that no size (Azure's number) overflows it.
    let enough = (MIN_PRODUCTION_VCPUS - 1) / per_node + 1;
    Err(format!(
        "A production cluster needs at least {MIN_PRODUCTION_VCPUS} vCPUs in all; {} is {total}. Choose {enough} nodes or more of this size, a larger size, or Dev-test.",
        describe_capacity(nodes, vcpus_per_node)
            .split(" = ")
            .next()
            .unwrap_or_default()
    ))
}

/// The Microsoft-provided certificate's leaf domain label: the first label of the name Azure
/// gives the cluster (`<label><6 characters>.<region>.cloudapp.azure.com`). A DNS label of
/// lower-case letters, digits and `-`, 3 to 63 characters, starting with a letter and not
/// ending with `-`.
pub fn check_leaf_domain_label(label: &str) -> Result<(), String> {
    let label = label.trim();
    if label.is_empty() {
        return Err("Leaf domain label is required for a Microsoft certificate.".into());
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "Leaf domain label may only contain lower-case letters, digits and '-' ('{}' is not allowed).",
            bad.escape_default()
        ));
    }
    let length = label.len();
    if !(3..=63).contains(&length) {
        return Err(format!(
            "Leaf domain label must be 3 to 63 characters long (it has {length})."
        ));
    }
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("Leaf domain label must start with a letter.".into());
    }
    if label.ends_with('-') {
        return Err("Leaf domain label must not end with '-'.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClusterPurpose::*;

    /// The 12-vCPU rule at its edge, both ways, and dev-test's freedom.
    #[test]
    fn production_needs_twelve_vcpus() {
        let cases = [
            (Production, 3, 4, true),
            (Production, 2, 4, false),
            (Production, 1, 12, true),
            (Production, 1, 8, false),
            (Production, 6, 2, true),
            (Production, 5, 2, false),
            (Production, 11, 1, false),
            (Production, 12, 1, true),
            (DevTest, 1, 2, true),
            (DevTest, 1, 1, true),
        ];
        for (purpose, nodes, vcpus, fits) in cases {
            assert_eq!(
                check_capacity(purpose, nodes, vcpus).is_ok(),
                fits,
                "{purpose} {nodes}×{vcpus}"
            );
        }
        assert_eq!(
            check_capacity(Production, 2, 4).unwrap_err(),
            "A production cluster needs at least 12 vCPUs in all; 2 nodes × 4 vCPUs is 8. Choose 3 nodes or more of this size, a larger size, or Dev-test."
        );
        assert_eq!(describe_capacity(1, 16), "1 node × 16 vCPUs = 16 vCPUs");
    }

    #[test]
    fn node_counts() {
        assert_eq!(parse_node_count(" 3 "), Ok(3));
        assert_eq!(parse_node_count("1"), Ok(1));
        assert_eq!(parse_node_count("100"), Ok(100));
        for bad in ["0", "101", "-1", "2.5", "three", ""] {
            assert!(parse_node_count(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn purposes_on_the_form_and_on_the_wire() {
        assert_eq!(ClusterPurpose::from_form("production"), Ok(Production));
        assert_eq!(ClusterPurpose::from_form("devtest"), Ok(DevTest));
        assert!(ClusterPurpose::from_form("FastProd").is_err());
        assert_eq!(ClusterPurpose::from_arm(None), Ok(Production));
        assert_eq!(ClusterPurpose::from_arm(Some("DenseProd")), Ok(Production));
        assert_eq!(ClusterPurpose::from_arm(Some("devtest")), Ok(DevTest));
        assert!(ClusterPurpose::from_arm(Some("Cheap")).is_err());
        assert_eq!(Production.to_arm(), "FastProd");
    }

    #[test]
    fn leaf_domain_labels() {
        for good in ["myaks", "scoring-01", "a1b"] {
            assert_eq!(check_leaf_domain_label(good), Ok(()), "{good}");
        }
        for bad in ["", "ab", "MyAks", "1abc", "abc-", "a_b_c", &"a".repeat(64)] {
            assert!(check_leaf_domain_label(bad).is_err(), "{bad}");
        }
    }
}
