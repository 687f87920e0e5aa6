//! Which action is allowed in which state: the one table the buttons, the server's refusals
//! and the bulk actions all read. It follows what Azure accepts, so a refusal is said before
//! Azure says it.

use super::compute::{ComputeKind, is_transitional, state_label};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComputeAction {
    Start,
    Stop,
    Restart,
    /// Delete the compute and, for attached compute, the resource behind it.
    Delete,
    /// Attached compute and inference clusters: forget it in the workspace, keep the resource
    /// (the VM, the Databricks workspace, the AKS cluster).
    Detach,
}

/// Instance states from which Azure stops an instance.
const STOPPABLE: [&str; 6] = [
    "Running",
    "JobRunning",
    "SettingUp",
    "UserSettingUp",
    "SetupFailed",
    "UserSetupFailed",
];

impl ComputeAction {
    pub const ALL: [ComputeAction; 5] = [
        ComputeAction::Start,
        ComputeAction::Stop,
        ComputeAction::Restart,
        ComputeAction::Delete,
        ComputeAction::Detach,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ComputeAction::Start => "start",
            ComputeAction::Stop => "stop",
            ComputeAction::Restart => "restart",
            ComputeAction::Delete => "delete",
            ComputeAction::Detach => "detach",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ComputeAction> {
        Self::ALL.into_iter().find(|a| a.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            ComputeAction::Start => "Start",
            ComputeAction::Stop => "Stop",
            ComputeAction::Restart => "Restart",
            ComputeAction::Delete => "Delete",
            ComputeAction::Detach => "Detach",
        }
    }

    /// Actions that cannot be undone are confirmed by name first.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, ComputeAction::Delete | ComputeAction::Detach)
    }

    /// Whether the action may be asked of a compute of this kind in this state, and why not.
    pub fn check(self, kind: ComputeKind, state: &str) -> Result<(), String> {
        // Words are made only for a refusal: `offered` asks this of every row of the list.
        let words = || state_label(state).to_lowercase();
        // Azure stops an instance that is still setting up; every other move must end first.
        let stoppable_while_moving = self == ComputeAction::Stop && STOPPABLE.contains(&state);
        if is_transitional(state) && !stoppable_while_moving {
            return Err(format!("It is {}; wait until that has finished.", words()));
        }
        match self {
            ComputeAction::Start | ComputeAction::Stop | ComputeAction::Restart
                if kind != ComputeKind::Instance =>
            {
                Err(format!(
                    "{} applies to compute instances only.",
                    self.label()
                ))
            }
            ComputeAction::Start if state != "Stopped" => Err(format!(
                "Only a stopped instance can be started; it is {}.",
                words()
            )),
            ComputeAction::Stop if !STOPPABLE.contains(&state) => Err(format!(
                "Only a running instance can be stopped; it is {}.",
                words()
            )),
            ComputeAction::Restart if !matches!(state, "Running" | "JobRunning") => Err(format!(
                "Only a running instance can be restarted; it is {}.",
                words()
            )),
            ComputeAction::Detach
                if !matches!(kind, ComputeKind::Attached | ComputeKind::Inference) =>
            {
                Err(
                    "Only attached compute and inference clusters can be detached; other kinds are deleted."
                        .to_string(),
                )
            }
            _ => Ok(()),
        }
    }

    /// The actions to offer for a compute in this state, in the order buttons show them.
    pub fn offered(kind: ComputeKind, state: &str) -> Vec<ComputeAction> {
        Self::ALL
            .into_iter()
            .filter(|a| a.check(kind, state).is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComputeAction::*;
    use ComputeKind::*;

    #[test]
    fn the_table() {
        assert_eq!(
            ComputeAction::offered(Instance, "Running"),
            [Stop, Restart, Delete]
        );
        assert_eq!(
            ComputeAction::offered(Instance, "JobRunning"),
            [Stop, Restart, Delete]
        );
        assert_eq!(ComputeAction::offered(Instance, "Stopped"), [Start, Delete]);
        assert_eq!(ComputeAction::offered(Instance, "CreateFailed"), [Delete]);
        assert_eq!(
            ComputeAction::offered(Instance, "SetupFailed"),
            [Stop, Delete]
        );
        assert!(ComputeAction::offered(Instance, "Starting").is_empty());
        assert_eq!(ComputeAction::offered(Instance, "SettingUp"), [Stop]);
        assert!(ComputeAction::offered(Instance, "Deleting").is_empty());
        assert_eq!(ComputeAction::offered(Cluster, "Steady"), [Delete]);
        assert!(ComputeAction::offered(Cluster, "Resizing").is_empty());
        assert_eq!(
            ComputeAction::offered(Attached, "Succeeded"),
            [Delete, Detach]
        );
        assert_eq!(
            ComputeAction::offered(Inference, "Succeeded"),
            [Delete, Detach],
            "an AKS cluster can be detached and kept"
        );
        assert!(ComputeAction::offered(Inference, "Creating").is_empty());
        assert!(Detach.check(Cluster, "Steady").is_err());
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            Start.check(Instance, "Running").unwrap_err(),
            "Only a stopped instance can be started; it is running."
        );
        assert!(
            Stop.check(Instance, "Stopping")
                .unwrap_err()
                .contains("wait until")
        );
        assert!(
            Restart
                .check(Cluster, "Steady")
                .unwrap_err()
                .contains("compute instances only")
        );
        assert!(Detach.check(Instance, "Stopped").is_err());
    }
}
