//! ISO 8601 durations, the form Azure uses for idle times (`PT15M`, `PT120S`, `P3D`).

/// Parses the forms Azure sends and accepts: `P[nD][T[nH][nM][nS]]`, whole numbers only.
pub fn parse_iso_duration_secs(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    if time_part == Some("") {
        return None;
    }
    let days = sum_units(date_part, &[('D', 86_400)])?;
    let times = sum_units(time_part.unwrap_or(""), &[('H', 3600), ('M', 60), ('S', 1)])?;
    if days.is_none() && times.is_none() {
        return None;
    }
    days.unwrap_or(0).checked_add(times.unwrap_or(0))
}

/// Adds up `<digits><unit>` pairs whose units come in the given order, each at most once.
/// `Some(None)` for an empty part; `None` when the part is malformed.
fn sum_units(part: &str, units: &[(char, u64)]) -> Option<Option<u64>> {
    let mut total: Option<u64> = None;
    let mut number = String::new();
    let mut next_unit = 0;
    for c in part.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let offset = units[next_unit..].iter().position(|(u, _)| *u == c)?;
        let (_, seconds) = units[next_unit + offset];
        next_unit += offset + 1;
        let value = number.parse::<u64>().ok()?.checked_mul(seconds)?;
        total = Some(total.unwrap_or(0).checked_add(value)?);
        number.clear();
    }
    if !number.is_empty() {
        return None;
    }
    Some(total)
}

/// Seconds as the shortest duration Azure reads back the same: 120 → `PT120S`, 3600 → `PT60M`.
pub fn seconds_to_iso(seconds: u64) -> String {
    if seconds > 0 && seconds.is_multiple_of(60) {
        format!("PT{}M", seconds / 60)
    } else {
        format!("PT{seconds}S")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_azure_uses() {
        let cases = [
            ("PT15M", Some(900)),
            ("PT2H30M", Some(9000)),
            ("P3D", Some(259_200)),
            ("P1DT1H", Some(90_000)),
            ("PT120S", Some(120)),
            ("PT0S", Some(0)),
            ("PT", None),
            ("P", None),
            ("15M", None),
            ("PT15", None),
            ("PTM", None),
            ("PT1M1H", None),
            ("PT1H1H", None),
            ("PT-5M", None),
            ("PT99999999999999999999M", None),
            ("P1.5D", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_iso_duration_secs(text), expected, "{text}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        for seconds in [0, 1, 59, 60, 120, 3600, 86_400, 90] {
            assert_eq!(
                parse_iso_duration_secs(&seconds_to_iso(seconds)),
                Some(seconds)
            );
        }
        assert_eq!(seconds_to_iso(3600), "PT60M");
        assert_eq!(seconds_to_iso(90), "PT90S");
    }
}
