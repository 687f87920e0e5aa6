//! Properties of the form decoders, checked on generated input (proptest): the strict reader
//! of a submitted body (`FormFields`) and the four create forms read from it.
//!
//! - any body, however odd, is answered and never panics;
//! - what a browser encodes is read back exactly (encode → parse → the same fields);
//! - what a browser never sends is refused with the field's name: invalid UTF-8, a field the
//!   page does not have, a single-value field sent twice, a value too long for any form.

use proptest::prelude::*;
use url::form_urlencoded;

use super::attach::{self, AttachForm};
use super::cluster::{self, ClusterForm};
use super::inference::{self, InferenceForm};
use super::instance::{self, InstanceForm};
use crate::domain::proptests::{any_text, config};
use crate::error::AppError;
use crate::web::forms::{FormFields, MAX_FIELD_BYTES};
use crate::web::sealed::Sealer;

/// A body as a browser (or anything else) may send it: raw bytes, or pieces of a form.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(
            prop_oneof![
                Just(b"&".to_vec()),
                Just(b"=".to_vec()),
                Just(b"+".to_vec()),
                Just(b"%".to_vec()),
                "%[0-9A-Fa-f]{2}".prop_map(String::into_bytes),
                "%[0-9A-Fa-fG-Z]{0,2}".prop_map(String::into_bytes),
                "[a-z_-]{1,8}".prop_map(String::into_bytes),
                Just(b"_csrf".to_vec()),
                proptest::collection::vec(128u8.., 1..3),
            ],
            0..30,
        )
        .prop_map(|pieces| pieces.concat()),
    ]
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    let mut encoder = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        encoder.append_pair(k, v);
    }
    encoder.finish().into_bytes()
}

fn message(e: AppError) -> String {
    match e {
        AppError::BadRequest(m) | AppError::TooLarge(m) => m,
        other => panic!("a form is refused as a bad request, not {other:?}"),
    }
}

/// Fields of one of the create forms: mostly its own names, sometimes any name, any values.
fn create_fields(own: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        8 => prop::sample::select(own.to_vec()).prop_map(str::to_string),
        1 => "schedule-[0-9]{1,3}-(action|enabled|kind|time|weekday|cron|tz|x)",
        1 => any_text(),
    ];
    proptest::collection::vec((name, any_text()), 0..12)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_body_is_answered(body in any_body()) {
        match FormFields::parse(&body) {
            Ok(form) => {
                for (key, value) in form.pairs() {
                    prop_assert!(value.len() <= MAX_FIELD_BYTES);
                    let _ = form.one(key);
                }
                let _ = form.only_known(&["a", "b"], &["c"]);
            }
            Err(e) => { message(e); }
        }
    }

    #[test]
    fn what_a_browser_encodes_is_read_back(pairs in proptest::collection::vec((any_text(), any_text()), 0..10)) {
        let form = FormFields::parse(&encode(&pairs)).unwrap();
        let read: Vec<(String, String)> = form.pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        prop_assert_eq!(read, pairs);
    }

    #[test]
    fn invalid_utf8_names_the_field(name in "[a-z_]{1,12}", before in "[a-z]{0,4}", bad in 0x80u8..=0xff) {
        let body = format!("{name}={before}%{bad:02X}");
        let why = message(FormFields::parse(body.as_bytes()).unwrap_err());
        prop_assert!(why.contains(&format!("'{name}'")) && why.contains("UTF-8"), "{}", why);
    }

    #[test]
    fn a_repeated_field_and_an_unknown_field_are_named(
        name in "[a-z_]{1,12}", other in "[a-z]{1,12}", a in any_text(), b in any_text(),
    ) {
        prop_assume!(name != other && name != "_csrf");
        let form = FormFields::parse(&encode(&[(name.clone(), a.clone()), (name.clone(), b.clone())])).unwrap();
        prop_assert_eq!(form.all(&name), vec![a, b]);
        let why = message(form.one(&name).unwrap_err());
        prop_assert!(why.contains(&format!("'{name}' was sent more than once")), "{}", why);
        let why = message(form.only_known(&[other.as_str()], &[]).unwrap_err());
        prop_assert!(why.contains(&format!("'{name}'")) && why.contains("does not have"), "{}", why);
    }

    #[test]
    fn a_value_too_long_for_any_form_names_the_field(name in "[a-z_]{1,12}", extra in 1usize..4096) {
        let body = format!("{name}={}", "a".repeat(MAX_FIELD_BYTES + extra));
        let e = FormFields::parse(body.as_bytes()).unwrap_err();
        prop_assert!(matches!(e, AppError::TooLarge(_)));
        let why = message(e);
        prop_assert!(why.contains(&format!("'{name}' is too long")), "{}", why);
    }

    /// Any fields, known or not, repeated or not: each create form is read or refused with a
    /// message, never a panic; the form's own fields sent once each are always read.
    #[test]
    fn the_create_forms_answer_any_fields(
        instance_fields in create_fields(instance::FIELDS),
        cluster_fields in create_fields(cluster::FIELDS),
        inference_fields in create_fields(inference::FIELDS),
        attach_fields in create_fields(attach::FIELDS),
    ) {
        let sealer = Sealer::new();
        let read = |pairs: &[(String, String)], reader: &dyn Fn(&FormFields) -> Result<(), AppError>| {
            let form = FormFields::parse(&encode(pairs)).unwrap();
            match reader(&form) {
                Ok(()) => Ok(()),
                Err(e) => Err(message(e)),
            }
        };
        let unique_and_known = |pairs: &[(String, String)], own: &[&str]| {
            pairs.iter().enumerate().all(|(i, (k, _))| {
                own.contains(&k.as_str()) && !pairs[..i].iter().any(|(other, _)| other == k)
            })
        };
        let results = [
            (read(&instance_fields, &|f| InstanceForm::read(f).map(|_| ())), unique_and_known(&instance_fields, instance::FIELDS)),
            (read(&cluster_fields, &|f| ClusterForm::read(f, &sealer).map(|_| ())), unique_and_known(&cluster_fields, cluster::FIELDS)),
            (read(&inference_fields, &|f| InferenceForm::read(f, &sealer).map(|_| ())), unique_and_known(&inference_fields, inference::FIELDS)),
            (read(&attach_fields, &|f| AttachForm::read(f, &sealer).map(|_| ())), unique_and_known(&attach_fields, attach::FIELDS)),
        ];
        for (n, (result, clean)) in results.into_iter().enumerate() {
            match result {
                Ok(()) => {}
                // The attach form refuses an unknown type by its value; nothing else refuses a
                // clean form.
                Err(why) if clean => prop_assert!(n == 3 && why.starts_with("'type' must be"), "{}", why),
                Err(why) => prop_assert!(why.starts_with("The form") || why.starts_with("'type'"), "{}", why),
            }
        }
    }

    /// Schedule rows of the instance form: any row numbers and fields are read or refused
    /// with the field named.
    #[test]
    fn schedule_rows_are_read_in_order_or_refused_by_name(
        rows in proptest::collection::vec((0usize..150, prop::sample::select(vec!["action", "kind", "time", "cron", "tz", "weekday", "enabled", "zone"]), any_text()), 0..10),
    ) {
        let pairs: Vec<(String, String)> = rows.iter().map(|(i, f, v)| (format!("schedule-{i}-{f}"), v.clone())).collect();
        let form = FormFields::parse(&encode(&pairs)).unwrap();
        match instance::read_schedules(&form) {
            Ok(schedules) => {
                let mut rows_sent: Vec<usize> = rows.iter().map(|(i, _, _)| *i).collect();
                rows_sent.sort_unstable();
                rows_sent.dedup();
                prop_assert_eq!(schedules.len(), rows_sent.len());
            }
            Err(e) => {
                let why = message(e);
                prop_assert!(why.contains("'schedule-"), "{}", why);
            }
        }
    }

    /// A sealed secret that was tampered with opens as nothing, never as a panic.
    #[test]
    fn any_sealed_text_is_answered(text in prop_oneof![any_text(), "[A-Za-z0-9_-]{0,120}"]) {
        let sealer = Sealer::new();
        prop_assert_eq!(sealer.open("attach.password", &text), None);
        let sealed = sealer.seal("attach.password", &text);
        prop_assert_eq!(sealer.open("attach.password", &sealed), Some(text.clone()));
        prop_assert_eq!(sealer.open("attach.passphrase", &sealed), None);
    }
}
