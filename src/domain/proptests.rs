//! Properties of every rule in `domain`, checked on generated input (proptest):
//!
//! - any input, however odd, is answered and never panics;
//! - generated valid input is accepted, and survives the trip through its other form
//!   (form text → rule → Azure's JSON → rule, text → value → text);
//! - generated invalid input is refused with a message that names the field and the rule.
//!
//! The unit tests beside each rule hold the hand-picked cases; these add the wide net. Case
//! counts stay small so `cargo test` stays quick (`PROPTEST_CASES` raises them for a long run).

use proptest::prelude::*;
use serde_json::{Value, json};

/// Cases per property unless `PROPTEST_CASES` says otherwise.
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text as a person may paste it: any characters, control ones and non-ASCII included.
pub(crate) fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[ -~]{0,60}",
        "[a-zA-Z0-9_./:@ -]{0,40}",
        proptest::collection::vec(any::<char>(), 0..80).prop_map(|c| c.into_iter().collect()),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any_text().prop_map(Value::from),
        prop_oneof![
            Just("PT15M"),
            Just("Start"),
            Just("UserAssigned"),
            Just("inline"),
            Just("Cron"),
            Just("W. Europe Standard Time")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z]{1,8}",
                    Just("type".to_string()),
                    Just("maxNodeCount".to_string()),
                    Just("minNodeCount".to_string()),
                    Just("computeStartStop".to_string()),
                    Just("triggerType".to_string()),
                    Just("recurrence".to_string()),
                    Just("cron".to_string()),
                    Just("scriptSource".to_string()),
                    Just("scriptData".to_string()),
                    Just("userAssignedIdentities".to_string()),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn guid() -> impl Strategy<Value = String> {
    any::<[u8; 16]>().prop_map(|b| {
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    })
}

fn resource_group() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_()-][a-zA-Z0-9_.()-]{0,20}[a-zA-Z0-9_()-]"
}

fn user_assigned_id() -> impl Strategy<Value = String> {
    (guid(), resource_group(), "[a-zA-Z][a-zA-Z0-9_-]{0,20}").prop_map(|(s, rg, n)| {
        format!(
            "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
        )
    })
}

// ----- names -----------------------------------------------------------------------------------

mod names_rules {
    use super::*;
    use crate::domain::names::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_name_is_answered(name in any_text()) {
            let studio = check_studio_rule(&name);
            let _ = check_service_rule(&name);
            let inference = check_inference_rule(&name);
            let _ = check_inference_service_rule(&name);
            // The studio's rule is the service's and more; the same for inference clusters.
            if studio.is_ok() {
                prop_assert!(check_service_rule(&name).is_ok());
            }
            if inference.is_ok() {
                prop_assert!(check_inference_service_rule(&name).is_ok());
            }
        }

        #[test]
        fn names_of_the_studio_s_shape_are_accepted(
            name in "[a-zA-Z][a-zA-Z0-9]{1,10}(-[a-zA-Z][a-zA-Z0-9]{0,5}){0,2}",
        ) {
            prop_assume!((3..=24).contains(&name.len()));
            prop_assert_eq!(check_studio_rule(&name), Ok(()));
            prop_assert_eq!(check_service_rule(&name), Ok(()));
        }

        #[test]
        fn a_character_outside_the_rule_is_named(
            head in "[a-z]{2,8}",
            bad in "[_ .@/\u{e9}\u{4e2d}]",
            tail in "[a-z0-9]{0,8}",
        ) {
            let name = format!("{head}{bad}{tail}");
            let message = check_studio_rule(&name).unwrap_err().to_string();
            prop_assert!(message.starts_with("Compute name may only contain"), "{}", message);
            let quoted = bad.chars().next().unwrap().escape_default().to_string();
            prop_assert!(message.contains(&quoted), "{}", message);
        }

        #[test]
        fn a_name_too_long_says_the_bounds(name in "[a-z]{25,60}") {
            let message = check_studio_rule(&name).unwrap_err().to_string();
            prop_assert!(message.contains("between 3 and 24 characters"), "{}", message);
            let message = check_inference_rule(&name).unwrap_err().to_string();
            prop_assert!(message.contains("between 2 and 16 characters"), "{}", message);
        }

        #[test]
        fn a_dash_and_digits_at_the_end_is_refused(head in "[a-z][a-z0-9]{1,10}", n in 0u32..10_000) {
            let name = format!("{head}-{n}");
            let message = check_service_rule(&name).unwrap_err().to_string();
            prop_assert!(message.contains("'-' followed only by digits"), "{}", message);
        }
    }
}

// ----- durations, idle shutdown, scale -----------------------------------------------------------

mod durations_rules {
    use super::*;
    use crate::domain::durations::*;
    use crate::domain::idle_shutdown::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_duration_text_is_answered(text in prop_oneof![any_text(), "P[0-9DTHMS]{0,12}"]) {
            let _ = parse_iso_duration_secs(&text);
            let _ = check_iso(&text);
            let _ = parse_minutes(&text);
        }

        #[test]
        fn seconds_round_trip_through_iso(seconds in any::<u64>()) {
            prop_assert_eq!(parse_iso_duration_secs(&seconds_to_iso(seconds)), Some(seconds));
        }

        #[test]
        fn every_unit_adds_up(d in 0u64..400, h in 0u64..48, m in 0u64..120, s in 0u64..120) {
            let text = format!("P{d}DT{h}H{m}M{s}S");
            prop_assert_eq!(
                parse_iso_duration_secs(&text),
                Some(d * 86_400 + h * 3600 + m * 60 + s)
            );
        }

        #[test]
        fn idle_minutes_in_range_round_trip(minutes in MIN_MINUTES..=MAX_MINUTES) {
            prop_assert_eq!(parse_minutes(&format!(" {minutes} ")), Ok(Some(minutes)));
            prop_assert_eq!(check_iso(&minutes_to_iso(minutes)), Ok(minutes));
        }

        #[test]
        fn idle_minutes_out_of_range_say_the_rule(
            // Beyond u64::MAX / 60 minutes the seconds overflow: refused as not a duration.
            minutes in prop_oneof![0..MIN_MINUTES, (MAX_MINUTES + 1)..u64::MAX / 60],
        ) {
            let message = parse_minutes(&minutes.to_string()).unwrap_err();
            prop_assert!(message.starts_with("Idle shutdown must be between 15 minutes and 4320 minutes"), "{}", message);
            let message = check_iso(&minutes_to_iso(minutes)).unwrap_err();
            prop_assert!(message.contains("idleTimeBeforeShutdown") && message.contains("between PT15M and P3D"), "{}", message);
        }
    }
}

mod scale_rules {
    use super::*;
    use crate::domain::scale::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_scale_form_is_answered(min in any_text(), max in any_text(), idle in any_text()) {
            if let Err(errors) = ScaleSettings::from_form(&min, &max, &idle) {
                prop_assert!(!errors.is_empty());
                for error in errors.iter() {
                    prop_assert!(
                        ["min_nodes", "max_nodes", "idle_seconds"].contains(&error.field.as_str()),
                        "{:?}", error
                    );
                    // A message quotes the input shortened, never a page of it.
                    prop_assert!(error.message.chars().count() < 200, "{:?}", error);
                }
            }
        }

        #[test]
        fn any_azure_scale_settings_are_answered(value in any_json()) {
            let _ = ScaleSettings::from_arm(&value);
            let _ = ScaleSettings::from_arm(&json!({ "maxNodeCount": value.clone(), "minNodeCount": value.clone(), "nodeIdleTimeBeforeScaleDown": value }));
        }

        #[test]
        fn valid_settings_round_trip_through_azure(
            (min, max) in (0u32..=MAX_NODES).prop_flat_map(|min| (Just(min), min.max(1)..=MAX_NODES)),
            idle in 0u64..=MAX_IDLE_SECONDS,
        ) {
            let settings = ScaleSettings::from_form(&min.to_string(), &format!(" {max}"), &idle.to_string()).unwrap();
            prop_assert_eq!(settings, ScaleSettings { min_nodes: min, max_nodes: max, idle_seconds: idle });
            prop_assert_eq!(ScaleSettings::from_arm(&settings.to_arm()), Ok(settings));
        }

        #[test]
        fn a_minimum_above_the_maximum_is_refused_on_the_maximum(
            max in 1u32..1000, above in 1u32..1000,
        ) {
            let errors = ScaleSettings::from_form(&(max + above).to_string(), &max.to_string(), "").unwrap_err();
            let message = errors.for_field("max_nodes").unwrap();
            prop_assert!(message.contains("must be at least the minimum nodes"), "{}", message);
        }

        #[test]
        fn shortened_text_stays_short(text in any_text()) {
            let short = shorten(&text);
            prop_assert!(short.chars().count() <= 41);
            prop_assert!(text.starts_with(short.trim_end_matches('…')));
        }
    }
}

// ----- resource ids, identities --------------------------------------------------------------------

mod ids_rules {
    use super::*;
    use crate::domain::arm_ids::*;
    use crate::domain::identity::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_id_text_is_answered(text in prop_oneof![any_text(), "(/[a-zA-Z0-9 ]{0,6}){0,12}"]) {
            let _ = parse_guid("Object id", &text);
            let _ = ResourceId::parse(&text);
            let _ = resource_group_of(&text);
            let _ = parse_subnet_id(&text);
            let _ = parse_user_assigned_identity_id(&text);
        }

        #[test]
        fn guids_are_read_in_any_case_and_kept_lower_case(id in guid(), upper in any::<bool>()) {
            let typed = if upper { id.to_ascii_uppercase() } else { id.clone() };
            prop_assert_eq!(parse_guid("Tenant id", &format!(" {typed} ")), Ok(id.clone()));
            prop_assert_eq!(parse_guid("Tenant id", &id), Ok(id));
        }

        #[test]
        fn a_broken_guid_names_its_field(id in guid(), at in 0usize..36, with in "[g-z_ ]") {
            let mut broken = id.clone();
            broken.replace_range(at..at + 1, &with);
            let message = parse_guid("Tenant id", &broken).unwrap_err();
            prop_assert!(message.starts_with("Tenant id"), "{}", message);
        }

        #[test]
        fn subnet_ids_round_trip(
            sub in guid(), rg in resource_group(),
            network in "[a-zA-Z][a-zA-Z0-9_.-]{0,20}", subnet in "[a-zA-Z][a-zA-Z0-9_.-]{0,20}",
        ) {
            let text = subnet_id(&sub, &rg, &network, &subnet);
            let id = parse_subnet_id(&text).unwrap();
            prop_assert_eq!(id.name(), subnet.as_str());
            prop_assert_eq!(id.name_at(0), Some(network.as_str()));
            prop_assert!(id.is_in(&sub.to_ascii_uppercase(), &rg.to_ascii_lowercase()));
            prop_assert_eq!(resource_group_of(&text), Some(rg.as_str()));
            // Not a subnet: the message says what a subnet's id is.
            let message = parse_subnet_id(&text.replace("/subnets/", "/things/")).unwrap_err();
            prop_assert!(message.starts_with("Subnet must be the id of a subnet"), "{}", message);
        }

        #[test]
        fn identities_round_trip_through_azure(ids in proptest::collection::btree_set(user_assigned_id(), 1..=MAX_USER_ASSIGNED)) {
            let typed = ids.iter().cloned().collect::<Vec<_>>().join("\r\n");
            let identity = ManagedIdentity::from_form("user", &typed).unwrap();
            let arm = identity.to_arm().unwrap();
            let mut back = check_arm_identity(&arm).unwrap();
            back.sort();
            prop_assert_eq!(back, ids.into_iter().collect::<Vec<_>>());
        }

        #[test]
        fn too_many_identities_are_refused_on_their_field(
            ids in proptest::collection::btree_set(user_assigned_id(), MAX_USER_ASSIGNED + 1..MAX_USER_ASSIGNED + 4),
        ) {
            let typed = ids.into_iter().collect::<Vec<_>>().join("\n");
            let errors = ManagedIdentity::from_form("user", &typed).unwrap_err();
            prop_assert!(errors.for_field("identity_ids").unwrap().starts_with("At most 10"));
        }

        #[test]
        fn any_identity_form_or_body_is_answered(kind in prop_oneof![Just("user".to_string()), any_text()], ids in any_text(), value in any_json()) {
            if let Err(errors) = ManagedIdentity::from_form(&kind, &ids) {
                for error in errors.iter() {
                    prop_assert!(["identity_type", "identity_ids"].contains(&error.field.as_str()));
                }
            }
            let _ = check_arm_identity(&value);
            let _ = check_arm_identity(&json!({ "type": "UserAssigned", "userAssignedIdentities": value }));
        }
    }
}

// ----- network ranges, attach, certificates ------------------------------------------------------------

mod network_rules {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::domain::network_ranges::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_range_text_is_answered(
            a in prop_oneof![any_text(), "[0-9./]{0,20}"],
            b in prop_oneof![any_text(), "[0-9.]{0,16}"],
            c in prop_oneof![any_text(), "[0-9./]{0,20}"],
            vnet in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..3),
        ) {
            let _ = parse_cidr("Range", &a, true);
            let _ = parse_ipv4("Address", &b);
            let vnet: Vec<_> = vnet.into_iter().map(|(a, p)| ipnet::Ipv4Net::new(Ipv4Addr::from(a), p).unwrap()).collect();
            if let Err(errors) = AksNetwork::check(&a, &b, &c, &vnet) {
                for error in errors.iter() {
                    prop_assert!(["service_cidr", "dns_service_ip", "docker_bridge_cidr"].contains(&error.field.as_str()));
                }
            }
        }

        #[test]
        fn ranges_round_trip_through_their_text(address in any::<u32>(), prefix in 0u8..=32) {
            let net = ipnet::Ipv4Net::new(Ipv4Addr::from(address), prefix).unwrap().trunc();
            let text = net.to_string();
            prop_assert_eq!(parse_cidr("Range", &text, true), Ok(net));
            prop_assert_eq!(parse_ipv4("Address", &net.network().to_string()), Ok(net.network()));
        }

        #[test]
        fn a_range_not_at_its_start_is_refused_with_the_range_meant(address in any::<u32>(), prefix in 0u8..32) {
            let net = ipnet::Ipv4Net::new(Ipv4Addr::from(address), prefix).unwrap();
            prop_assume!(net.network() != net.addr());
            let message = parse_cidr("Kubernetes service address range", &net.to_string(), true).unwrap_err();
            prop_assert!(message.starts_with("Kubernetes service address range must start at the first address"), "{}", message);
            prop_assert!(message.contains(&net.trunc().to_string()), "{}", message);
        }

        #[test]
        fn overlapping_is_symmetric(a in any::<u32>(), p in 0u8..=32, b in any::<u32>(), q in 0u8..=32) {
            let a = ipnet::Ipv4Net::new(Ipv4Addr::from(a), p).unwrap();
            let b = ipnet::Ipv4Net::new(Ipv4Addr::from(b), q).unwrap();
            prop_assert_eq!(overlaps(&a, &b), overlaps(&b, &a));
            prop_assert!(overlaps(&a, &a));
        }

        #[test]
        fn aks_defaults_moved_within_ten_slash_eight_are_accepted(second in 0u8..=255, dns in 10u8..250) {
            let network = AksNetwork::check(
                &format!("10.{second}.0.0/16"),
                &format!("10.{second}.0.{dns}"),
                DEFAULT_DOCKER_BRIDGE_CIDR,
                &["192.168.0.0/16".parse().unwrap()],
            )
            .unwrap();
            prop_assert_eq!(network.dns_service_ip, Ipv4Addr::new(10, second, 0, dns));
        }
    }
}

mod attach_rules {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::domain::attach::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_attach_field_is_answered(text in any_text()) {
            let _ = check_address(&text);
            let _ = parse_ssh_port(&text);
            let _ = check_user_name(&text);
            let _ = check_resource_group(&text);
            let _ = check_databricks_workspace(&text);
            let _ = check_data_lake_account(&text);
            if let Err(message) = check_access_token(&text) {
                // Secrets are never repeated in a message.
                prop_assume!(text.chars().count() > 8);
                prop_assert!(!message.contains(&text), "{}", message);
            }
        }

        #[test]
        fn addresses_are_kept_and_checking_them_again_changes_nothing(
            address in prop_oneof![
                any::<u32>().prop_map(|a| Ipv4Addr::from(a).to_string()),
                "[a-zA-Z][a-zA-Z0-9-]{0,10}[a-zA-Z0-9](\\.[a-zA-Z][a-zA-Z0-9]{0,10}){1,3}",
            ],
        ) {
            let checked = check_address(&address).unwrap();
            prop_assert_eq!(&checked, &address.to_ascii_lowercase());
            prop_assert_eq!(check_address(&checked), Ok(checked.clone()));
        }

        #[test]
        fn an_address_with_a_port_or_user_says_which(host in "[a-z]{1,10}\\.[a-z]{2,6}", port in 1u16.., user in "[a-z]{1,8}") {
            let with_port = check_address(&format!("{host}:{port}")).unwrap_err();
            prop_assert!(with_port.contains("must not contain the port"), "{}", with_port);
            let with_user = check_address(&format!("{user}@{host}")).unwrap_err();
            prop_assert!(with_user.contains("must not contain the user name"), "{}", with_user);
        }

        #[test]
        fn ports_in_range_are_read_and_the_others_say_the_range(port in any::<u32>()) {
            match parse_ssh_port(&format!(" {port} ")) {
                Ok(read) => prop_assert_eq!(u32::from(read), port),
                Err(message) => {
                    prop_assert!(port == 0 || port > 65535);
                    prop_assert!(message.contains("SSH port must be between 1 and 65535"), "{}", message);
                }
            }
        }

        #[test]
        fn names_of_the_right_shape_are_accepted(
            user in "[a-zA-Z0-9_.][a-zA-Z0-9_.-]{0,31}",
            group in resource_group(),
            workspace in "[a-zA-Z0-9_-]{3,64}",
            account in "[a-z0-9]{3,24}",
            token in "[!-~]{1,200}",
        ) {
            prop_assert_eq!(check_user_name(&user), Ok(()));
            prop_assert_eq!(check_resource_group(&group), Ok(()));
            prop_assert_eq!(check_databricks_workspace(&workspace), Ok(()));
            prop_assert_eq!(check_data_lake_account(&account), Ok(()));
            prop_assert_eq!(check_secret("Password", &token), Ok(()));
        }

        #[test]
        fn a_secret_too_long_says_the_limit_not_the_secret(secret in "[a-z]{1025,1100}") {
            let message = check_secret("Password", &secret).unwrap_err();
            prop_assert!(message.starts_with("Password is too long"), "{}", message);
            prop_assert!(!message.contains(&secret[..20]));
        }
    }
}

mod certificate_rules {
    use super::*;
    use crate::domain::certificates::*;
    use crate::domain::inference::check_leaf_domain_label;

    fn pem_ish() -> impl Strategy<Value = String> {
        let label = prop_oneof![
            Just("CERTIFICATE"),
            Just("PRIVATE KEY"),
            Just("RSA PRIVATE KEY"),
            Just("EC PRIVATE KEY"),
            Just("ENCRYPTED PRIVATE KEY"),
            Just("PUBLIC KEY"),
        ];
        (
            label,
            proptest::collection::vec(any::<u8>(), 0..300),
            1usize..3,
        )
            .prop_map(|(label, der, copies)| {
                use base64::Engine;
                let body = base64::engine::general_purpose::STANDARD.encode(der);
                format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n").repeat(copies)
            })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_pasted_certificate_and_key_are_answered(
            cert in prop_oneof![any_text(), pem_ish()],
            key in prop_oneof![any_text(), pem_ish()],
            cname in any_text(),
        ) {
            match SslCertificate::check(&cert, &key, time::OffsetDateTime::now_utc()) {
                Ok(certificate) => { let _ = check_cname(&cname, Some(&certificate)); }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for error in errors.iter() {
                        prop_assert!(["ssl_cert", "ssl_key"].contains(&error.field.as_str()), "{:?}", error);
                    }
                }
            }
            let _ = check_cname(&cname, None);
            let _ = check_leaf_domain_label(&cname);
        }

        #[test]
        fn dns_names_of_the_right_shape_are_accepted(
            name in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){1,4}\\.?",
            label in "[a-z][a-z0-9-]{1,60}[a-z0-9]",
        ) {
            prop_assert_eq!(check_dns_name("Domain name (CNAME)", &name), Ok(()));
            prop_assert_eq!(check_cname(&name, None), Ok(()));
            prop_assert_eq!(check_leaf_domain_label(&label), Ok(()));
        }

        #[test]
        fn a_bad_dns_name_names_its_field(name in "[a-z]{1,10}[_ !][a-z]{1,10}\\.com") {
            let message = check_dns_name("Domain name (CNAME)", &name).unwrap_err();
            prop_assert!(message.starts_with("Domain name (CNAME)"), "{}", message);
        }
    }
}

// ----- accounts, inference, quota --------------------------------------------------------------------

mod account_rules {
    use super::*;
    use crate::domain::accounts::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_account_is_answered(name in any_text(), password in any_text()) {
            let _ = check_admin_user_name(&name);
            if let Err(message) = check_admin_password(&password) {
                prop_assert!(message.starts_with("Administrator password"), "{}", message);
                prop_assume!(password.chars().count() >= 4);
                prop_assert!(!message.contains(&password), "the message repeats the password");
            }
        }

        #[test]
        fn user_names_of_the_right_shape_are_accepted(name in "zz[a-z0-9_.-]{0,29}[a-z0-9_-]") {
            prop_assert_eq!(check_admin_user_name(&name), Ok(()));
        }

        #[test]
        fn strong_passwords_are_accepted(
            lower in "[bcdfghjkmnz]{4,20}", upper in "[BCDFGHJKMNZ]{4,20}",
            digits in "[0-9]{2,20}", symbols in "[!#%&*+=?^~]{0,10}",
        ) {
            let password = format!("{symbols}{upper}{digits}{lower}");
            prop_assume!((PASSWORD_LENGTH.0..=PASSWORD_LENGTH.1).contains(&password.chars().count()));
            prop_assert_eq!(check_admin_password(&password), Ok(()));
        }

        #[test]
        fn a_password_of_the_wrong_length_says_the_bounds(password in prop_oneof!["[a-zA-Z0-9]{0,11}", "[a-zA-Z0-9]{73,100}"]) {
            let message = check_admin_password(&password).unwrap_err();
            prop_assert!(message.contains("must be 12 to 72 characters long"), "{}", message);
        }

        #[test]
        fn a_password_of_one_kind_of_character_says_the_rule(password in prop_oneof!["[a-z]{12,30}", "[0-9]{12,30}"]) {
            let message = check_admin_password(&password).unwrap_err();
            prop_assert!(message.contains("three of"), "{}", message);
        }
    }
}

mod inference_rules {
    use super::*;
    use crate::domain::inference::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_node_count_and_size_are_answered(text in any_text(), nodes in any::<i64>(), vcpus in any::<i64>()) {
            let _ = parse_node_count(&text);
            let _ = describe_capacity(nodes, vcpus);
            for purpose in [ClusterPurpose::Production, ClusterPurpose::DevTest] {
                let _ = check_capacity(purpose, nodes, vcpus);
                prop_assert_eq!(ClusterPurpose::from_form(purpose.form_value()), Ok(purpose));
                prop_assert_eq!(ClusterPurpose::from_arm(Some(purpose.to_arm())), Ok(purpose));
            }
            let _ = ClusterPurpose::from_arm(Some(&text));
        }

        #[test]
        fn node_counts_in_range_are_read_and_the_others_say_the_range(nodes in any::<i64>()) {
            match parse_node_count(&nodes.to_string()) {
                Ok(read) => prop_assert!(read == nodes && (1..=MAX_NODES).contains(&nodes)),
                Err(message) => {
                    prop_assert!(!(1..=MAX_NODES).contains(&nodes));
                    prop_assert!(message.starts_with("Number of nodes must be between 1 and 100"), "{}", message);
                }
            }
        }

        #[test]
        fn production_needs_twelve_vcpus_and_says_how_many_nodes(nodes in 1i64..=MAX_NODES, vcpus in 1i64..64) {
            let result = check_capacity(ClusterPurpose::Production, nodes, vcpus);
            prop_assert_eq!(result.is_ok(), nodes * vcpus >= MIN_PRODUCTION_VCPUS);
            if let Err(message) = result {
                let enough = (MIN_PRODUCTION_VCPUS + vcpus - 1) / vcpus;
                prop_assert!(message.contains(&format!("Choose {enough} nodes or more")), "{}", message);
                prop_assert!(check_capacity(ClusterPurpose::Production, enough, vcpus).is_ok());
            }
            prop_assert!(check_capacity(ClusterPurpose::DevTest, nodes, vcpus).is_ok());
        }
    }
}

mod quota_rules {
    use super::*;
    use crate::domain::quota::*;

    fn lines() -> impl Strategy<Value = Vec<UsageLine>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("DedicatedCores".to_string()),
                    Just("standardDSv2Family".to_string()),
                    "[a-zA-Z]{1,12}"
                ],
                any::<i64>(),
                any::<i64>(),
            )
                .prop_map(|(name, current, limit)| UsageLine {
                    name,
                    current,
                    limit,
                }),
            0..4,
        )
    }

    proptest! {
        #![proptest_config(config())]

        /// Usages come from Azure: any numbers at all are answered, never an overflow.
        #[test]
        fn any_usages_are_answered(lines in lines(), cores in any::<i64>()) {
            let headroom = Headroom::new(lines);
            if let Err(shortfall) = headroom.check("standardDSv2Family", cores) {
                let _ = shortfall.message();
            }
            let _ = headroom.remaining("standardDSv2Family");
        }

        #[test]
        fn what_remains_fits_and_one_more_does_not(
            (used, limit) in (0i64..1000).prop_flat_map(|used| (Just(used), used..1000)),
            regional in 0i64..2000,
        ) {
            let headroom = Headroom::new([
                UsageLine { name: "standardDSv2Family".into(), current: used, limit },
                UsageLine { name: "DedicatedCores".into(), current: 0, limit: regional },
            ]);
            let left = headroom.remaining("standarddsv2family").unwrap();
            prop_assert!(headroom.check("standardDSv2Family", left).is_ok());
            let shortfall = headroom.check("standardDSv2Family", left + 1).unwrap_err();
            let needs = format!("Needs {} vCPUs", left + 1);
            prop_assert!(shortfall.message().starts_with(&needs), "{}", shortfall.message());
        }
    }
}

// ----- states, actions, roles -----------------------------------------------------------------------

mod table_rules {
    use super::*;
    use crate::domain::compute::*;
    use crate::domain::roles::*;
    use crate::domain::transitions::ComputeAction;

    fn state() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "Running",
                "Stopped",
                "Starting",
                "Stopping",
                "Restarting",
                "Creating",
                "Deleting",
                "Failed",
                "JobRunning",
                "SettingUp",
                "Steady",
                "Resizing",
                "Unusable",
                "CreateFailed",
                "UserSettingUp",
                "Unknown",
                "",
            ])
            .prop_map(str::to_string),
            any_text(),
        ]
    }

    fn kind() -> impl Strategy<Value = ComputeKind> {
        prop::sample::select(vec![
            ComputeKind::Instance,
            ComputeKind::Cluster,
            ComputeKind::Inference,
            ComputeKind::Attached,
            ComputeKind::Other,
        ])
    }

    proptest! {
        #![proptest_config(config())]

        /// What a row offers is exactly what the handler then allows, in any state.
        #[test]
        fn offered_actions_are_the_allowed_ones(kind in kind(), state in state()) {
            let offered = ComputeAction::offered(kind, &state);
            for action in ComputeAction::ALL {
                prop_assert_eq!(offered.contains(&action), action.check(kind, &state).is_ok());
                prop_assert_eq!(ComputeAction::from_slug(action.slug()), Some(action));
            }
            let _ = state_label(&state);
            let _ = state_tone(&state);
            let _ = is_transitional(&state);
            prop_assert_eq!(ComputeKind::parse(kind.as_str()), Some(kind));
        }

        #[test]
        fn any_states_are_shown(a in state(), b in state(), c in state(), t in any_text()) {
            let _ = display_state(Some(&a), Some(&b), Some(&c));
            let _ = display_state(None, Some(&b), None);
            let _ = ComputeKind::from_compute_type(&t);
            let _ = ComputeAction::from_slug(&t);
            let _ = Role::parse(&t);
        }

        #[test]
        fn roles_round_trip_and_every_decision_is_answered(
            role in prop::sample::select(Role::ALL.to_vec()),
            owner in any::<bool>(),
        ) {
            prop_assert_eq!(Role::parse(role.as_str()), Some(role));
            for permission in [
                Permission::ViewCompute, Permission::RefreshCompute, Permission::CreateOwnInstance,
                Permission::CreateAnyCompute, Permission::CreateOnBehalf, Permission::OperateCompute,
                Permission::OpenApplications, Permission::ManageRoles, Permission::ViewAudit,
            ] {
                for ownership in [Ownership::Owner, Ownership::NotOwner, Ownership::NoCompute] {
                    let _ = decide(role, permission, ownership);
                }
            }
            // An admin may do everything; a reader may change nothing of anyone's.
            let ownership = if owner { Ownership::Owner } else { Ownership::NotOwner };
            if role == Role::Admin {
                prop_assert!(decide(role, Permission::OperateCompute, ownership).is_allowed());
            }
            if role == Role::Reader {
                prop_assert!(!decide(role, Permission::OperateCompute, ownership).is_allowed());
            }
        }
    }
}

// ----- setup scripts, schedules, SSH keys ---------------------------------------------------------------

mod script_rules {
    use super::*;
    use crate::domain::setup_scripts::*;

    fn input() -> impl Strategy<Value = ScriptInput> {
        (
            prop_oneof![
                Just("inline".to_string()),
                Just("path".to_string()),
                Just("none".to_string()),
                any_text()
            ],
            any_text(),
            any_text(),
            any_text(),
            prop_oneof![any_text(), (0u64..2000).prop_map(|m| m.to_string())],
        )
            .prop_map(|(source, inline, path, arguments, timeout)| ScriptInput {
                source,
                inline,
                path,
                arguments,
                timeout,
            })
    }

    proptest! {
        #![proptest_config(config())]

        /// Whatever the form sends, problems land on the prefixed fields; what passes is what
        /// the emulator (Azure's rule) accepts.
        #[test]
        fn any_script_is_answered_and_what_passes_azure_accepts(input in input(), value in any_json()) {
            match SetupScript::from_input("creation_script", &input) {
                Ok(Some(script)) => {
                    prop_assert_eq!(check_arm_script(&script.to_arm()), Ok(()));
                    let _ = script.describe();
                }
                Ok(None) => {}
                Err(errors) => {
                    for error in errors.iter() {
                        prop_assert!(error.field.starts_with("creation_script_"), "{:?}", error);
                    }
                }
            }
            let _ = check_arm_script(&value);
        }

        #[test]
        fn inline_scripts_and_paths_are_accepted(
            text in "[ -~\n]{0,200}[a-z][ -~\n]{0,200}",
            path in "[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,19}(/[a-zA-Z0-9_-]{1,20}){0,4}\\.sh",
            timeout in 1u64..=120,
        ) {
            let inline = ScriptInput { source: "inline".into(), inline: text.clone(), timeout: timeout.to_string(), ..ScriptInput::default() };
            let script = SetupScript::from_input("startup_script", &inline).unwrap().unwrap();
            prop_assert_eq!(script.source, ScriptSource::Inline(text));
            prop_assert_eq!(script.timeout_minutes, Some(timeout));
            let by_path = ScriptInput { source: "path".into(), path: path.clone(), ..ScriptInput::default() };
            let script = SetupScript::from_input("startup_script", &by_path).unwrap().unwrap();
            prop_assert_eq!(script.source, ScriptSource::WorkspacePath(path));
        }

        #[test]
        fn a_path_leaving_the_share_is_refused_on_its_field(path in "(/|\\.\\./|[a-z]{1,5}/\\.\\./)[a-z]{1,10}\\.sh") {
            let input = ScriptInput { source: "path".into(), path, ..ScriptInput::default() };
            let errors = SetupScript::from_input("startup_script", &input).unwrap_err();
            let message = errors.for_field("startup_script_path").unwrap();
            prop_assert!(message.starts_with("Script path must be relative"), "{}", message);
        }
    }
}

mod schedule_rules {
    use super::*;
    use crate::domain::schedules::*;

    const DAYS: [&str; 7] = WEEKDAY_NAMES;

    fn zone() -> impl Strategy<Value = String> {
        prop::sample::select(TIME_ZONES.iter().map(|z| z.windows).collect::<Vec<_>>())
            .prop_map(str::to_string)
    }

    /// Rows of the form that are valid: daily, weekly or a simple cron.
    fn valid_row() -> impl Strategy<Value = ScheduleInput> {
        (
            prop_oneof![Just("Start"), Just("Stop"), Just("stop")],
            any::<bool>(),
            0u32..24,
            0u32..60,
            prop::sample::subsequence(DAYS.to_vec(), 1..=7),
            zone(),
            0u8..3,
        )
            .prop_map(|(action, enabled, hour, minute, days, time_zone, kind)| {
                ScheduleInput {
                    action: action.into(),
                    enabled,
                    kind: ["daily", "weekly", "cron"][kind as usize].into(),
                    time: format!("{hour:02}:{minute:02}"),
                    weekdays: days.into_iter().map(str::to_string).collect(),
                    cron: format!("{minute} {hour} * * 1-5"),
                    time_zone,
                }
            })
    }

    fn any_row() -> impl Strategy<Value = ScheduleInput> {
        (
            any_text(),
            any::<bool>(),
            prop_oneof![
                Just("daily".to_string()),
                Just("weekly".to_string()),
                Just("cron".to_string()),
                any_text()
            ],
            prop_oneof!["[0-9:]{0,6}", any_text()],
            proptest::collection::vec(prop_oneof![Just("mon".to_string()), any_text()], 0..4),
            prop_oneof!["[0-9*/,-]{1,4}( [0-9*/,-]{1,4}){0,6}", any_text()],
            prop_oneof![zone(), any_text()],
        )
            .prop_map(|(action, enabled, kind, time, weekdays, cron, time_zone)| {
                ScheduleInput {
                    action,
                    enabled,
                    kind,
                    time,
                    weekdays,
                    cron,
                    time_zone,
                }
            })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_row_or_body_is_answered(row in any_row(), value in any_json()) {
            match Schedule::from_input(&row) {
                Ok(schedule) => {
                    let _ = schedule.describe();
                    let _ = schedule.next_runs(chrono::Utc::now(), 3);
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for error in errors {
                        prop_assert!(
                            ["action", "kind", "time", "weekdays", "cron", "time_zone"].contains(&error.field),
                            "{:?}", error
                        );
                    }
                }
            }
            let _ = Schedule::from_arm(&value);
            let _ = validate_arm_schedules(&value);
            let _ = validate_arm_schedules(&json!({ "computeStartStop": [value] }));
        }

        #[test]
        fn valid_rows_round_trip_through_the_form_and_azure(row in valid_row()) {
            let schedule = Schedule::from_input(&row).unwrap();
            let from_form = Schedule::from_input(&schedule.to_input());
            prop_assert_eq!(from_form.as_ref(), Ok(&schedule));
            let from_azure = Schedule::from_arm(&schedule.to_arm());
            prop_assert_eq!(from_azure.as_ref(), Ok(&schedule));
            let runs = schedule.next_runs(chrono::Utc::now(), 3);
            prop_assert!(runs.windows(2).all(|w| w[0] < w[1]), "{:?}", runs);
        }

        #[test]
        fn a_time_off_the_clock_is_refused_on_its_field(row in valid_row(), hour in 24u32..100, minute in 0u32..100) {
            prop_assume!(row.kind.as_str() != "cron");
            let row = ScheduleInput { time: format!("{hour}:{minute:02}"), ..row };
            let errors = Schedule::from_input(&row).unwrap_err();
            prop_assert!(errors.iter().any(|e| e.field == "time" && e.message.starts_with("Time must be HH:MM")), "{:?}", errors);
        }

        #[test]
        fn an_unknown_time_zone_is_refused_on_its_field(row in valid_row(), zone in "[A-Z][a-z]{3,10} Nowhere Time") {
            let row = ScheduleInput { time_zone: zone, ..row };
            let errors = Schedule::from_input(&row).unwrap_err();
            prop_assert!(errors.iter().any(|e| e.field == "time_zone"), "{:?}", errors);
        }
    }
}

mod ssh_rules {
    use super::*;
    use crate::domain::ssh::SshPublicKey;
    use crate::domain::ssh_private_key::SshPrivateKey;
    use ssh_key::private::{Ed25519Keypair, Ed25519PrivateKey, KeypairData};
    use ssh_key::public::Ed25519PublicKey;
    use ssh_key::{HashAlg, LineEnding, PrivateKey};

    fn key(seed: [u8; 32], comment: &str) -> PrivateKey {
        use aws_lc_rs::signature::KeyPair as _;
        let derived = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let public: [u8; 32] = derived.public_key().as_ref().try_into().unwrap();
        let pair = Ed25519Keypair {
            public: Ed25519PublicKey(public),
            private: Ed25519PrivateKey::from_bytes(&seed),
        };
        PrivateKey::new(KeypairData::Ed25519(pair), comment).unwrap()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_pasted_key_is_answered(text in prop_oneof![
            any_text(),
            "(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]{0,120}( [a-z@]{0,10})?",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]{0,200}\n-----END OPENSSH PRIVATE KEY-----",
        ], passphrase in any_text()) {
            if let Err(e) = SshPublicKey::parse(&text) {
                prop_assert!(e.to_string().starts_with("SSH public key"), "{}", e);
            }
            let _ = SshPrivateKey::parse(&text, &passphrase);
        }

        /// A generated key is accepted, its line survives a second parse unchanged, and its
        /// fingerprint is ssh-keygen's.
        #[test]
        fn generated_keys_round_trip(seed in any::<[u8; 32]>(), comment in "[a-z]{0,8}(@[a-z]{1,8})?", spaces in " {1,3}") {
            let private = key(seed, &comment);
            let public = private.public_key();
            let line = public.to_openssh().unwrap().replace(' ', &spaces);
            let parsed = SshPublicKey::parse(&format!("\n{line}\r\n")).unwrap();
            prop_assert_eq!(SshPublicKey::parse(&parsed.to_openssh()).unwrap(), parsed.clone());
            prop_assert_eq!(parsed.fingerprint(), public.fingerprint(HashAlg::Sha256).to_string());

            let text = private.to_openssh(LineEnding::LF).unwrap();
            let opened = SshPrivateKey::parse(&text, "").unwrap();
            prop_assert!(!opened.is_encrypted());
            // The private key pasted where the public one goes is named as such.
            let e = SshPublicKey::parse(&text).unwrap_err();
            prop_assert!(e.pasted_a_secret(), "{}", e);
        }

        #[test]
        fn a_cut_off_key_is_refused(seed in any::<[u8; 32]>(), keep in 12usize..60) {
            let line = key(seed, "").public_key().to_openssh().unwrap();
            prop_assume!(keep < line.len());
            let e = SshPublicKey::parse(&line[..keep]).unwrap_err();
            prop_assert!(e.to_string().starts_with("SSH public key"), "{}", e);
        }
    }
}
