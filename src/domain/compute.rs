//! Kinds of compute and the states Azure reports for them, in the words the dashboard shows.

use std::fmt;

/// The tab a compute belongs to, derived from Azure's `computeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComputeKind {
    Instance,
    Cluster,
    Inference,
    Attached,
    /// A `computeType` this version does not know; kept and shown, never dropped.
    Other,
}

impl ComputeKind {
    pub const ALL: [ComputeKind; 5] = [
        ComputeKind::Instance,
        ComputeKind::Cluster,
        ComputeKind::Inference,
        ComputeKind::Attached,
        ComputeKind::Other,
    ];

    /// Maps Azure's `properties.computeType` to a kind; unknown types become `Other`.
    pub fn from_compute_type(compute_type: &str) -> Self {
        match compute_type {
            "ComputeInstance" => ComputeKind::Instance,
            "AmlCompute" => ComputeKind::Cluster,
            "AKS" | "Kubernetes" => ComputeKind::Inference,
            "VirtualMachine" | "HDInsight" | "Databricks" | "DataLakeAnalytics"
            | "SynapseSpark" | "DataFactory" => ComputeKind::Attached,
            _ => ComputeKind::Other,
        }
    }

    /// The value stored in the cache and used in URLs (`?tab=instances`).
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeKind::Instance => "instance",
            ComputeKind::Cluster => "cluster",
            ComputeKind::Inference => "inference",
            ComputeKind::Attached => "attached",
            ComputeKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            ComputeKind::Instance => "Compute instance",
            ComputeKind::Cluster => "Compute cluster",
            ComputeKind::Inference => "Inference cluster",
            ComputeKind::Attached => "Attached compute",
            ComputeKind::Other => "Other",
        }
    }
}

impl fmt::Display for ComputeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How a state looks in the list: its colour family and whether a spinner turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateTone {
    Good,
    Idle,
    Busy,
    Bad,
    Unknown,
}

impl StateTone {
    pub fn css_class(self) -> &'static str {
        match self {
            StateTone::Good => "good",
            StateTone::Idle => "idle",
            StateTone::Busy => "busy",
            StateTone::Bad => "bad",
            StateTone::Unknown => "unknown",
        }
    }
}

/// The single state shown for a compute: the instance `state` when Azure gives one, else the
/// cluster allocation state, else the provisioning state.
pub fn display_state(
    instance_state: Option<&str>,
    allocation_state: Option<&str>,
    provisioning_state: Option<&str>,
) -> String {
    let provisioning = provisioning_state.unwrap_or("Unknown");
    if matches!(
        provisioning,
        "Creating" | "Deleting" | "Updating" | "Failed"
    ) {
        // For clusters and attached compute the provisioning state is the story while it moves.
        if instance_state.is_none() {
            return provisioning.to_string();
        }
    }
    if let Some(state) = instance_state {
        return state.to_string();
    }
    if provisioning == "Succeeded"
        && let Some(allocation) = allocation_state
    {
        return allocation.to_string();
    }
    provisioning.to_string()
}

/// States that change on their own: a spinner turns and the compute is re-read until it settles.
pub const TRANSITIONAL_STATES: [&str; 9] = [
    "Creating",
    "Deleting",
    "Restarting",
    "Resizing",
    "SettingUp",
    "Starting",
    "Stopping",
    "UserSettingUp",
    "Updating",
];

/// Tone of any state string Azure may send (instance states, allocation, provisioning).
pub fn state_tone(state: &str) -> StateTone {
    if is_transitional(state) {
        return StateTone::Busy;
    }
    match state {
        "Running" | "JobRunning" | "Succeeded" | "Steady" => StateTone::Good,
        "Stopped" | "Canceled" => StateTone::Idle,
        "CreateFailed" | "SetupFailed" | "UserSetupFailed" | "Unusable" | "Failed" => {
            StateTone::Bad
        }
        _ => StateTone::Unknown,
    }
}

pub fn is_transitional(state: &str) -> bool {
    TRANSITIONAL_STATES.contains(&state)
}

/// Human words for a state: Azure's identifiers split into words ("JobRunning" → "Job running").
pub fn state_label(state: &str) -> String {
    let mut out = String::with_capacity(state.len() + 4);
    for (i, c) in state.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Is the provisioning state one an operation can end in?
pub fn is_terminal_provisioning_state(state: &str) -> bool {
    matches!(state, "Succeeded" | "Failed" | "Canceled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_compute_types_are_kept_as_other() {
        assert_eq!(
            ComputeKind::from_compute_type("ComputeInstance"),
            ComputeKind::Instance
        );
        assert_eq!(
            ComputeKind::from_compute_type("AmlCompute"),
            ComputeKind::Cluster
        );
        assert_eq!(
            ComputeKind::from_compute_type("QuantumBox"),
            ComputeKind::Other
        );
    }

    #[test]
    fn the_shown_state_prefers_the_instance_state() {
        assert_eq!(
            display_state(Some("Stopped"), None, Some("Succeeded")),
            "Stopped"
        );
        assert_eq!(
            display_state(None, Some("Resizing"), Some("Succeeded")),
            "Resizing"
        );
        assert_eq!(
            display_state(None, Some("Steady"), Some("Creating")),
            "Creating"
        );
        assert_eq!(display_state(None, None, None), "Unknown");
    }

    #[test]
    fn transitional_states_spin() {
        for s in [
            "Creating",
            "Starting",
            "Stopping",
            "Restarting",
            "Deleting",
            "Resizing",
        ] {
            assert!(is_transitional(s), "{s}");
        }
        for s in ["Running", "Stopped", "CreateFailed", "Steady", "Whatever"] {
            assert!(!is_transitional(s), "{s}");
        }
        assert_eq!(state_label("JobRunning"), "Job running");
    }
}
