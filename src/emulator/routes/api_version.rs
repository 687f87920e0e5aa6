//! The `api-version` check ARM makes before any resource provider sees a request.
//!
//! The emulator accepts any well-formed version from 2020-08-01 on, stable or `-preview`, for
//! every provider it serves; the "supported versions" message of a refusal lists the versions of
//! the provider the path names, as Azure's does.

use time::{Date, Month};

use super::super::error::ArmError;

/// Versions listed in the refusal for Microsoft.MachineLearningServices (and for paths that name
/// no provider).
const MACHINE_LEARNING_VERSIONS: &str = "2020-08-01, 2021-01-01, 2021-07-01, 2022-05-01, 2022-10-01, 2023-04-01, 2023-10-01, 2024-04-01, 2024-10-01, 2025-01-01-preview, 2025-06-01, 2025-07-01-preview, 2025-09-01, 2025-12-01";
const NETWORK_VERSIONS: &str =
    "2023-09-01, 2023-11-01, 2024-01-01, 2024-03-01, 2024-05-01, 2024-07-01, 2024-10-01";
const MANAGED_IDENTITY_VERSIONS: &str =
    "2022-01-31-preview, 2023-01-31, 2023-07-31-preview, 2024-11-30";
const CONTAINER_SERVICE_VERSIONS: &str =
    "2024-05-01, 2024-06-01, 2024-07-01, 2024-08-01, 2024-09-01, 2024-10-01";

/// `api-version` must be present and a date (optionally `-preview`) from 2020-08-01 on.
pub fn check_api_version(value: Option<&str>, path: &str) -> Result<String, ArmError> {
    let Some(version) = value else {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let invalid = || {
        ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                supported_versions(path)
            ),
        )
    };
    let date_part = version.strip_suffix("-preview").unwrap_or(version);
    let parts: Vec<&str> = date_part.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(invalid());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(invalid());
    }
    let number = |s: &str| s.parse::<u16>().ok();
    let date = match (number(year), number(month), number(day)) {
        (Some(y), Some(m), Some(d)) => Month::try_from(m as u8)
            .ok()
            .and_then(|m| Date::from_calendar_date(i32::from(y), m, d as u8).ok()),
        _ => None,
    };
    let earliest = Date::from_calendar_date(2020, Month::August, 1).map_err(|_| invalid())?;
    match date {
        Some(date) if date >= earliest => Ok(version.to_string()),
        _ => Err(invalid()),
    }
}

/// The versions of the provider named after the last `providers` segment of `path`.
fn supported_versions(path: &str) -> &'static str {
    let namespace = path
        .split('/')
        .skip_while(|s| !s.eq_ignore_ascii_case("providers"))
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    match namespace.as_str() {
        "microsoft.network" => NETWORK_VERSIONS,
        "microsoft.managedidentity" => MANAGED_IDENTITY_VERSIONS,
        "microsoft.containerservice" => CONTAINER_SERVICE_VERSIONS,
        _ => MACHINE_LEARNING_VERSIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPUTES: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes";

    #[test]
    fn api_versions() {
        assert!(check_api_version(Some("2025-06-01"), COMPUTES).is_ok());
        assert!(check_api_version(Some("2025-07-01-preview"), COMPUTES).is_ok());
        assert!(check_api_version(Some("2020-08-01"), COMPUTES).is_ok());
        assert_eq!(
            check_api_version(None, COMPUTES).unwrap_err().code,
            "MissingApiVersionParameter"
        );
        for bad in [
            "2019-05-01",
            "2020-07-31",
            "2025-13-01",
            "2025-6-1",
            "latest",
            "2025-06-01-beta",
            "",
        ] {
            assert_eq!(
                check_api_version(Some(bad), COMPUTES).unwrap_err().code,
                "InvalidApiVersionParameter",
                "{bad}"
            );
        }
    }

    #[test]
    fn refusals_list_the_versions_of_the_provider_asked() {
        let network = "/subscriptions/s/providers/microsoft.network/virtualNetworks";
        let message = check_api_version(Some("latest"), network)
            .unwrap_err()
            .message;
        assert!(
            message.contains("2024-05-01") && !message.contains("2025-06-01"),
            "{message}"
        );
        let message = check_api_version(Some("latest"), COMPUTES)
            .unwrap_err()
            .message;
        assert!(message.contains("2025-06-01"), "{message}");
    }
}
