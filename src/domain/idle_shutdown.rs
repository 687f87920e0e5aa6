//! Idle shutdown of a compute instance: Azure stops an instance nobody has used for a while.
//!
//! Azure takes `idleTimeBeforeShutdown` as an ISO 8601 duration "from 15 minutes to 3 days";
//! the form asks for whole minutes, the form azure-ai-ml writes (`PT{n}M`).

use super::durations::parse_iso_duration_secs;

pub const MIN_MINUTES: u64 = 15;
pub const MAX_MINUTES: u64 = 3 * 24 * 60;

/// The form's value: empty means "never shut down when idle".
pub fn parse_minutes(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let minutes: u64 = text.parse().map_err(|_| {
        format!(
            "Idle shutdown must be a whole number of minutes between {MIN_MINUTES} and {MAX_MINUTES} (3 days), or empty for never."
        )
    })?;
    check_minutes(minutes)?;
    Ok(Some(minutes))
}

fn check_minutes(minutes: u64) -> Result<(), String> {
    if (MIN_MINUTES..=MAX_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(format!(
            "Idle shutdown must be between {MIN_MINUTES} minutes and {MAX_MINUTES} minutes (3 days); {minutes} is outside."
        ))
    }
}

/// The value Azure takes.
pub fn minutes_to_iso(minutes: u64) -> String {
    format!("PT{minutes}M")
}

/// Checks Azure's own field (what the emulator receives); the answer is in minutes.
pub fn check_iso(value: &str) -> Result<u64, String> {
    let seconds = parse_iso_duration_secs(value).ok_or_else(|| {
        format!("idleTimeBeforeShutdown '{value}' is not an ISO 8601 duration such as PT60M.")
    })?;
    if !(MIN_MINUTES * 60..=MAX_MINUTES * 60).contains(&seconds) {
        return Err(format!(
            "idleTimeBeforeShutdown '{value}' is invalid: it must be between PT15M and P3D."
        ));
    }
    Ok(seconds / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_from_the_form() {
        assert_eq!(parse_minutes(""), Ok(None));
        assert_eq!(parse_minutes(" 60 "), Ok(Some(60)));
        assert_eq!(parse_minutes("15"), Ok(Some(15)));
        assert_eq!(parse_minutes("4320"), Ok(Some(4320)));
        for bad in [
            "14",
            "4321",
            "0",
            "-5",
            "1.5",
            "an hour",
            "99999999999999999999",
        ] {
            assert!(parse_minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn azure_durations() {
        assert_eq!(check_iso("PT60M"), Ok(60));
        assert_eq!(check_iso("P3D"), Ok(4320));
        assert_eq!(check_iso(&minutes_to_iso(15)), Ok(15));
        assert!(check_iso("PT14M").is_err());
        assert!(check_iso("P3DT1M").is_err());
        assert!(check_iso("60").is_err());
    }
}
