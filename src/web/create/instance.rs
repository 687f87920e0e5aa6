//! The compute instance form: its fields as typed, and the rules that turn them into a plan.

use serde_json::{Map, Value, json};

use super::common::{Plan, check_name, check_size, check_subnet, check_vm_type, describe_size};
use super::options::Offer;
use crate::domain::arm_ids::parse_guid;
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::idle_shutdown;
use crate::domain::schedules::{MAX_SCHEDULES, Schedule, ScheduleInput};
use crate::domain::setup_scripts::{ScriptInput, SetupScript};
use crate::domain::ssh::SshPublicKey;
use crate::error::AppError;
use crate::web::forms::FormFields;

/// Idle shutdown a new instance starts with: an instance bills while it runs.
pub const DEFAULT_IDLE_MINUTES: &str = "60";

/// Field names of the form, for refusing the ones it does not have.
pub const FIELDS: &[&str] = &[
    "kind",
    "form_token",
    "step",
    "name",
    "vm_type",
    "vm_size",
    "ssh",
    "ssh_key",
    "subnet",
    "public_ip",
    "idle_minutes",
    "assign_to",
    "assign_object_id",
    "assign_tenant_id",
    "replaces",
    "creation_script_source",
    "creation_script_inline",
    "creation_script_path",
    "creation_script_arguments",
    "creation_script_timeout",
    "startup_script_source",
    "startup_script_inline",
    "startup_script_path",
    "startup_script_arguments",
    "startup_script_timeout",
];
/// Schedule rows (`schedule-{i}-{field}`), each field checked by `read_schedules`.
pub const FIELD_PREFIXES: &[&str] = &["schedule-"];

/// The form as the person filled it in; re-shown as typed when something is wrong.
#[derive(Debug, Clone, Default)]
pub struct InstanceForm {
    pub name: String,
    pub vm_type: String,
    pub vm_size: String,
    pub ssh: bool,
    pub ssh_key: String,
    pub subnet: String,
    pub public_ip: bool,
    pub idle_minutes: String,
    pub schedules: Vec<ScheduleInput>,
    pub creation_script: ScriptInput,
    pub startup_script: ScriptInput,
    /// Empty for oneself, `{objectId}|{tenantId}` for a person who signed in, or `other`.
    pub assign_to: String,
    pub assign_object_id: String,
    pub assign_tenant_id: String,
    /// When an admin reassigns: the instance this one replaces (deleted afterwards).
    pub replaces: String,
}

/// Who the instance will belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub object_id: String,
    pub tenant_id: String,
    pub name: String,
}

/// What the rules need to know beyond the form.
pub struct InstanceContext<'a> {
    pub offer: &'a Offer,
    pub location: &'a str,
    pub me: Assignee,
    pub may_assign_others: bool,
    /// People who signed in, to assign to (object id, tenant id, name).
    pub people: &'a [Assignee],
    pub name_taken: &'a dyn Fn(&str) -> bool,
}

impl InstanceForm {
    pub fn blank() -> Self {
        InstanceForm {
            vm_type: "cpu".into(),
            public_ip: true,
            idle_minutes: DEFAULT_IDLE_MINUTES.into(),
            ..InstanceForm::default()
        }
    }

    pub fn read(fields: &FormFields) -> Result<Self, AppError> {
        fields.only_known(FIELDS, FIELD_PREFIXES)?;
        Ok(InstanceForm {
            name: fields.one("name")?.trim().to_string(),
            vm_type: fields.one("vm_type")?,
            vm_size: fields.one("vm_size")?,
            ssh: fields.checkbox("ssh")?,
            ssh_key: fields.one("ssh_key")?,
            subnet: fields.one("subnet")?,
            public_ip: fields.checkbox("public_ip")?,
            idle_minutes: fields.one("idle_minutes")?,
            schedules: read_schedules(fields)?,
            creation_script: read_script(fields, "creation_script")?,
            startup_script: read_script(fields, "startup_script")?,
            assign_to: fields.one("assign_to")?,
            assign_object_id: fields.one("assign_object_id")?,
            assign_tenant_id: fields.one("assign_tenant_id")?,
            replaces: fields.one("replaces")?.trim().to_string(),
        })
    }

    /// The settings of an existing instance, for its replacement: Azure cannot give an
    /// instance to somebody else, so reassigning is creating a copy for them. The name is
    /// left to choose (the old one is still taken).
    pub fn copied_from(resource: &Value) -> InstanceForm {
        let inner = &resource["properties"]["properties"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let vm_size = text(&inner["vmSize"]);
        let ssh_key = text(&inner["sshSettings"]["adminPublicKey"]);
        let idle_minutes = inner["idleTimeBeforeShutdown"]
            .as_str()
            .and_then(|iso| idle_shutdown::check_iso(iso).ok())
            .map(|m| m.to_string())
            .unwrap_or_default();
        let schedules = inner["schedules"]["computeStartStop"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Schedule::from_arm(s).ok())
            .map(|s| s.to_input())
            .collect();
        let script = |which: &str| copied_script(&inner["setupScripts"]["scripts"][which]);
        InstanceForm {
            name: String::new(),
            vm_type: if vm_size.to_ascii_uppercase().contains("_N") {
                "gpu".into()
            } else {
                "cpu".into()
            },
            vm_size,
            ssh: inner["sshSettings"]["sshPublicAccess"].as_str() == Some("Enabled")
                && !ssh_key.is_empty(),
            ssh_key,
            subnet: text(&inner["subnet"]["id"]),
            public_ip: inner["enableNodePublicIp"].as_bool().unwrap_or(true),
            idle_minutes,
            schedules,
            creation_script: script("creationScript"),
            startup_script: script("startupScript"),
            ..InstanceForm::blank()
        }
    }

    /// Every rule; all problems at once, each on its field.
    pub fn validate(&self, cx: &InstanceContext) -> Result<Plan, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &self.name, cx.name_taken);
        let wants_gpu = check_vm_type(&mut errors, &self.vm_type);
        let size = check_size(&mut errors, cx.offer, &self.vm_size, wants_gpu, None);
        if let Some(size) = size
            && errors.for_field("vm_size").is_none()
            && let Err(short) = cx.offer.headroom.check(&size.family, size.v_cpus)
        {
            errors.add(
                "vm_size",
                format!("Not enough quota for {}: {}", size.name, short.message()),
            );
        }
        let ssh_key = if self.ssh {
            errors.check("ssh_key", SshPublicKey::parse(&self.ssh_key))
        } else {
            None
        };
        let subnet = check_subnet(&mut errors, cx.offer, &self.subnet, self.public_ip);
        let idle = errors
            .check(
                "idle_minutes",
                idle_shutdown::parse_minutes(&self.idle_minutes),
            )
            .flatten();
        let schedules = self.checked_schedules(&mut errors);
        let creation = checked_script(&mut errors, "creation_script", &self.creation_script);
        let startup = checked_script(&mut errors, "startup_script", &self.startup_script);
        let assignee = self.checked_assignee(&mut errors, cx);
        errors.into_result()?;
        let (Some(size), Some(assignee)) = (size, assignee) else {
            unreachable!("a missing size or assignee is an error above");
        };

        let mut inner = Map::new();
        inner.insert("vmSize".into(), json!(size.name));
        inner.insert("applicationSharingPolicy".into(), json!("Personal"));
        inner.insert("computeInstanceAuthorizationType".into(), json!("personal"));
        // The dashboard calls Azure as itself: without an assigned user, the instance would
        // belong to the dashboard's identity, not to the person.
        inner.insert(
            "personalComputeInstanceSettings".into(),
            json!({ "assignedUser": { "objectId": assignee.object_id, "tenantId": assignee.tenant_id } }),
        );
        inner.insert(
            "sshSettings".into(),
            match &ssh_key {
                Some(key) => {
                    json!({ "sshPublicAccess": "Enabled", "adminPublicKey": key.to_openssh() })
                }
                None => json!({ "sshPublicAccess": "Disabled" }),
            },
        );
        if let Some(subnet) = &subnet {
            inner.insert("subnet".into(), json!({ "id": subnet }));
        }
        inner.insert("enableNodePublicIp".into(), json!(self.public_ip));
        if let Some(minutes) = idle {
            inner.insert(
                "idleTimeBeforeShutdown".into(),
                json!(idle_shutdown::minutes_to_iso(minutes)),
            );
        }
        if !schedules.is_empty() {
            inner.insert(
                "schedules".into(),
                json!({ "computeStartStop": schedules.iter().map(Schedule::to_arm).collect::<Vec<_>>() }),
            );
        }
        let mut scripts = Map::new();
        if let Some(script) = &creation {
            scripts.insert("creationScript".into(), script.to_arm());
        }
        if let Some(script) = &startup {
            scripts.insert("startupScript".into(), script.to_arm());
        }
        if !scripts.is_empty() {
            inner.insert("setupScripts".into(), json!({ "scripts": scripts }));
        }
        let body = json!({
            "location": cx.location,
            "properties": { "computeType": "ComputeInstance", "properties": Value::Object(inner) },
        });

        let mut summary = vec![
            ("Name".to_string(), self.name.clone()),
            ("Kind".to_string(), "Compute instance".to_string()),
            ("Virtual machine".to_string(), describe_size(size)),
            (
                "Assigned to".to_string(),
                if assignee.object_id == cx.me.object_id {
                    format!("{} (you)", assignee.name)
                } else {
                    format!("{} ({})", assignee.name, assignee.object_id)
                },
            ),
            (
                "SSH".to_string(),
                match &ssh_key {
                    Some(key) => format!("on, as azureuser with {}", key.describe()),
                    None => "off".to_string(),
                },
            ),
            (
                "Network".to_string(),
                match &subnet {
                    Some(id) => format!(
                        "subnet {}{}",
                        id.rsplit('/').next().unwrap_or(id),
                        if self.public_ip {
                            ", with a public IP"
                        } else {
                            ", no public IP"
                        }
                    ),
                    None => "Azure's default network, with a public IP".to_string(),
                },
            ),
            (
                "Idle shutdown".to_string(),
                match idle {
                    Some(m) => format!("after {m} minutes of inactivity"),
                    None => "never".to_string(),
                },
            ),
        ];
        for schedule in &schedules {
            summary.push(("Schedule".to_string(), schedule.describe()));
        }
        if let Some(script) = &creation {
            summary.push(("Creation script".to_string(), script.describe()));
        }
        if let Some(script) = &startup {
            summary.push(("Startup script".to_string(), script.describe()));
        }
        summary.push((
            "Cannot change later".to_string(),
            "the VM type and size, SSH access and the network".to_string(),
        ));
        Ok(Plan {
            name: self.name.clone(),
            kind: ComputeKind::Instance,
            body,
            summary,
            warnings: vec![],
        })
    }

    fn checked_schedules(&self, errors: &mut FieldErrors) -> Vec<Schedule> {
        if self.schedules.len() > MAX_SCHEDULES {
            errors.add(
                "schedules",
                format!("At most {MAX_SCHEDULES} schedules per instance."),
            );
        }
        let mut out = Vec::new();
        for (i, input) in self.schedules.iter().enumerate() {
            match Schedule::from_input(input) {
                Ok(schedule) => out.push(schedule),
                Err(problems) => {
                    for p in problems {
                        errors.add(format!("schedule-{i}-{}", p.field), p.message);
                    }
                }
            }
        }
        out
    }

    fn checked_assignee(&self, errors: &mut FieldErrors, cx: &InstanceContext) -> Option<Assignee> {
        let choice = self.assign_to.trim();
        if choice.is_empty() || choice == "me" {
            return Some(cx.me.clone());
        }
        if !cx.may_assign_others {
            errors.add(
                "assign_to",
                "Only an admin may create an instance for somebody else.",
            );
            return None;
        }
        if choice == "other" {
            let object_id = errors.check(
                "assign_object_id",
                parse_guid("Object id", &self.assign_object_id),
            );
            let tenant_id = errors.check(
                "assign_tenant_id",
                parse_guid("Tenant id", &self.assign_tenant_id),
            );
            let (object_id, tenant_id) = (object_id?, tenant_id?);
            let name = cx
                .people
                .iter()
                .find(|p| p.object_id == object_id)
                .map_or_else(|| format!("user {object_id}"), |p| p.name.clone());
            return Some(Assignee {
                object_id,
                tenant_id,
                name,
            });
        }
        match cx
            .people
            .iter()
            .find(|p| format!("{}|{}", p.object_id, p.tenant_id) == choice)
        {
            Some(person) => Some(person.clone()),
            None => {
                errors.add("assign_to", "Choose a person from the list, or 'Somebody else' to type their object and tenant ids.");
                None
            }
        }
    }
}

fn checked_script(
    errors: &mut FieldErrors,
    prefix: &str,
    input: &ScriptInput,
) -> Option<SetupScript> {
    match SetupScript::from_input(prefix, input) {
        Ok(script) => script,
        Err(problems) => {
            errors.extend(problems.iter().cloned());
            None
        }
    }
}

/// A setup script as Azure holds it, back in the form's terms.
fn copied_script(script: &Value) -> ScriptInput {
    let data = script["scriptData"].as_str().unwrap_or_default();
    let (source, inline, path) = match script["scriptSource"].as_str().unwrap_or_default() {
        "inline" => {
            use base64::Engine;
            let text = base64::engine::general_purpose::STANDARD
                .decode(data)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            ("inline", text, String::new())
        }
        "" => ("none", String::new(), String::new()),
        _ => ("path", String::new(), data.to_string()),
    };
    ScriptInput {
        source: source.into(),
        inline,
        path,
        arguments: script["scriptArguments"]
            .as_str()
            .unwrap_or_default()
            .into(),
        timeout: script["timeout"]
            .as_str()
            .and_then(|t| t.strip_suffix('m'))
            .unwrap_or_default()
            .into(),
    }
}

fn read_script(fields: &FormFields, prefix: &str) -> Result<ScriptInput, AppError> {
    Ok(ScriptInput {
        source: fields.one(&format!("{prefix}_source"))?,
        inline: fields.one(&format!("{prefix}_inline"))?,
        path: fields.one(&format!("{prefix}_path"))?,
        arguments: fields.one(&format!("{prefix}_arguments"))?,
        timeout: fields.one(&format!("{prefix}_timeout"))?,
    })
}

/// Schedule rows are `schedule-{i}-{field}`; their numbers need not be contiguous (a row may
/// have been removed), and their order is kept.
pub fn read_schedules(fields: &FormFields) -> Result<Vec<ScheduleInput>, AppError> {
    let mut indexes: Vec<usize> = Vec::new();
    for name in fields.names() {
        let Some(rest) = name.strip_prefix("schedule-") else {
            continue;
        };
        let (index, field) = rest.split_once('-').unwrap_or((rest, ""));
        let known = ["action", "enabled", "kind", "time", "weekday", "cron", "tz"];
        let index: usize = index
            .parse()
            .ok()
            .filter(|i| *i < 100 && known.contains(&field))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "The form has a field this page does not have: '{}'.",
                    crate::domain::scale::shorten(name)
                ))
            })?;
        if !indexes.contains(&index) {
            indexes.push(index);
        }
    }
    indexes.sort_unstable();
    indexes
        .into_iter()
        .map(|i| {
            let field = |f: &str| format!("schedule-{i}-{f}");
            Ok(ScheduleInput {
                action: fields.one(&field("action"))?,
                enabled: fields.checkbox(&field("enabled"))?,
                kind: fields.one(&field("kind"))?,
                time: fields.one(&field("time"))?,
                weekdays: fields.all(&field("weekday")),
                cron: fields.one(&field("cron"))?,
                time_zone: fields.one(&field("tz"))?,
            })
        })
        .collect()
}
