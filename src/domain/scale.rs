//! A compute cluster's scale settings: it grows to `max` nodes as jobs arrive and shrinks back
//! to `min` after nodes have been idle for a while.

use serde_json::{Value, json};

use super::durations::{parse_iso_duration_secs, seconds_to_iso};
use super::field::FieldErrors;

/// Azure's default (and the studio's) wait before an idle node is released.
pub const DEFAULT_IDLE_SECONDS: u64 = 120;
/// Azure sets no documented ceiling; quota stops a cluster long before this sanity bound.
pub const MAX_NODES: u32 = 10_000;
/// Thirty days: longer idle times are typing mistakes, not intentions.
pub const MAX_IDLE_SECONDS: u64 = 30 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSettings {
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub idle_seconds: u64,
}

impl ScaleSettings {
    /// Reads the three form fields (`min_nodes`, `max_nodes`, `idle_seconds`); an empty idle
    /// time takes the default. Every problem is reported, each on its field.
    pub fn from_form(min: &str, max: &str, idle: &str) -> Result<ScaleSettings, FieldErrors> {
        let mut errors = FieldErrors::new();
        let min_nodes = errors.check(
            "min_nodes",
            whole_number(min, "Minimum nodes", 0, MAX_NODES as u64),
        );
        let max_nodes = errors.check(
            "max_nodes",
            whole_number(max, "Maximum nodes", 1, MAX_NODES as u64),
        );
        let idle_seconds = if idle.trim().is_empty() {
            Some(DEFAULT_IDLE_SECONDS)
        } else {
            errors.check(
                "idle_seconds",
                whole_number(idle, "Idle seconds before scale down", 0, MAX_IDLE_SECONDS),
            )
        };
        if let (Some(min), Some(max)) = (min_nodes, max_nodes)
            && min > max
        {
            errors.add(
                "max_nodes",
                format!("Maximum nodes ({max}) must be at least the minimum nodes ({min})."),
            );
        }
        errors.into_result()?;
        Ok(ScaleSettings {
            min_nodes: min_nodes.unwrap_or_default() as u32,
            max_nodes: max_nodes.unwrap_or_default() as u32,
            idle_seconds: idle_seconds.unwrap_or(DEFAULT_IDLE_SECONDS),
        })
    }

    /// `scaleSettings` as Azure takes it.
    pub fn to_arm(&self) -> Value {
        json!({
            "minNodeCount": self.min_nodes,
            "maxNodeCount": self.max_nodes,
            "nodeIdleTimeBeforeScaleDown": seconds_to_iso(self.idle_seconds),
        })
    }

    /// Azure's `scaleSettings` (what the emulator receives): `maxNodeCount` required,
    /// `minNodeCount` defaults to 0, the idle time to 120 s.
    pub fn from_arm(value: &Value) -> Result<ScaleSettings, String> {
        let Some(settings) = value.as_object() else {
            return Err("scaleSettings must be an object with maxNodeCount.".into());
        };
        let count = |field: &str| -> Result<Option<i64>, String> {
            match settings.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| format!("scaleSettings.{field} must be an integer.")),
            }
        };
        let max = count("maxNodeCount")?
            .ok_or_else(|| "scaleSettings.maxNodeCount is required.".to_string())?;
        let min = count("minNodeCount")?.unwrap_or(0);
        if !(1..=MAX_NODES as i64).contains(&max) {
            return Err(format!(
                "Invalid scale settings: maxNodeCount ({max}) must be between 1 and {MAX_NODES}."
            ));
        }
        if min < 0 || min > max {
            return Err(format!(
                "Invalid scale settings: minNodeCount ({min}) must be between 0 and maxNodeCount ({max})."
            ));
        }
        let idle_seconds = match settings.get("nodeIdleTimeBeforeScaleDown") {
            None | Some(Value::Null) => DEFAULT_IDLE_SECONDS,
            Some(v) => v
                .as_str()
                .and_then(parse_iso_duration_secs)
                .filter(|s| *s <= MAX_IDLE_SECONDS)
                .ok_or_else(|| {
                    "scaleSettings.nodeIdleTimeBeforeScaleDown must be an ISO 8601 duration such as PT120S, at most 30 days.".to_string()
                })?,
        };
        Ok(ScaleSettings {
            min_nodes: min as u32,
            max_nodes: max as u32,
            idle_seconds,
        })
    }
}

fn whole_number(text: &str, label: &str, min: u64, max: u64) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{label} is required."));
    }
    let value: u64 = text.parse().map_err(|_| {
        format!(
            "{label} must be a whole number from {min} to {max}, not '{}'.",
            shorten(text)
        )
    })?;
    if value < min || value > max {
        return Err(format!(
            "{label} must be from {min} to {max}; {value} is outside."
        ));
    }
    Ok(value)
}

/// What a message quotes of a person's input: enough to recognise it, never a page of it.
pub fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(LIMIT).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(min: &str, max: &str, idle: &str) -> Vec<(String, String)> {
        match ScaleSettings::from_form(min, max, idle) {
            Ok(_) => vec![],
            Err(e) => e
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
        }
    }

    #[test]
    fn node_counts_and_idle_time() {
        assert_eq!(
            ScaleSettings::from_form("0", "4", ""),
            Ok(ScaleSettings {
                min_nodes: 0,
                max_nodes: 4,
                idle_seconds: 120
            })
        );
        assert_eq!(
            ScaleSettings::from_form(" 2 ", "2", "1800").map(|s| s.idle_seconds),
            Ok(1800)
        );
        let cases: [(&str, &str, &str, &[&str]); 9] = [
            ("-1", "4", "", &["min_nodes"]),
            ("0", "0", "", &["max_nodes"]),
            ("5", "4", "", &["max_nodes"]),
            ("", "", "", &["min_nodes", "max_nodes"]),
            ("one", "4", "", &["min_nodes"]),
            ("0", "4.5", "", &["max_nodes"]),
            ("0", "10001", "", &["max_nodes"]),
            ("0", "4", "-3", &["idle_seconds"]),
            ("x", "y", "z", &["min_nodes", "max_nodes", "idle_seconds"]),
        ];
        for (min, max, idle, fields) in cases {
            let got: Vec<String> = errors_of(min, max, idle).into_iter().map(|e| e.0).collect();
            assert_eq!(got, fields.to_vec(), "{min}/{max}/{idle}");
        }
        assert!(
            errors_of("5", "4", "")[0]
                .1
                .contains("at least the minimum")
        );
    }

    #[test]
    fn azure_shape_round_trips() {
        let settings = ScaleSettings {
            min_nodes: 1,
            max_nodes: 8,
            idle_seconds: 300,
        };
        assert_eq!(ScaleSettings::from_arm(&settings.to_arm()), Ok(settings));
        assert_eq!(
            ScaleSettings::from_arm(&json!({"maxNodeCount": 4})),
            Ok(ScaleSettings {
                min_nodes: 0,
                max_nodes: 4,
                idle_seconds: 120
            })
        );
        for bad in [
            json!({}),
            json!({"maxNodeCount": 0}),
            json!({"maxNodeCount": 2, "minNodeCount": 3}),
            json!({"maxNodeCount": "4"}),
            json!({"maxNodeCount": 4, "nodeIdleTimeBeforeScaleDown": "2 minutes"}),
            json!([]),
        ] {
            assert!(ScaleSettings::from_arm(&bad).is_err(), "{bad}");
        }
    }
}
