//! The applications of a compute instance (Jupyter, JupyterLab, RStudio, VS Code, terminal):
//! only its owner opens them, and only while it runs.

/// An application the dashboard links to, by the slug of its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Application {
    JupyterLab,
    Jupyter,
    VsCode,
    RStudio,
    Terminal,
}

impl Application {
    pub const ALL: [Application; 5] = [
        Application::JupyterLab,
        Application::Jupyter,
        Application::VsCode,
        Application::RStudio,
        Application::Terminal,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Application::JupyterLab => "jupyterlab",
            Application::Jupyter => "jupyter",
            Application::VsCode => "vscode",
            Application::RStudio => "rstudio",
            Application::Terminal => "terminal",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Application::JupyterLab => "JupyterLab",
            Application::Jupyter => "Jupyter",
            Application::VsCode => "VS Code",
            Application::RStudio => "RStudio",
            Application::Terminal => "Terminal",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Application> {
        Self::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// Azure names them "Jupyter Lab", "VS Code (Web)", "RStudio"…: compared without spaces,
    /// case or a parenthesised suffix.
    pub fn matches_display_name(self, display_name: &str) -> bool {
        let base = display_name.split('(').next().unwrap_or("");
        let squashed: String = base
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        squashed == self.slug()
    }
}

/// The states in which an instance's applications answer.
pub fn applications_open_in(state: &str) -> bool {
    matches!(state, "Running" | "JobRunning")
}

/// Only web addresses are followed: a link never runs script or opens a local file.
pub fn is_web_address(uri: &str) -> bool {
    let lower = uri.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !uri.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_display_names() {
        assert!(Application::JupyterLab.matches_display_name("Jupyter Lab"));
        assert!(Application::VsCode.matches_display_name("VS Code (Web)"));
        assert!(Application::Jupyter.matches_display_name("Jupyter"));
        assert!(!Application::Jupyter.matches_display_name("Jupyter Lab"));
        assert_eq!(
            Application::from_slug("rstudio"),
            Some(Application::RStudio)
        );
        assert_eq!(Application::from_slug("shell"), None);
        assert!(is_web_address(
            "https://ci.westeurope.instances.azureml.ms/lab"
        ));
        assert!(!is_web_address("javascript:alert(1)"));
        assert!(applications_open_in("Running") && !applications_open_in("Stopped"));
    }
}
