//! What the create pages show: every value ready to print, every error beside its field.

use askama::Template;

use super::attach::{AttachForm, AttachType, SECRETS};
use super::cluster::{ClusterForm, PASSWORD_PURPOSE};
use super::common::{Plan, Secret};
use super::inference::{InferenceForm, SSL_KEY};
use super::instance::{Assignee, InstanceForm};
use super::options::Offer;
use crate::domain::field::FieldErrors;
use crate::domain::schedules::{Schedule, ScheduleInput, TIME_ZONES};
use crate::web::Chrome;
use crate::web::forms::FormFields;
use crate::web::sealed::Sealer;

/// A size as a choice: its numbers, and why it cannot be chosen when it cannot.
pub struct SizeOption {
    pub name: String,
    pub family: String,
    pub vcpus: i64,
    pub memory_gb: String,
    pub gpus: i64,
    pub price: String,
    pub gpu: bool,
    pub checked: bool,
    pub unavailable: Option<String>,
}

pub struct SubnetOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// The subnets of one network, under "resource group / network (address space)".
pub struct NetworkGroup {
    pub label: String,
    pub subnets: Vec<SubnetOption>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ScheduleRow {
    pub index: usize,
    pub action: String,
    pub enabled: bool,
    pub kind: String,
    pub time: String,
    pub weekdays: Vec<Choice>,
    pub cron: String,
    pub zones: Vec<Choice>,
    pub errors: Vec<String>,
    pub error_fields: Vec<String>,
    pub description: Option<String>,
    pub next_runs: Vec<String>,
}

impl ScheduleRow {
    pub fn has_error(&self, field: &str) -> bool {
        self.error_fields.iter().any(|f| f == field)
    }
}

#[derive(Template)]
#[template(path = "computes/new_instance.html")]
pub struct InstancePage {
    pub chrome: Chrome,
    pub form: InstanceForm,
    pub form_token: String,
    pub errors: FieldErrors,
    pub summary: Vec<(String, String)>,
    pub problems: Vec<String>,
    pub sizes: Vec<SizeOption>,
    pub networks: Vec<NetworkGroup>,
    pub schedules: Vec<ScheduleRow>,
    pub may_assign: bool,
    pub people: Vec<Choice>,
    pub advanced_open: bool,
}

#[derive(Template)]
#[template(path = "computes/new_cluster.html")]
pub struct ClusterPage {
    pub chrome: Chrome,
    pub form: ClusterForm,
    pub form_token: String,
    pub errors: FieldErrors,
    pub summary: Vec<(String, String)>,
    pub problems: Vec<String>,
    pub sizes: Vec<SizeOption>,
    pub networks: Vec<NetworkGroup>,
    /// The password typed earlier, sealed; the page never holds it in clear.
    pub password_sealed: Option<String>,
    /// Resource ids of the subscription's user-assigned identities, to copy from.
    pub identities: Vec<String>,
    pub advanced_open: bool,
}

/// An AKS cluster of the subscription, as the attach picker offers it.
pub struct ClusterOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// The clusters of one region.
pub struct ClusterGroup {
    pub region: String,
    pub clusters: Vec<ClusterOption>,
}

#[derive(Template)]
#[template(path = "computes/new_inference.html")]
pub struct InferencePage {
    pub chrome: Chrome,
    pub form: InferenceForm,
    pub form_token: String,
    pub errors: FieldErrors,
    pub summary: Vec<(String, String)>,
    pub problems: Vec<String>,
    pub sizes: Vec<SizeOption>,
    pub regions: Vec<Choice>,
    pub clusters: Vec<ClusterGroup>,
    pub networks: Vec<NetworkGroup>,
    /// Subnet names of the chosen subnet's network, for the internal load balancer.
    pub lb_subnets: Vec<Choice>,
    /// "3 nodes × 4 vCPUs = 12 vCPUs: enough for production."
    pub capacity: Option<String>,
    /// The key typed earlier, sealed; the page never holds it in clear.
    pub ssl_key_sealed: Option<String>,
    pub advanced_open: bool,
}

/// A secret kept sealed on the page: its hidden field and value.
pub struct SealedField {
    pub name: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "computes/new_attached.html")]
pub struct AttachPage {
    pub chrome: Chrome,
    pub form: AttachForm,
    pub form_token: String,
    pub errors: FieldErrors,
    pub summary: Vec<(String, String)>,
    pub problems: Vec<String>,
    /// (slug, label, chosen) of each type, for the chooser.
    pub types: Vec<(&'static str, &'static str, bool)>,
    pub type_slug: &'static str,
    pub type_label: &'static str,
    pub uses_ssh: bool,
    /// Secrets typed earlier and kept, sealed.
    pub sealed: Vec<SealedField>,
}

impl AttachPage {
    /// Whether a secret is kept from before (the page says so instead of showing it).
    pub fn kept(&self, field: &str) -> bool {
        self.sealed
            .iter()
            .any(|s| s.name == format!("{field}_sealed"))
    }
}

/// The capacity line of the inference form, swapped in as nodes, size or purpose change.
#[derive(Template)]
#[template(path = "computes/_capacity.html")]
pub struct CapacityFragment {
    pub capacity: Option<String>,
    pub out_of_band: bool,
}

#[derive(Template)]
#[template(path = "computes/review.html")]
pub struct ReviewPage {
    pub chrome: Chrome,
    pub title: String,
    pub kind: String,
    pub summary: Vec<(String, String)>,
    pub warnings: Vec<String>,
    pub body: String,
    /// Every field of the form, carried to the next step (secrets only sealed).
    pub hidden: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "computes/_field_error.html")]
pub struct FieldErrorFragment {
    pub field: String,
    pub message: Option<String>,
    pub out_of_band: bool,
}

#[derive(Template)]
#[template(path = "computes/_schedule.html")]
pub struct ScheduleRowFragment {
    pub row: ScheduleRow,
}

impl InstancePage {
    pub fn build(
        chrome: Chrome,
        form: InstanceForm,
        form_token: &str,
        errors: &FieldErrors,
        offer: &Offer,
        may_assign: bool,
        people: &[Assignee],
    ) -> Self {
        let sizes = size_options(offer, &form.vm_size, |size| {
            offer
                .headroom
                .check(&size.family, size.v_cpus)
                .err()
                .map(|s| s.message())
        });
        let mut form = form;
        forget_pasted_secret(&mut form.ssh_key);
        clip_for_display(&mut form.name);
        clip_for_display(&mut form.idle_minutes);
        clip_for_display(&mut form.assign_object_id);
        clip_for_display(&mut form.assign_tenant_id);
        for script in [&mut form.creation_script, &mut form.startup_script] {
            clip_for_display(&mut script.path);
            clip_for_display(&mut script.arguments);
            clip_for_display(&mut script.timeout);
        }
        let schedules = form
            .schedules
            .iter()
            .enumerate()
            .map(|(i, input)| schedule_row(i, input, errors))
            .collect();
        let mut people_choices = vec![Choice {
            value: String::new(),
            label: "Me".into(),
            selected: form.assign_to.is_empty() || form.assign_to == "me",
        }];
        people_choices.extend(people.iter().map(|p| {
            let value = format!("{}|{}", p.object_id, p.tenant_id);
            Choice {
                selected: form.assign_to == value,
                label: p.name.clone(),
                value,
            }
        }));
        people_choices.push(Choice {
            value: "other".into(),
            label: "Somebody else (type their ids)".into(),
            selected: form.assign_to == "other",
        });
        let advanced_open = !form.subnet.is_empty()
            || !form.public_ip
            || !form.schedules.is_empty()
            || form.creation_script.source.as_str() != "none"
                && !form.creation_script.source.is_empty()
            || form.startup_script.source.as_str() != "none"
                && !form.startup_script.source.is_empty()
            || !form.assign_to.is_empty()
            || errors.iter().any(|e| {
                !["name", "vm_type", "vm_size", "ssh_key", "form"].contains(&e.field.as_str())
            });
        InstancePage {
            chrome,
            networks: network_groups(offer, &form.subnet),
            form_token: form_token.to_string(),
            summary: error_summary(errors),
            errors: errors.clone(),
            problems: offer.problems.clone(),
            sizes,
            schedules,
            may_assign,
            people: people_choices,
            advanced_open,
            form,
        }
    }
}

impl ClusterPage {
    pub fn build(
        chrome: Chrome,
        mut form: ClusterForm,
        form_token: &str,
        errors: &FieldErrors,
        offer: &Offer,
        sealer: &Sealer,
    ) -> Self {
        let sizes = size_options(offer, &form.vm_size, |size| {
            offer
                .headroom
                .remaining(&size.family)
                .filter(|left| *left < size.v_cpus)
                .map(|left| {
                    format!(
                        "Needs {} vCPUs per node; {} left in the quota.",
                        size.v_cpus, left
                    )
                })
        });
        // A password that broke a rule is asked for again; a good one is kept, sealed.
        let password_sealed = (!form.admin_password.is_empty()
            && errors.for_field("admin_password").is_none())
        .then(|| sealer.seal(PASSWORD_PURPOSE, &form.admin_password));
        form.admin_password.clear();
        forget_pasted_secret(&mut form.admin_ssh_key);
        for value in [
            &mut form.name,
            &mut form.min_nodes,
            &mut form.max_nodes,
            &mut form.idle_seconds,
            &mut form.admin_user,
        ] {
            clip_for_display(value);
        }
        let advanced_open = !form.subnet.is_empty()
            || !form.public_ip
            || form.identity_type != "none"
            || errors.iter().any(|e| {
                ["subnet", "public_ip", "identity_type", "identity_ids"].contains(&e.field.as_str())
            });
        ClusterPage {
            chrome,
            networks: network_groups(offer, &form.subnet),
            form_token: form_token.to_string(),
            summary: error_summary(errors),
            errors: errors.clone(),
            problems: offer.problems.clone(),
            sizes,
            password_sealed,
            identities: offer.identities.iter().map(|i| i.id.clone()).collect(),
            advanced_open,
            form,
        }
    }
}

impl InferencePage {
    pub fn build(
        chrome: Chrome,
        mut form: InferenceForm,
        form_token: &str,
        errors: &FieldErrors,
        offer: &Offer,
        sealer: &Sealer,
    ) -> Self {
        let sizes = size_options(offer, &form.vm_size, |_| None);
        let location = chrome.location.clone();
        let regions = InferenceForm::regions(offer, &location)
            .into_iter()
            .map(|r| Choice {
                selected: super::options::same_region(&r, &form.region),
                label: if super::options::same_region(&r, &location) {
                    format!("{r} (the workspace's region)")
                } else {
                    r.clone()
                },
                value: r,
            })
            .collect();
        let mut clusters: Vec<ClusterGroup> = Vec::new();
        for cluster in &offer.managed_clusters {
            let option = ClusterOption {
                id: cluster.id.clone(),
                label: format!(
                    "{} (resource group {}; {} nodes{}{})",
                    cluster.name,
                    cluster.resource_group().unwrap_or("?"),
                    cluster.node_count,
                    cluster
                        .vm_size
                        .as_deref()
                        .map(|s| format!(" of {s}"))
                        .unwrap_or_default(),
                    match cluster.power_state.as_deref() {
                        Some("Stopped") => "; stopped",
                        _ => "",
                    }
                ),
                selected: cluster.id.eq_ignore_ascii_case(&form.existing_cluster),
            };
            match clusters
                .iter_mut()
                .find(|g| super::options::same_region(&g.region, &cluster.location))
            {
                Some(group) => group.clusters.push(option),
                None => clusters.push(ClusterGroup {
                    region: cluster.location.clone(),
                    clusters: vec![option],
                }),
            }
        }
        let lb_subnets = offer
            .subnet(form.subnet.trim())
            .map(|(network, _)| {
                network
                    .subnets
                    .iter()
                    .map(|s| Choice {
                        value: s.name.clone(),
                        label: match &s.address_prefix {
                            Some(prefix) => format!("{} ({prefix})", s.name),
                            None => s.name.clone(),
                        },
                        selected: s.name.eq_ignore_ascii_case(&form.lb_subnet),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let capacity = form.capacity(offer);
        let ssl_key_sealed = keep_sealed(&SSL_KEY, &form.ssl_key, errors, sealer);
        form.ssl_key.clear();
        if form.ssl_cert.len() > crate::domain::certificates::MAX_PEM_BYTES
            || form.ssl_cert.contains("PRIVATE KEY")
        {
            form.ssl_cert.clear();
        }
        for value in [
            &mut form.name,
            &mut form.nodes,
            &mut form.service_cidr,
            &mut form.dns_service_ip,
            &mut form.docker_bridge_cidr,
            &mut form.ssl_cname,
            &mut form.ssl_leaf_label,
        ] {
            clip_for_display(value);
        }
        let advanced_open = form.network == "advanced"
            || form.load_balancer == "internal"
            || errors.iter().any(|e| {
                [
                    "network",
                    "subnet",
                    "service_cidr",
                    "dns_service_ip",
                    "docker_bridge_cidr",
                    "load_balancer",
                    "lb_subnet",
                ]
                .contains(&e.field.as_str())
            });
        InferencePage {
            chrome,
            networks: network_groups(offer, &form.subnet),
            form_token: form_token.to_string(),
            summary: error_summary(errors),
            errors: errors.clone(),
            problems: offer.problems.clone(),
            sizes,
            regions,
            clusters,
            lb_subnets,
            capacity,
            ssl_key_sealed,
            advanced_open,
            form,
        }
    }
}

impl AttachPage {
    pub fn build(
        chrome: Chrome,
        mut form: AttachForm,
        form_token: &str,
        errors: &FieldErrors,
        sealer: &Sealer,
    ) -> Self {
        let sealed = form
            .secrets_in_use()
            .into_iter()
            .filter_map(|(secret, value)| {
                keep_sealed(secret, value, errors, sealer).map(|value| SealedField {
                    name: secret.sealed_field(),
                    value,
                })
            })
            .collect();
        for secret in &SECRETS {
            match secret.field {
                "password" => form.password.clear(),
                "private_key" => form.private_key.clear(),
                "passphrase" => form.passphrase.clear(),
                _ => form.access_token.clear(),
            }
        }
        for value in [
            &mut form.name,
            &mut form.address,
            &mut form.ssh_port,
            &mut form.user,
            &mut form.workspace_name,
            &mut form.resource_group,
            &mut form.account_name,
        ] {
            clip_for_display(value);
        }
        let chosen = form.attach_type;
        AttachPage {
            chrome,
            types: AttachType::ALL
                .iter()
                .map(|t| (t.slug(), t.label(), *t == chosen))
                .collect(),
            type_slug: chosen.slug(),
            type_label: chosen.label(),
            uses_ssh: chosen.uses_ssh(),
            form_token: form_token.to_string(),
            summary: error_summary(errors),
            errors: errors.clone(),
            problems: Vec::new(),
            sealed,
            form,
        }
    }
}

/// A secret that passed its rule is kept, sealed; one that broke it is asked for again.
fn keep_sealed(
    secret: &Secret,
    value: &str,
    errors: &FieldErrors,
    sealer: &Sealer,
) -> Option<String> {
    (!value.is_empty() && errors.for_field(secret.field).is_none())
        .then(|| sealer.seal(secret.purpose, value))
}

impl ReviewPage {
    /// `secrets`: the form's secret fields and their values, carried to the next step sealed
    /// (never in clear, neither typed nor as they were sealed before).
    pub fn build(
        chrome: Chrome,
        fields: &FormFields,
        plan: &Plan,
        form_token: &str,
        secrets: &[(&Secret, &str)],
        sealer: &Sealer,
    ) -> Self {
        let mut hidden: Vec<(String, String)> = fields
            .pairs()
            .filter(|(k, _)| {
                !matches!(*k, "_csrf" | "step" | "form_token")
                    && !secrets
                        .iter()
                        .any(|(s, _)| *k == s.field || *k == s.sealed_field())
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        hidden.push(("form_token".into(), form_token.to_string()));
        for (secret, value) in secrets {
            if !value.is_empty() {
                hidden.push((secret.sealed_field(), sealer.seal(secret.purpose, value)));
            }
        }
        ReviewPage {
            chrome,
            title: format!("Review {}", plan.name),
            kind: plan.kind.label().to_string(),
            summary: plan.summary.clone(),
            warnings: plan.warnings.clone(),
            body: plan.body_for_display(),
            hidden,
        }
    }
}

fn size_options(
    offer: &Offer,
    selected: &str,
    unavailable: impl Fn(&crate::azure::models::VmSize) -> Option<String>,
) -> Vec<SizeOption> {
    offer
        .sizes
        .iter()
        .filter(|s| {
            s.supported_compute_types.is_empty()
                || s.supported_compute_types
                    .iter()
                    .any(|t| t == "ComputeInstance" || t == "AmlCompute")
        })
        .map(|size| SizeOption {
            name: size.name.clone(),
            family: size.family.clone(),
            vcpus: size.v_cpus,
            memory_gb: format!("{}", size.memory_gb),
            gpus: size.gpus,
            price: hourly_price(size).unwrap_or_default(),
            gpu: size.gpus > 0,
            checked: size.name.eq_ignore_ascii_case(selected),
            unavailable: unavailable(size),
        })
        .collect()
}

/// The Linux pay-as-you-go price Azure lists with the size, if it lists one.
fn hourly_price(size: &crate::azure::models::VmSize) -> Option<String> {
    let prices = size.estimated_vm_prices.as_ref()?;
    let values = prices.get("values")?.as_array()?;
    let linux = values
        .iter()
        .find(|v| v.get("osType").and_then(|o| o.as_str()) == Some("Linux"))?;
    let price = linux.get("retailPrice")?.as_f64()?;
    let currency = prices
        .get("billingCurrency")
        .and_then(|c| c.as_str())
        .unwrap_or("USD");
    Some(format!("{price:.2} {currency}/h"))
}

fn network_groups(offer: &Offer, selected: &str) -> Vec<NetworkGroup> {
    offer
        .networks
        .iter()
        .map(|network| NetworkGroup {
            label: format!(
                "{} / {}{}",
                network.resource_group().unwrap_or("?"),
                network.name,
                if network.address_prefixes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", network.address_prefixes.join(", "))
                }
            ),
            subnets: network
                .subnets
                .iter()
                .map(|s| SubnetOption {
                    id: s.id.clone(),
                    label: match &s.address_prefix {
                        Some(prefix) => format!("{} ({prefix})", s.name),
                        None => s.name.clone(),
                    },
                    selected: s.id.eq_ignore_ascii_case(selected.trim()),
                })
                .collect(),
        })
        .collect()
}

/// A private key pasted into a public key's field is never written back into the page.
fn forget_pasted_secret(key: &mut String) {
    if crate::domain::ssh::SshPublicKey::parse(key).is_err_and(|e| e.pasted_a_secret()) {
        key.clear();
    }
}

/// A one-line value is shown again as typed, up to a length no real value reaches: a page
/// never echoes a megabyte back.
fn clip_for_display(value: &mut String) {
    const MAX_CHARS: usize = 200;
    if let Some((cut, _)) = value.char_indices().nth(MAX_CHARS) {
        value.truncate(cut);
    }
}

/// The messages on top of the form, each linking to its field.
fn error_summary(errors: &FieldErrors) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), e.message.clone()))
        .collect()
}

pub fn new_schedule_input() -> ScheduleInput {
    ScheduleInput {
        action: "Stop".into(),
        enabled: true,
        kind: "daily".into(),
        time: "18:00".into(),
        weekdays: vec![],
        cron: String::new(),
        time_zone: "UTC".into(),
    }
}

pub fn schedule_row(index: usize, input: &ScheduleInput, errors: &FieldErrors) -> ScheduleRow {
    let prefix = format!("schedule-{index}-");
    let own: Vec<(String, String)> = errors
        .iter()
        .filter_map(|e| {
            e.field
                .strip_prefix(&prefix)
                .map(|f| (f.to_string(), e.message.clone()))
        })
        .collect();
    let (description, next_runs) = match Schedule::from_input(input) {
        Ok(schedule) => (
            Some(schedule.describe()),
            schedule
                .next_runs(chrono::Utc::now(), 3)
                .iter()
                .map(|at| at.format("%a %Y-%m-%d %H:%M %Z").to_string())
                .collect(),
        ),
        Err(_) => (None, vec![]),
    };
    ScheduleRow {
        index,
        action: input.action.clone(),
        enabled: input.enabled,
        kind: input.kind.clone(),
        time: input.time.clone(),
        weekdays: crate::domain::schedules::WEEKDAY_NAMES
            .iter()
            .map(|day| Choice {
                value: day.to_string(),
                label: day[..3].to_string(),
                selected: input
                    .weekdays
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(day) || w.eq_ignore_ascii_case(&day[..3])),
            })
            .collect(),
        cron: input.cron.clone(),
        zones: TIME_ZONES
            .iter()
            .map(|z| Choice {
                value: z.windows.to_string(),
                label: z.label.to_string(),
                selected: z.windows.eq_ignore_ascii_case(&input.time_zone),
            })
            .collect(),
        errors: own.iter().map(|(_, m)| m.clone()).collect(),
        error_fields: own.into_iter().map(|(f, _)| f).collect(),
        description,
        next_runs,
    }
}

/// The fields whose messages can change when `field` changes: it first, then the others.
pub fn related_fields(field: &str) -> Vec<&str> {
    let groups: &[&[&str]] = &[
        &["min_nodes", "max_nodes"],
        &["vm_type", "vm_size"],
        &["vm_priority", "vm_size"],
        &["subnet", "public_ip"],
        &["public_ip", "subnet"],
        &[
            "admin_auth",
            "admin_user",
            "admin_ssh_key",
            "admin_password",
        ],
        &["identity_type", "identity_ids"],
        &["assign_to", "assign_object_id", "assign_tenant_id"],
        &["ssh", "ssh_key"],
        &["vm_size", "nodes"],
        &["purpose", "nodes"],
        &[
            "source",
            "existing_cluster",
            "region",
            "vm_size",
            "nodes",
            "purpose",
        ],
        &["existing_cluster", "region", "purpose"],
        &["region", "existing_cluster", "vm_size"],
        &["network", "subnet", "load_balancer"],
        &["service_cidr", "dns_service_ip", "docker_bridge_cidr"],
        &["dns_service_ip", "service_cidr"],
        &["docker_bridge_cidr", "service_cidr"],
        &["ssl", "ssl_cert", "ssl_key", "ssl_cname", "ssl_leaf_label"],
        &["ssl_cert", "ssl_key", "ssl_cname"],
        &["ssl_key", "ssl_cert"],
        &["ssl_cname", "ssl_cert"],
        &["load_balancer", "lb_subnet"],
        &["auth", "password", "private_key", "passphrase"],
        &["private_key", "passphrase"],
        &["passphrase", "private_key"],
    ];
    for group in groups {
        if group[0] == field {
            return group.to_vec();
        }
    }
    if field.is_empty() {
        vec![]
    } else {
        vec![field]
    }
}
