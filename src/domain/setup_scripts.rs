//! Setup scripts of a compute instance: a creation script runs once when it is provisioned, a
//! startup script at every start.
//!
//! Azure's `ScriptReference` is `{scriptSource, scriptData, scriptArguments, timeout}`. A
//! script given inline travels base64-encoded with source `inline`; a script stored in the
//! workspace's file share is referenced by its path with source `workspaceStorage` — both as
//! azure-ai-ml sends them. The timeout is passed to the `timeout` command (`"10m"`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::field::FieldErrors;

/// Larger scripts belong in the workspace's file share.
pub const MAX_INLINE_BYTES: usize = 32 * 1024;
pub const MAX_PATH_CHARS: usize = 512;
pub const MAX_ARGUMENTS_CHARS: usize = 1000;
/// Azure stops a setup script after this long whatever the timeout says; a longer one
/// would only mislead.
pub const MAX_TIMEOUT_MINUTES: u64 = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// The script's text.
    Inline(String),
    /// A path in the workspace's file share, e.g. `Users/alice/setup.sh`.
    WorkspacePath(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupScript {
    pub source: ScriptSource,
    pub arguments: String,
    pub timeout_minutes: Option<u64>,
}

/// One script's fields as typed; `source` is `none`, `inline` or `path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptInput {
    pub source: String,
    pub inline: String,
    pub path: String,
    pub arguments: String,
    pub timeout: String,
}

impl SetupScript {
    /// `prefix` names the form's fields (`creation_script` → `creation_script_inline`, …).
    pub fn from_input(
        prefix: &str,
        input: &ScriptInput,
    ) -> Result<Option<SetupScript>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let source = match input.source.trim() {
            "" | "none" => return Ok(None),
            "inline" => errors
                .check(&format!("{prefix}_inline"), check_inline(&input.inline))
                .map(ScriptSource::Inline),
            "path" => errors
                .check(&format!("{prefix}_path"), check_path(&input.path))
                .map(ScriptSource::WorkspacePath),
            other => {
                errors.add(
                    format!("{prefix}_source"),
                    format!(
                        "Script source must be none, inline or path, not '{}'.",
                        super::scale::shorten(other)
                    ),
                );
                None
            }
        };
        let arguments = errors.check(
            &format!("{prefix}_arguments"),
            check_arguments(&input.arguments),
        );
        let timeout = errors.check(&format!("{prefix}_timeout"), parse_timeout(&input.timeout));
        errors.into_result()?;
        Ok(source.map(|source| SetupScript {
            source,
            arguments: arguments.unwrap_or_default(),
            timeout_minutes: timeout.flatten(),
        }))
    }

    pub fn to_arm(&self) -> Value {
        let (source, data) = match &self.source {
            ScriptSource::Inline(text) => ("inline", STANDARD.encode(text.as_bytes())),
            ScriptSource::WorkspacePath(path) => ("workspaceStorage", path.clone()),
        };
        let mut script = json!({ "scriptSource": source, "scriptData": data });
        if !self.arguments.is_empty() {
            script["scriptArguments"] = json!(self.arguments);
        }
        if let Some(minutes) = self.timeout_minutes {
            script["timeout"] = json!(format!("{minutes}m"));
        }
        script
    }

    /// Words for the review step.
    pub fn describe(&self) -> String {
        let what = match &self.source {
            ScriptSource::Inline(text) => {
                format!("an inline script of {} lines", text.lines().count())
            }
            ScriptSource::WorkspacePath(path) => format!("the workspace file {path}"),
        };
        let args = if self.arguments.is_empty() {
            String::new()
        } else {
            format!(" with arguments {}", self.arguments)
        };
        let timeout = self
            .timeout_minutes
            .map(|m| format!(", stopped after {m} minutes"))
            .unwrap_or_default();
        format!("{what}{args}{timeout}")
    }
}

fn check_inline(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("Script is required when the source is inline.".into());
    }
    if text.len() > MAX_INLINE_BYTES {
        return Err(format!(
            "An inline script may be at most {} KiB; put a longer one in the workspace's file share and give its path.",
            MAX_INLINE_BYTES / 1024
        ));
    }
    if text.contains('\0') {
        return Err("Script must be text (it contains a NUL character).".into());
    }
    // Browsers send CRLF; bash chokes on the carriage returns.
    Ok(text.replace("\r\n", "\n"))
}

fn check_path(text: &str) -> Result<String, String> {
    let path = text.trim();
    if path.is_empty() {
        return Err(
            "Script path is required when the source is a path, e.g. Users/alice/setup.sh.".into(),
        );
    }
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(format!(
            "Script path must be at most {MAX_PATH_CHARS} characters."
        ));
    }
    if path.starts_with('/')
        || path.contains('\\')
        || path.split('/').any(|s| s == ".." || s.is_empty())
    {
        return Err("Script path must be relative to the workspace's file share, with '/' between folders and no '..', e.g. Users/alice/setup.sh.".into());
    }
    if path.chars().any(char::is_control) {
        return Err("Script path must not contain control characters.".into());
    }
    Ok(path.to_string())
}

fn check_arguments(text: &str) -> Result<String, String> {
    let arguments = text.trim();
    if arguments.chars().count() > MAX_ARGUMENTS_CHARS {
        return Err(format!(
            "Script arguments must be at most {MAX_ARGUMENTS_CHARS} characters."
        ));
    }
    if arguments.chars().any(char::is_control) {
        return Err("Script arguments must be on one line.".into());
    }
    Ok(arguments.to_string())
}

fn parse_timeout(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(m) if (1..=MAX_TIMEOUT_MINUTES).contains(&m) => Ok(Some(m)),
        _ => Err(format!(
            "Script timeout must be a whole number of minutes from 1 to {MAX_TIMEOUT_MINUTES}, or empty for Azure's default."
        )),
    }
}

/// Checks a `ScriptReference` of a PUT body (what the emulator receives).
pub fn check_arm_script(value: &Value) -> Result<(), String> {
    let source = value["scriptSource"].as_str().unwrap_or("");
    let data = value["scriptData"].as_str().unwrap_or("");
    match source.to_ascii_lowercase().as_str() {
        "inline" => {
            let decoded = STANDARD
                .decode(data)
                .map_err(|_| "scriptData of an inline script must be base64.".to_string())?;
            if decoded.is_empty() || decoded.len() > MAX_INLINE_BYTES {
                return Err(format!(
                    "An inline script must have 1 to {MAX_INLINE_BYTES} bytes."
                ));
            }
        }
        "workspace" | "workspacestorage" | "url" => {
            if data.trim().is_empty() {
                return Err("scriptData must give the script's location.".into());
            }
        }
        other => {
            return Err(format!(
                "scriptSource '{other}' is not one of inline, workspaceStorage, workspace, url."
            ));
        }
    }
    if let Some(timeout) = value["timeout"].as_str() {
        let minutes = timeout
            .strip_suffix('m')
            .and_then(|m| m.parse::<u64>().ok())
            .filter(|m| (1..=MAX_TIMEOUT_MINUTES).contains(m));
        if minutes.is_none() {
            return Err(format!(
                "timeout '{timeout}' must be minutes such as 10m (1m to {MAX_TIMEOUT_MINUTES}m)."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(source: &str, inline: &str, path: &str, timeout: &str) -> ScriptInput {
        ScriptInput {
            source: source.into(),
            inline: inline.into(),
            path: path.into(),
            arguments: String::new(),
            timeout: timeout.into(),
        }
    }

    #[test]
    fn inline_and_path_scripts() {
        assert_eq!(
            SetupScript::from_input("creation_script", &input("none", "x", "", "")),
            Ok(None)
        );
        let inline = SetupScript::from_input(
            "s",
            &input("inline", "#!/bin/bash\r\ngit clone x\r\n", "", "10"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            inline.source,
            ScriptSource::Inline("#!/bin/bash\ngit clone x\n".into())
        );
        let arm = inline.to_arm();
        assert_eq!(arm["scriptSource"], "inline");
        assert_eq!(arm["timeout"], "10m");
        assert_eq!(check_arm_script(&arm), Ok(()));
        let path = SetupScript::from_input("s", &input("path", "", " Users/alice/setup.sh ", ""))
            .unwrap()
            .unwrap();
        assert_eq!(path.to_arm()["scriptData"], "Users/alice/setup.sh");
        assert_eq!(check_arm_script(&path.to_arm()), Ok(()));
    }

    #[test]
    fn each_problem_on_its_field() {
        let fields = |i: ScriptInput| -> Vec<String> {
            SetupScript::from_input("s", &i)
                .unwrap_err()
                .iter()
                .map(|e| e.field.clone())
                .collect()
        };
        assert_eq!(fields(input("inline", "  ", "", "")), ["s_inline"]);
        assert_eq!(
            fields(input("inline", &"x".repeat(40_000), "", "")),
            ["s_inline"]
        );
        assert_eq!(fields(input("path", "", "/etc/passwd", "")), ["s_path"]);
        assert_eq!(
            fields(input("path", "", "Users/../x.sh", "0")),
            ["s_path", "s_timeout"]
        );
        assert_eq!(fields(input("inline", "ls", "", "121")), ["s_timeout"]);
        assert_eq!(fields(input("ftp", "", "", "")), ["s_source"]);
    }

    #[test]
    fn azure_shape_checks() {
        assert!(
            check_arm_script(&json!({"scriptSource": "inline", "scriptData": "not base64!"}))
                .is_err()
        );
        assert!(check_arm_script(&json!({"scriptSource": "workspace", "scriptData": "Users/a/s.sh", "timeout": "10m"})).is_ok());
        assert!(
            check_arm_script(
                &json!({"scriptSource": "workspace", "scriptData": "a.sh", "timeout": "10 minutes"})
            )
            .is_err()
        );
        assert!(check_arm_script(&json!({"scriptSource": "ftp", "scriptData": "x"})).is_err());
    }
}
