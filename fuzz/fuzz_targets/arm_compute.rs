//! A compute (`GET/PUT/PATCH …/computes/{name}`) and a page of the compute list, as Azure may
//! send them, through the parser and on to the row the cache keeps.
#![no_main]

use compute_studio::azure::parse;
use compute_studio::sync::record_from_resource;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(compute) = parse::compute(data) {
        if let Some(record) = record_from_resource(&compute) {
            // The cache keeps the resource as JSON and reads it back: it must parse again.
            let again = parse::compute(record.resource_json.as_bytes())
                .expect("a cached resource parses again");
            assert_eq!(again, compute, "a cached resource reads back unchanged");
            assert!(!record.name.is_empty());
        }
        let _ = compute.provisioning_state();
        let _ = compute.inner_str("state");
    }
    if let Ok(page) = parse::compute_page(data) {
        for compute in &page.computes {
            assert!(
                compute.name.is_some(),
                "an unnamed compute is reported, not listed"
            );
            let _ = record_from_resource(compute);
        }
    }
});
