//! Start and stop schedules for Azure ML compute instances.
//!
//! A compute instance can start and stop itself on a schedule, so that nobody
//! pays for an idle GPU overnight. Azure keeps those schedules in the
//! instance's `properties.properties.schedules.computeStartStop` list. This
//! module is the one place in Compute Studio that understands that list:
//!
//! * the create form sends one [`ScheduleInput`] per schedule row, and
//!   [`Schedule::from_input`] checks it and reports *every* problem of the row,
//!   each tied to its field, so the form can show them next to the inputs;
//! * [`Schedule::to_arm`] and [`Schedule::from_arm`] translate to and from
//!   Azure's JSON ("ARM" is Azure Resource Manager, Azure's REST API);
//! * [`validate_arm_schedules`] checks a whole `schedules` object of a PUT
//!   body the way Azure would; the Azure emulator calls it;
//! * [`Schedule::next_runs`] and [`Schedule::describe`] tell a person what a
//!   schedule will do.
//!
//! # Time zones: Windows names outside, IANA names inside
//!
//! Azure names time zones the Windows way ("W. Europe Standard Time"), but the
//! time zone database Rust has (chrono-tz) uses IANA names ("Europe/Berlin").
//! [`TIME_ZONES`] is a curated list that pairs the two, taken from the Unicode
//! CLDR `windowsZones` mapping (its territory "001" entry, the zone's main
//! city). We store and send the Windows name, and compute run times in the
//! IANA zone, so that daylight saving time is right: a stop at 18:00 in Berlin
//! stays at 18:00 on the wall clock when the clocks change.
//!
//! # Cron: what Azure accepts
//!
//! Azure evaluates cron expressions with NCronTab, which takes exactly five
//! fields (minute, hour, day of month, month, day of week): no seconds, no
//! `L`, `W`, `#` or `?`, day of week 0–6 with Sunday as 0, and when both a day
//! of month and a day of week are given, a day must match *both*. We check
//! expressions against those rules ourselves, because that gives messages a
//! person can act on ("minute must be 0–59"), then hand a plain numeric form
//! to the croner crate, set up the same way (seconds refused, day fields
//! combined with AND), which computes the run times.
//!
//! # Daylight saving time
//!
//! Run times are wall-clock times in the schedule's zone. Two days a year the
//! wall clock misbehaves, and this is what [`Schedule::next_runs`] shows then:
//!
//! * **Spring forward (a gap).** In Berlin on 29 March 2026 the clock jumps
//!   from 02:00 to 03:00, so 02:30 never happens. A schedule at 02:30 runs
//!   at the first moment after the gap, 03:00 local time, on that day only,
//!   and at 02:30 again the next day. (A schedule that repeats within the
//!   hour, like `*/15 2 * * *`, simply has no runs in the missing hour.)
//! * **Fall back (an overlap).** On 25 October 2026 the clock goes from 03:00
//!   back to 02:00, so 02:30 happens twice. A schedule at 02:30 runs once, at
//!   the first of the two.
//!
//! Azure's own scheduler may treat those two days differently; the form only
//! uses these times to show a person what to expect.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde_json::{Map, Value, json};

/// The most schedules one compute instance may have. Azure does not publish a
/// limit; this one keeps the form and the emulator sane.
pub const MAX_SCHEDULES: usize = 20;

/// The longest cron expression we accept. Real ones are a few dozen
/// characters; anything longer is a mistake or an attack on the parser.
const MAX_CRON_LENGTH: usize = 100;

/// [`Schedule::next_runs`] never returns more than this many runs, so that a
/// caller passing a huge count cannot make it loop for ages.
const MAX_NEXT_RUNS: usize = 1000;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// What a schedule does to the compute instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScheduleAction {
    Start,
    Stop,
}

impl ScheduleAction {
    /// The value Azure uses on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScheduleAction::Start => "Start",
            ScheduleAction::Stop => "Stop",
        }
    }

    /// The word shown to a person.
    pub const fn label(self) -> &'static str {
        self.as_str()
    }

    /// Reads "Start" or "Stop" in any letter case.
    fn parse(text: &str) -> Option<ScheduleAction> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("start") {
            Some(ScheduleAction::Start)
        } else if text.eq_ignore_ascii_case("stop") {
            Some(ScheduleAction::Stop)
        } else {
            None
        }
    }
}

/// The two simple repeating patterns the form offers besides cron.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recurrence {
    Daily,
    /// On these days of the week, kept Monday first and without repeats.
    Weekly(Vec<Weekday>),
}

/// When a schedule fires.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Daily or weekly at one time of day (hour 0–23, minute 0–59).
    Recurrence {
        recurrence: Recurrence,
        hour: u32,
        minute: u32,
    },
    /// A five-field NCronTab expression, with single spaces between fields.
    Cron { expression: String },
}

/// A time zone as Azure names it (Windows) and as chrono-tz names it (IANA).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimeZone {
    /// The Windows name Azure stores, such as "W. Europe Standard Time".
    pub windows: &'static str,
    /// The IANA name CLDR maps it to, such as "Europe/Berlin".
    pub iana: &'static str,
    /// What the form shows, in the style of Windows' own list.
    pub label: &'static str,
}

impl TimeZone {
    /// The chrono-tz zone used to compute run times.
    pub fn tz(&self) -> Tz {
        // Every entry of TIME_ZONES is checked by a test to parse, so the
        // fallback only guards a hand-made TimeZone with a bad name.
        self.iana.parse().unwrap_or(Tz::UTC)
    }
}

/// A time zone entry, written short so the list below reads as a table.
const fn zone(windows: &'static str, iana: &'static str, label: &'static str) -> TimeZone {
    TimeZone {
        windows,
        iana,
        label,
    }
}

/// The time zones the form offers: UTC first, then the common Windows zones
/// from west to east. The IANA names are CLDR's territory "001" mapping as
/// written there, which keeps a few old spellings ("Asia/Calcutta",
/// "Europe/Kiev"); chrono-tz knows those as links to the current names.
/// The labels show each zone's standard (winter) offset, as Windows does.
#[rustfmt::skip] // a table reads better with aligned columns
pub const TIME_ZONES: &[TimeZone] = &[
    zone("UTC",                             "Etc/UTC",              "(UTC) Coordinated Universal Time"),
    zone("Hawaiian Standard Time",          "Pacific/Honolulu",     "(UTC-10:00) Hawaii"),
    zone("Alaskan Standard Time",           "America/Anchorage",    "(UTC-09:00) Alaska"),
    zone("Pacific Standard Time",           "America/Los_Angeles",  "(UTC-08:00) Pacific Time (US & Canada)"),
    zone("US Mountain Standard Time",       "America/Phoenix",      "(UTC-07:00) Arizona"),
    zone("Mountain Standard Time",          "America/Denver",       "(UTC-07:00) Mountain Time (US & Canada)"),
    zone("Central Standard Time",           "America/Chicago",      "(UTC-06:00) Central Time (US & Canada)"),
    zone("Central Standard Time (Mexico)",  "America/Mexico_City",  "(UTC-06:00) Guadalajara, Mexico City, Monterrey"),
    zone("Canada Central Standard Time",    "America/Regina",       "(UTC-06:00) Saskatchewan"),
    zone("Eastern Standard Time",           "America/New_York",     "(UTC-05:00) Eastern Time (US & Canada)"),
    zone("SA Pacific Standard Time",        "America/Bogota",       "(UTC-05:00) Bogota, Lima, Quito, Rio Branco"),
    zone("Atlantic Standard Time",          "America/Halifax",      "(UTC-04:00) Atlantic Time (Canada)"),
    zone("SA Western Standard Time",        "America/La_Paz",       "(UTC-04:00) Georgetown, La Paz, Manaus, San Juan"),
    zone("Pacific SA Standard Time",        "America/Santiago",     "(UTC-04:00) Santiago"),
    zone("Newfoundland Standard Time",      "America/St_Johns",     "(UTC-03:30) Newfoundland"),
    zone("E. South America Standard Time",  "America/Sao_Paulo",    "(UTC-03:00) Brasilia"),
    zone("Argentina Standard Time",         "America/Buenos_Aires", "(UTC-03:00) City of Buenos Aires"),
    zone("Greenwich Standard Time",         "Atlantic/Reykjavik",   "(UTC+00:00) Monrovia, Reykjavik"),
    zone("GMT Standard Time",               "Europe/London",        "(UTC+00:00) Dublin, Edinburgh, Lisbon, London"),
    zone("W. Europe Standard Time",         "Europe/Berlin",        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"),
    zone("Central Europe Standard Time",    "Europe/Budapest",      "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague"),
    zone("Romance Standard Time",           "Europe/Paris",         "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"),
    zone("Central European Standard Time",  "Europe/Warsaw",        "(UTC+01:00) Sarajevo, Skopje, Warsaw, Zagreb"),
    zone("W. Central Africa Standard Time", "Africa/Lagos",         "(UTC+01:00) West Central Africa"),
    zone("GTB Standard Time",               "Europe/Bucharest",     "(UTC+02:00) Athens, Bucharest"),
    zone("E. Europe Standard Time",         "Europe/Chisinau",      "(UTC+02:00) Chisinau"),
    zone("Egypt Standard Time",             "Africa/Cairo",         "(UTC+02:00) Cairo"),
    zone("South Africa Standard Time",      "Africa/Johannesburg",  "(UTC+02:00) Harare, Pretoria"),
    zone("FLE Standard Time",               "Europe/Kiev",          "(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius"),
    zone("Israel Standard Time",            "Asia/Jerusalem",       "(UTC+02:00) Jerusalem"),
    zone("Turkey Standard Time",            "Europe/Istanbul",      "(UTC+03:00) Istanbul"),
    zone("Arab Standard Time",              "Asia/Riyadh",          "(UTC+03:00) Kuwait, Riyadh"),
    zone("Russian Standard Time",           "Europe/Moscow",        "(UTC+03:00) Moscow, St. Petersburg"),
    zone("E. Africa Standard Time",         "Africa/Nairobi",       "(UTC+03:00) Nairobi"),
    zone("Iran Standard Time",              "Asia/Tehran",          "(UTC+03:30) Tehran"),
    zone("Arabian Standard Time",           "Asia/Dubai",           "(UTC+04:00) Abu Dhabi, Muscat"),
    zone("Pakistan Standard Time",          "Asia/Karachi",         "(UTC+05:00) Islamabad, Karachi"),
    zone("India Standard Time",             "Asia/Calcutta",        "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi"),
    zone("Nepal Standard Time",             "Asia/Katmandu",        "(UTC+05:45) Kathmandu"),
    zone("Bangladesh Standard Time",        "Asia/Dhaka",           "(UTC+06:00) Dhaka"),
    zone("SE Asia Standard Time",           "Asia/Bangkok",         "(UTC+07:00) Bangkok, Hanoi, Jakarta"),
    zone("China Standard Time",             "Asia/Shanghai",        "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi"),
    zone("Singapore Standard Time",         "Asia/Singapore",       "(UTC+08:00) Kuala Lumpur, Singapore"),
    zone("Taipei Standard Time",            "Asia/Taipei",          "(UTC+08:00) Taipei"),
    zone("W. Australia Standard Time",      "Australia/Perth",      "(UTC+08:00) Perth"),
    zone("Tokyo Standard Time",             "Asia/Tokyo",           "(UTC+09:00) Osaka, Sapporo, Tokyo"),
    zone("Korea Standard Time",             "Asia/Seoul",           "(UTC+09:00) Seoul"),
    zone("Cen. Australia Standard Time",    "Australia/Adelaide",   "(UTC+09:30) Adelaide"),
    zone("E. Australia Standard Time",      "Australia/Brisbane",   "(UTC+10:00) Brisbane"),
    zone("AUS Eastern Standard Time",       "Australia/Sydney",     "(UTC+10:00) Canberra, Melbourne, Sydney"),
    zone("New Zealand Standard Time",       "Pacific/Auckland",     "(UTC+12:00) Auckland, Wellington"),
];

/// Current IANA spellings of zones whose CLDR name in [`TIME_ZONES`] is an
/// older one, so that someone typing the modern name still finds the zone.
const IANA_ALIASES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("Etc/GMT", "UTC"),
    ("Etc/Universal", "UTC"),
    ("Asia/Kolkata", "India Standard Time"),
    ("Asia/Kathmandu", "Nepal Standard Time"),
    ("Europe/Kyiv", "FLE Standard Time"),
    ("America/Argentina/Buenos_Aires", "Argentina Standard Time"),
];

/// Finds a zone of [`TIME_ZONES`] by its Windows name (any letter case), or by
/// its IANA name, so that values from Azure, the form and elsewhere all work.
pub fn find_time_zone(windows_or_iana: &str) -> Option<&'static TimeZone> {
    let name = windows_or_iana.trim();
    let by_windows_name = |windows: &str| {
        TIME_ZONES
            .iter()
            .find(|zone| zone.windows.eq_ignore_ascii_case(windows))
    };
    by_windows_name(name)
        .or_else(|| {
            TIME_ZONES
                .iter()
                .find(|zone| zone.iana.eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            IANA_ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
                .and_then(|(_, windows)| by_windows_name(windows))
        })
}

/// The zone Azure assumes when a schedule names none.
fn utc_zone() -> &'static TimeZone {
    &TIME_ZONES[0]
}

/// One start or stop schedule of a compute instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schedule {
    pub action: ScheduleAction,
    pub enabled: bool,
    pub trigger: Trigger,
    pub time_zone: &'static TimeZone,
}

/// What one schedule row of the form sent, as text (all fields as typed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleInput {
    /// "Start" or "Stop".
    pub action: String,
    pub enabled: bool,
    /// "daily", "weekly" or "cron".
    pub kind: String,
    /// "HH:MM", for daily and weekly.
    pub time: String,
    /// "Monday".. or "mon".., for weekly.
    pub weekdays: Vec<String>,
    /// A five-field cron expression, for cron.
    pub cron: String,
    /// A Windows time zone name.
    pub time_zone: String,
}

/// A problem with one field of a schedule row, worded for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// "action", "kind", "time", "weekdays", "cron" or "time_zone".
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

// ---------------------------------------------------------------------------
// The form
// ---------------------------------------------------------------------------

impl Schedule {
    /// Checks one row of the form. On failure returns *all* of the row's
    /// problems, each naming its field, so the person can fix them in one go.
    pub fn from_input(input: &ScheduleInput) -> Result<Schedule, Vec<FieldError>> {
        let mut errors = Vec::new();

        let action = ScheduleAction::parse(&input.action);
        if action.is_none() {
            errors.push(action_error(&input.action));
        }

        let time_zone = find_time_zone(&input.time_zone);
        if time_zone.is_none() {
            errors.push(time_zone_error(&input.time_zone));
        }

        let trigger = match input.kind.trim().to_ascii_lowercase().as_str() {
            "daily" => time_from_input(&input.time, &mut errors).map(|(hour, minute)| {
                Trigger::Recurrence {
                    recurrence: Recurrence::Daily,
                    hour,
                    minute,
                }
            }),
            "weekly" => {
                // Both fields are checked before combining, so that a row with
                // a bad time and no days reports both problems.
                let time = time_from_input(&input.time, &mut errors);
                let days = weekdays_from_input(&input.weekdays, &mut errors);
                time.zip(days)
                    .map(|((hour, minute), days)| Trigger::Recurrence {
                        recurrence: Recurrence::Weekly(days),
                        hour,
                        minute,
                    })
            }
            "cron" => cron_from_input(&input.cron, &mut errors),
            "" => {
                errors.push(FieldError::new(
                    "kind",
                    "Choose how the schedule repeats: daily, weekly or cron.",
                ));
                None
            }
            _ => {
                errors.push(FieldError::new(
                    "kind",
                    format!(
                        "{} is not a kind of schedule; choose daily, weekly or cron.",
                        quoted(&input.kind)
                    ),
                ));
                None
            }
        };

        match (action, trigger, time_zone) {
            (Some(action), Some(trigger), Some(time_zone)) if errors.is_empty() => Ok(Schedule {
                action,
                enabled: input.enabled,
                trigger,
                time_zone,
            }),
            _ => Err(errors),
        }
    }

    /// The form row that shows this schedule, for editing it again.
    pub fn to_input(&self) -> ScheduleInput {
        let mut input = ScheduleInput {
            action: self.action.as_str().to_string(),
            enabled: self.enabled,
            time_zone: self.time_zone.windows.to_string(),
            ..ScheduleInput::default()
        };
        match &self.trigger {
            Trigger::Recurrence {
                recurrence,
                hour,
                minute,
            } => {
                input.time = clock_time(*hour, *minute);
                match recurrence {
                    Recurrence::Daily => input.kind = "daily".to_string(),
                    Recurrence::Weekly(days) => {
                        input.kind = "weekly".to_string();
                        input.weekdays = days
                            .iter()
                            .map(|day| weekday_name(*day).to_string())
                            .collect();
                    }
                }
            }
            Trigger::Cron { expression } => {
                input.kind = "cron".to_string();
                input.cron = expression.clone();
            }
        }
        input
    }
}

fn action_error(typed: &str) -> FieldError {
    if typed.trim().is_empty() {
        FieldError::new(
            "action",
            "Choose whether the schedule starts or stops the instance.",
        )
    } else {
        FieldError::new(
            "action",
            format!("The action must be Start or Stop, not {}.", quoted(typed)),
        )
    }
}

fn time_zone_error(typed: &str) -> FieldError {
    if typed.trim().is_empty() {
        FieldError::new("time_zone", "Choose a time zone.")
    } else {
        FieldError::new(
            "time_zone",
            format!(
                "{} is not a time zone Compute Studio knows; choose one from the list.",
                quoted(typed)
            ),
        )
    }
}

/// The form's time field, or `None` after recording why it is wrong.
fn time_from_input(typed: &str, errors: &mut Vec<FieldError>) -> Option<(u32, u32)> {
    let time = parse_clock_time(typed);
    if time.is_none() {
        errors.push(FieldError::new(
            "time",
            "Time must be HH:MM in 24-hour form, such as 18:00.",
        ));
    }
    time
}

/// Reads "HH:MM" or "H:MM" on a 24-hour clock: "08:30", "8:30", "23:59".
fn parse_clock_time(text: &str) -> Option<(u32, u32)> {
    let (hour, minute) = text.trim().split_once(':')?;
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if !(1..=2).contains(&hour.len())
        || minute.len() != 2
        || !all_digits(hour)
        || !all_digits(minute)
    {
        return None;
    }
    let hour: u32 = hour.parse().ok()?;
    let minute: u32 = minute.parse().ok()?;
    (hour < 24 && minute < 60).then_some((hour, minute))
}

/// The form's weekday checkboxes, or `None` after recording why they are wrong.
fn weekdays_from_input(typed: &[String], errors: &mut Vec<FieldError>) -> Option<Vec<Weekday>> {
    let mut days = Vec::new();
    let mut all_known = true;
    for text in typed.iter().filter(|text| !text.trim().is_empty()) {
        match parse_weekday(text) {
            Some(day) => days.push(day),
            None => {
                all_known = false;
                errors.push(FieldError::new(
                    "weekdays",
                    format!("{} is not a day of the week.", quoted(text)),
                ));
            }
        }
    }
    if all_known && days.is_empty() {
        errors.push(FieldError::new(
            "weekdays",
            "Pick at least one day of the week for a weekly schedule.",
        ));
    }
    (all_known && !days.is_empty()).then(|| monday_first_without_repeats(days))
}

/// The form's cron field, or `None` after recording why it is wrong.
fn cron_from_input(typed: &str, errors: &mut Vec<FieldError>) -> Option<Trigger> {
    if typed.trim().is_empty() {
        errors.push(FieldError::new(
            "cron",
            "Enter a cron expression, such as 0 19 * * 1-5 (19:00 on weekdays).",
        ));
        return None;
    }
    match check_cron(typed) {
        Ok(checked) => Some(Trigger::Cron {
            expression: checked.expression,
        }),
        Err(reason) => {
            errors.push(FieldError::new(
                "cron",
                format!("{}.", cron_error(typed, &reason)),
            ));
            None
        }
    }
}

/// "'61 * * * *' is not a valid cron expression: minute must be 0–59"
fn cron_error(typed: &str, reason: &str) -> String {
    format!("{} is not a valid cron expression: {reason}", quoted(typed))
}

// ---------------------------------------------------------------------------
// Weekdays and clock times
// ---------------------------------------------------------------------------

/// Monday first, as Azure lists them and as Europe reads a week.
const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The English names Azure uses, Monday first.
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The English name Azure uses: "Monday".
fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAY_NAMES[day.num_days_from_monday() as usize]
}

/// Reads "Monday" or "mon", in any letter case.
fn parse_weekday(text: &str) -> Option<Weekday> {
    let text = text.trim();
    WEEKDAYS.into_iter().find(|day| {
        let name = weekday_name(*day);
        text.eq_ignore_ascii_case(name) || text.eq_ignore_ascii_case(&name[..3])
    })
}

/// Weekdays in a fixed order without repeats, so that equal schedules compare
/// equal however their days were listed.
fn monday_first_without_repeats(mut days: Vec<Weekday>) -> Vec<Weekday> {
    days.sort_by_key(|day| day.num_days_from_monday());
    days.dedup();
    days
}

/// "08:30"
fn clock_time(hour: u32, minute: u32) -> String {
    format!("{hour:02}:{minute:02}")
}

/// Quotes text a person typed for a message, cut short if it is long so
/// that a pasted essay does not flood the page.
fn quoted(text: &str) -> String {
    const LONGEST: usize = 40;
    if text.chars().count() <= LONGEST {
        format!("'{text}'")
    } else {
        let start: String = text.chars().take(LONGEST).collect();
        format!("'{start}…'")
    }
}

/// Numbers as a cron list: "0,15,30".
fn cron_list(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------------------
// Cron expressions
// ---------------------------------------------------------------------------

/// One of the five fields of a cron expression, with the values NCronTab
/// allows in it.
struct CronField {
    /// How a message names the field: "minute".
    name: &'static str,
    min: u32,
    max: u32,
    /// English names the field also accepts, for the values min, min+1, ….
    names: &'static [&'static str],
    /// Finishes "minute must be …".
    allowed: &'static str,
}

const CRON_FIELDS: [CronField; 5] = [
    CronField {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        allowed: "0–59",
    },
    CronField {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        allowed: "0–23",
    },
    CronField {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        allowed: "1–31",
    },
    CronField {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        allowed: "1–12 or JAN–DEC",
    },
    CronField {
        name: "day of week",
        min: 0,
        max: 6,
        names: &[
            "sunday",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
        ],
        allowed: "0–6 (Sunday is 0) or SUN–SAT",
    },
];

/// A field after checking: the numeric text croner gets, and the set of
/// values it allows (bit `n` set when value `n` is allowed).
struct CheckedField {
    for_croner: String,
    values: u64,
}

/// A cron expression that passed every check.
struct CheckedCron {
    /// The expression as typed, with single spaces between the fields: this
    /// is what we store and send to Azure.
    expression: String,
    cron: Cron,
}

/// Checks a cron expression against NCronTab's rules. The error is the reason
/// only, worded to follow "… is not a valid cron expression: ".
fn check_cron(typed: &str) -> Result<CheckedCron, String> {
    let trimmed = typed.trim();
    if trimmed.is_empty() {
        return Err("it is empty".to_string());
    }
    if trimmed.chars().count() > MAX_CRON_LENGTH {
        return Err(format!("it is longer than {MAX_CRON_LENGTH} characters"));
    }
    let parts: Vec<&str> = trimmed.split_whitespace().collect();
    if parts.len() == 6 {
        return Err(
            "Azure uses 5 fields (minute hour day-of-month month day-of-week), \
             so leave out the seconds field"
                .to_string(),
        );
    }
    if parts.len() != 5 {
        return Err(format!(
            "it needs exactly 5 fields (minute hour day-of-month month day-of-week), not {}",
            parts.len()
        ));
    }

    let mut checked = Vec::with_capacity(5);
    for (field, text) in CRON_FIELDS.iter().zip(&parts) {
        checked.push(check_cron_field(field, text)?);
    }
    // Fields in order: minute, hour, day of month, month, day of week.
    let (days, months) = (checked[2].values, checked[3].values);
    if !some_month_has_one_of_these_days(months, days) {
        return Err(
            "it never runs, because none of its months has any of its days \
             (like 30 February)"
                .to_string(),
        );
    }

    let for_croner: Vec<&str> = checked
        .iter()
        .map(|field| field.for_croner.as_str())
        .collect();
    // Our own checks are stricter than croner's, so croner refusing what
    // passed them would be a bug; its message is still better than a panic.
    let cron = ncrontab_parser()
        .parse(&for_croner.join(" "))
        .map_err(|error| error.to_string())?;
    Ok(CheckedCron {
        expression: parts.join(" "),
        cron,
    })
}

/// A croner parser that reads expressions the way NCronTab does: exactly five
/// fields (seconds and years refused), and a day has to match both the
/// day-of-month and the day-of-week fields.
fn ncrontab_parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .dom_and_dow(true)
        .build()
}

/// Checks one field: a comma-separated list of items, each `*`, a value, or a
/// range `a-b`, optionally followed by a step `/n`.
fn check_cron_field(field: &CronField, text: &str) -> Result<CheckedField, String> {
    let mut for_croner = Vec::new();
    let mut values = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!(
                "the {} field has an empty item in its list",
                field.name
            ));
        }
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(parse_step(field, step)?)),
            None => (item, None),
        };
        let (first, last, base_for_croner) = if base == "*" {
            (field.min, field.max, "*".to_string())
        } else if let Some((from, to)) = base.split_once('-') {
            let (from, to) = (
                parse_field_value(field, from)?,
                parse_field_value(field, to)?,
            );
            if from > to {
                return Err(format!(
                    "the {} range {base} runs backwards; write the smaller value first",
                    field.name
                ));
            }
            (from, to, format!("{from}-{to}"))
        } else {
            let value = parse_field_value(field, base)?;
            match step {
                // NCronTab reads "5/15" as "from 5 to the end, every 15th".
                Some(_) => (value, field.max, format!("{value}-{}", field.max)),
                None => (value, value, value.to_string()),
            }
        };
        let step = step.unwrap_or(1);
        for value in (first..=last).step_by(step as usize) {
            values |= 1 << value;
        }
        for_croner.push(if step == 1 {
            base_for_croner
        } else {
            format!("{base_for_croner}/{step}")
        });
    }
    Ok(CheckedField {
        for_croner: for_croner.join(","),
        values,
    })
}

/// A step after `/`: a whole number from 1 to the field's largest value.
fn parse_step(field: &CronField, text: &str) -> Result<u32, String> {
    let step = parse_small_number(text).ok_or_else(|| {
        format!(
            "the {} step {} is not a whole number",
            field.name,
            quoted(text)
        )
    })?;
    if step == 0 || step > field.max {
        return Err(format!(
            "the {} step must be between 1 and {}",
            field.name, field.max
        ));
    }
    Ok(step)
}

/// A single value: a number in the field's range, or for month and day of
/// week an English name or its first three letters or more ("mon", "Monday").
fn parse_field_value(field: &CronField, text: &str) -> Result<u32, String> {
    if let Some(number) = parse_small_number(text) {
        return if (field.min..=field.max).contains(&number) {
            Ok(number)
        } else {
            Err(format!("{} must be {}", field.name, field.allowed))
        };
    }
    let lower = text.to_ascii_lowercase();
    let by_name = field
        .names
        .iter()
        .position(|name| lower.len() >= 3 && name.starts_with(lower.as_str()));
    match by_name {
        Some(index) => Ok(field.min + index as u32),
        None if text.is_empty() => Err(format!(
            "the {} field has a range or step with a missing value",
            field.name
        )),
        None if text.bytes().all(|byte| byte.is_ascii_digit()) => {
            // Only digits, but too many of them to be a number we parse.
            Err(format!("{} must be {}", field.name, field.allowed))
        }
        None => Err(format!(
            "the {} field does not understand {}; use numbers, *, ranges like 1-5, \
             lists like 1,3 and steps like */15",
            field.name,
            quoted(text)
        )),
    }
}

/// Digits only, and few enough that the number fits easily.
fn parse_small_number(text: &str) -> Option<u32> {
    let digits_only = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    (digits_only && text.len() <= 4)
        .then(|| text.parse().ok())
        .flatten()
}

/// Whether some allowed month has some allowed day of month. Every date falls
/// on every weekday sooner or later (even 29 February, over 28 years), so a
/// date that exists is enough for the expression to run some day.
fn some_month_has_one_of_these_days(months: u64, days: u64) -> bool {
    (1..=12u32)
        .filter(|month| months & (1 << month) != 0)
        .any(|month| (1..=longest_month_length(month)).any(|day| days & (1 << day) != 0))
}

/// The most days the month ever has (February: 29, in leap years).
fn longest_month_length(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Cron's day-of-week number: Sunday is 0.
fn cron_weekday(day: Weekday) -> u32 {
    day.num_days_from_sunday()
}

// ---------------------------------------------------------------------------
// Run times and descriptions
// ---------------------------------------------------------------------------

impl Schedule {
    /// The next `count` runs after `after` (at most 1000), as wall-clock
    /// times in the schedule's zone. See the module documentation for what
    /// happens on the days the clocks change. A schedule whose public fields
    /// were set to something invalid by hand has no runs.
    pub fn next_runs(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Tz>> {
        let Some(cron) = self.cron() else {
            return Vec::new();
        };
        let mut runs = Vec::new();
        let mut previous = after.with_timezone(&self.time_zone.tz());
        while runs.len() < count.min(MAX_NEXT_RUNS) {
            match cron.find_next_occurrence(&previous, false) {
                Ok(next) => {
                    runs.push(next);
                    previous = next;
                }
                // croner gives up past the year 5000; nothing to show then.
                Err(_) => break,
            }
        }
        runs
    }

    /// One line for a person: "Stop every day at 18:00 (W. Europe Standard Time)".
    pub fn describe(&self) -> String {
        let action = self.action.label();
        let zone = self.time_zone.windows;
        let when = match &self.trigger {
            Trigger::Recurrence {
                recurrence: Recurrence::Daily,
                hour,
                minute,
            } => format!("every day at {}", clock_time(*hour, *minute)),
            Trigger::Recurrence {
                recurrence: Recurrence::Weekly(days),
                hour,
                minute,
            } => {
                let days: Vec<&str> = days.iter().map(|day| weekday_name(*day)).collect();
                let days = if days.is_empty() {
                    "no day".to_string()
                } else {
                    days.join(", ")
                };
                format!("on {days} at {}", clock_time(*hour, *minute))
            }
            Trigger::Cron { expression } => {
                return format!(
                    "{action} at cron '{expression}' ({zone}): {}{}",
                    describe_cron(expression),
                    disabled_note(self.enabled)
                );
            }
        };
        format!("{action} {when} ({zone}){}", disabled_note(self.enabled))
    }

    /// The schedule as a croner expression, or `None` if the public fields
    /// were set by hand to something that is not a valid schedule.
    fn cron(&self) -> Option<Cron> {
        check_cron(&self.trigger.cron_expression())
            .ok()
            .map(|checked| checked.cron)
    }
}

impl Trigger {
    /// The trigger as a five-field cron expression: a daily run at 18:00 is
    /// "0 18 * * *". Computing every kind of trigger through cron means
    /// there is one way to compute run times.
    fn cron_expression(&self) -> String {
        match self {
            Trigger::Recurrence {
                recurrence,
                hour,
                minute,
            } => {
                let days = match recurrence {
                    Recurrence::Daily => "*".to_string(),
                    Recurrence::Weekly(days) => {
                        let numbers: Vec<u32> = days.iter().map(|day| cron_weekday(*day)).collect();
                        cron_list(&numbers)
                    }
                };
                format!("{minute} {hour} * * {days}")
            }
            Trigger::Cron { expression } => expression.clone(),
        }
    }
}

/// croner's English description, made to continue a sentence:
/// "at 19:00, on Monday, Tuesday, Wednesday, Thursday, and Friday".
fn describe_cron(expression: &str) -> String {
    let Ok(checked) = check_cron(expression) else {
        return "not a valid cron expression".to_string();
    };
    let description = checked.cron.describe();
    let description = description.trim().trim_end_matches('.');
    let mut chars = description.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => expression.to_string(),
    }
}

fn disabled_note(enabled: bool) -> &'static str {
    if enabled { "" } else { " (disabled)" }
}

// ---------------------------------------------------------------------------
// Azure's JSON
// ---------------------------------------------------------------------------

impl Schedule {
    /// The schedule as one `ComputeStartStopSchedule` of Azure's PUT body.
    /// Daily and weekly become a `Recurrence` (frequency Day or Week, interval
    /// 1); cron becomes a `Cron`. The read-only `id` and
    /// `provisioningStatus` are left out, and so is `startTime`, so the
    /// schedule applies from now on.
    pub fn to_arm(&self) -> Value {
        let status = if self.enabled { "Enabled" } else { "Disabled" };
        let zone = self.time_zone.windows;
        match &self.trigger {
            Trigger::Recurrence {
                recurrence,
                hour,
                minute,
            } => {
                let (frequency, schedule) = match recurrence {
                    Recurrence::Daily => ("Day", json!({ "hours": [hour], "minutes": [minute] })),
                    Recurrence::Weekly(days) => {
                        let names: Vec<&str> = days.iter().map(|day| weekday_name(*day)).collect();
                        (
                            "Week",
                            json!({ "hours": [hour], "minutes": [minute], "weekDays": names }),
                        )
                    }
                };
                json!({
                    "status": status,
                    "action": self.action.as_str(),
                    "triggerType": "Recurrence",
                    "recurrence": {
                        "frequency": frequency,
                        "interval": 1,
                        "timeZone": zone,
                        "schedule": schedule,
                    },
                })
            }
            Trigger::Cron { expression } => json!({
                "status": status,
                "action": self.action.as_str(),
                "triggerType": "Cron",
                "cron": { "expression": expression, "timeZone": zone },
            }),
        }
    }

    /// Reads one `ComputeStartStopSchedule` as Azure returns it.
    ///
    /// Enum values may be in any letter case ("stop", "CRON"). A missing
    /// status means Enabled and a missing time zone means UTC, as in Azure.
    /// `startTime` is checked but not kept. A recurrence that is not simply
    /// daily or weekly at one time (say every 2 hours, or at 8:00 and 12:00)
    /// becomes the equivalent cron expression; one that no cron expression can
    /// express (every 3 days, every 2 weeks) is refused with a message saying so.
    pub fn from_arm(value: &Value) -> Result<Schedule, String> {
        read_schedule(value).map_err(|error| error.text(""))
    }
}

/// Checks a whole `schedules` object of a compute instance's PUT body, as
/// Azure would. Returns the schedules, or the first problem in words that
/// name where it is:
///
/// ```text
/// schedules.computeStartStop[1].cron.expression '61 * * * *' is not a valid
/// cron expression: minute must be 0–59
/// ```
pub fn validate_arm_schedules(value: &Value) -> Result<Vec<Schedule>, String> {
    const LIST: &str = "schedules.computeStartStop";
    let list = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(object) => object.get("computeStartStop"),
        _ => return Err("schedules must be an object with a computeStartStop list".to_string()),
    };
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{LIST} must be a list")),
    };
    if items.len() > MAX_SCHEDULES {
        return Err(format!(
            "{LIST} has {} schedules; a compute instance can have at most {MAX_SCHEDULES}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            read_schedule(item).map_err(|error| error.text(&format!("{LIST}[{index}]")))
        })
        .collect()
}

/// A problem in Azure's JSON: where it is (like "cron.expression") and what
/// is wrong there.
struct ArmError {
    path: String,
    message: String,
}

impl ArmError {
    /// The error as one sentence, its path put after `prefix` (the place of
    /// the whole schedule, or "" when there is none).
    fn text(&self, prefix: &str) -> String {
        let place = match (prefix.is_empty(), self.path.is_empty()) {
            (true, true) => "the schedule".to_string(),
            (true, false) => self.path.clone(),
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}.{}", self.path),
        };
        format!("{place} {}", self.message)
    }
}

fn arm_error(path: &str, message: impl Into<String>) -> ArmError {
    ArmError {
        path: path.to_string(),
        message: message.into(),
    }
}

type ArmResult<T> = Result<T, ArmError>;

fn read_schedule(value: &Value) -> ArmResult<Schedule> {
    let object = value
        .as_object()
        .ok_or_else(|| arm_error("", "must be an object"))?;
    let action = read_action(object)?;
    let enabled = read_status(object)?;
    let trigger_type = read_string(object, "triggerType", "triggerType")?
        .ok_or_else(|| arm_error("triggerType", "is required (Recurrence or Cron)"))?;
    let (trigger, time_zone) = if trigger_type.eq_ignore_ascii_case("recurrence") {
        read_recurrence_trigger(object.get("recurrence"))?
    } else if trigger_type.eq_ignore_ascii_case("cron") {
        read_cron_trigger(object.get("cron"))?
    } else {
        return Err(arm_error(
            "triggerType",
            format!("{} is not Recurrence or Cron", quoted(trigger_type)),
        ));
    };
    Ok(Schedule {
        action,
        enabled,
        trigger,
        time_zone,
    })
}

/// A string member: `Ok(None)` when missing or null, an error when it is
/// something other than a string.
fn read_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> ArmResult<Option<&'a str>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(arm_error(path, "must be a string")),
    }
}

fn read_action(object: &Map<String, Value>) -> ArmResult<ScheduleAction> {
    let text = read_string(object, "action", "action")?
        .ok_or_else(|| arm_error("action", "is required (Start or Stop)"))?;
    ScheduleAction::parse(text)
        .ok_or_else(|| arm_error("action", format!("{} is not Start or Stop", quoted(text))))
}

/// `status`: Enabled (the default) or Disabled.
fn read_status(object: &Map<String, Value>) -> ArmResult<bool> {
    match read_string(object, "status", "status")? {
        None => Ok(true),
        Some(text) if text.eq_ignore_ascii_case("enabled") => Ok(true),
        Some(text) if text.eq_ignore_ascii_case("disabled") => Ok(false),
        Some(text) => Err(arm_error(
            "status",
            format!("{} is not Enabled or Disabled", quoted(text)),
        )),
    }
}

/// A required object member such as `cron`.
fn read_object<'a>(value: Option<&'a Value>, path: &str) -> ArmResult<&'a Map<String, Value>> {
    match value {
        Some(Value::Object(object)) => Ok(object),
        None | Some(Value::Null) => Err(arm_error(path, "is required")),
        Some(_) => Err(arm_error(path, "must be an object")),
    }
}

/// `timeZone`: a Windows name (an IANA name is accepted too); UTC when missing.
fn read_time_zone(object: &Map<String, Value>, path: &str) -> ArmResult<&'static TimeZone> {
    match read_string(object, "timeZone", path)? {
        None => Ok(utc_zone()),
        Some(name) => find_time_zone(name).ok_or_else(|| {
            arm_error(
                path,
                format!(
                    "{} is not a time zone Compute Studio knows; use a Windows time zone name \
                     such as 'W. Europe Standard Time'",
                    quoted(name)
                ),
            )
        }),
    }
}

/// `startTime`: "yyyy-MM-ddTHH:mm:ss" (fractions of a second allowed), or missing.
fn read_start_time(object: &Map<String, Value>, path: &str) -> ArmResult<Option<NaiveDateTime>> {
    let Some(text) = read_string(object, "startTime", path)? else {
        return Ok(None);
    };
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .map(Some)
        .map_err(|_| {
            arm_error(
                path,
                format!(
                    "{} must be a date and time like 2021-04-23T01:30:00",
                    quoted(text)
                ),
            )
        })
}

fn read_cron_trigger(value: Option<&Value>) -> ArmResult<(Trigger, &'static TimeZone)> {
    let object = read_object(value, "cron")?;
    let time_zone = read_time_zone(object, "cron.timeZone")?;
    read_start_time(object, "cron.startTime")?;
    let expression = read_string(object, "expression", "cron.expression")?
        .ok_or_else(|| arm_error("cron.expression", "is required"))?;
    let checked = check_cron(expression)
        .map_err(|reason| arm_error("cron.expression", cron_error(expression, &reason)))?;
    Ok((
        Trigger::Cron {
            expression: checked.expression,
        },
        time_zone,
    ))
}

/// Azure's recurrence frequencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frequency {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

/// `recurrence.schedule`, with missing lists read as empty ones; the values
/// are checked, sorted and without repeats.
#[derive(Default)]
struct RecurrenceSchedule {
    hours: Vec<u32>,
    minutes: Vec<u32>,
    week_days: Vec<Weekday>,
    month_days: Vec<u32>,
}

fn read_recurrence_trigger(value: Option<&Value>) -> ArmResult<(Trigger, &'static TimeZone)> {
    let object = read_object(value, "recurrence")?;
    let time_zone = read_time_zone(object, "recurrence.timeZone")?;
    let start_time = read_start_time(object, "recurrence.startTime")?;
    let frequency = read_frequency(object)?;
    let interval = read_interval(object)?;
    let schedule = match object.get("schedule") {
        None | Some(Value::Null) => RecurrenceSchedule::default(),
        Some(Value::Object(schedule)) => read_recurrence_schedule(schedule)?,
        Some(_) => return Err(arm_error("recurrence.schedule", "must be an object")),
    };
    let trigger = recurrence_to_trigger(frequency, interval, &schedule, start_time)?;
    Ok((trigger, time_zone))
}

fn read_frequency(object: &Map<String, Value>) -> ArmResult<Frequency> {
    const PATH: &str = "recurrence.frequency";
    let text = read_string(object, "frequency", PATH)?
        .ok_or_else(|| arm_error(PATH, "is required (Minute, Hour, Day, Week or Month)"))?;
    [
        ("minute", Frequency::Minute),
        ("hour", Frequency::Hour),
        ("day", Frequency::Day),
        ("week", Frequency::Week),
        ("month", Frequency::Month),
    ]
    .into_iter()
    .find(|(name, _)| text.eq_ignore_ascii_case(name))
    .map(|(_, frequency)| frequency)
    .ok_or_else(|| {
        arm_error(
            PATH,
            format!("{} is not Minute, Hour, Day, Week or Month", quoted(text)),
        )
    })
}

fn read_interval(object: &Map<String, Value>) -> ArmResult<u32> {
    const PATH: &str = "recurrence.interval";
    match object.get("interval") {
        None | Some(Value::Null) => Err(arm_error(PATH, "is required")),
        Some(value) => value
            .as_u64()
            .filter(|interval| *interval >= 1)
            .and_then(|interval| u32::try_from(interval).ok())
            .ok_or_else(|| arm_error(PATH, "must be a whole number of at least 1")),
    }
}

fn read_recurrence_schedule(object: &Map<String, Value>) -> ArmResult<RecurrenceSchedule> {
    let number_list = |key: &str, min: u32, max: u32| -> ArmResult<Vec<u32>> {
        let path = format!("recurrence.schedule.{key}");
        let items = match object.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(arm_error(&path, "must be a list of numbers")),
        };
        let mut numbers = items
            .iter()
            .map(|item| {
                item.as_u64()
                    .and_then(|number| u32::try_from(number).ok())
                    .filter(|number| (min..=max).contains(number))
                    .ok_or_else(|| {
                        arm_error(
                            &path,
                            format!("contains {item}; each must be a number from {min} to {max}"),
                        )
                    })
            })
            .collect::<ArmResult<Vec<u32>>>()?;
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    };
    let week_days = match object.get("weekDays") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().and_then(parse_weekday).ok_or_else(|| {
                    arm_error(
                        "recurrence.schedule.weekDays",
                        format!("contains {item}, which is not a day of the week like \"Monday\""),
                    )
                })
            })
            .collect::<ArmResult<Vec<Weekday>>>()?,
        Some(_) => {
            return Err(arm_error(
                "recurrence.schedule.weekDays",
                "must be a list of days like [\"Monday\", \"Friday\"]",
            ));
        }
    };
    Ok(RecurrenceSchedule {
        hours: number_list("hours", 0, 23)?,
        minutes: number_list("minutes", 0, 59)?,
        week_days: monday_first_without_repeats(week_days),
        month_days: number_list("monthDays", 1, 31)?,
    })
}

/// Turns an Azure recurrence into our trigger: daily or weekly at one time
/// when it is that simple, else an equivalent cron expression.
///
/// Like Azure's recurrences elsewhere (Logic Apps), `hours` and `minutes`
/// pick the times of day for Day, Week and Month, Hour only uses `minutes`,
/// Minute uses neither, `weekDays` only counts for Week and `monthDays` only
/// for Month. "Every n hours / minutes / months"
/// counts from `startTime` when there is one, else from midnight / the top
/// of the hour / January.
fn recurrence_to_trigger(
    frequency: Frequency,
    interval: u32,
    schedule: &RecurrenceSchedule,
    start_time: Option<NaiveDateTime>,
) -> ArmResult<Trigger> {
    let start_minute = start_time.map_or(0, |start| start.minute());
    let start_hour = start_time.map_or(0, |start| start.hour());
    let cron = match frequency {
        Frequency::Day | Frequency::Week if interval != 1 => {
            return Err(not_cron_expressible(frequency, interval));
        }
        Frequency::Day => {
            let (hours, minutes) = times_of_day(schedule)?;
            if let ([hour], [minute]) = (hours, minutes) {
                return Ok(Trigger::Recurrence {
                    recurrence: Recurrence::Daily,
                    hour: *hour,
                    minute: *minute,
                });
            }
            format!("{} {} * * *", cron_list(minutes), cron_list(hours))
        }
        Frequency::Week => {
            let (hours, minutes) = times_of_day(schedule)?;
            if schedule.week_days.is_empty() {
                return Err(arm_error(
                    "recurrence.schedule.weekDays",
                    "must list at least one day for a weekly recurrence",
                ));
            }
            if let ([hour], [minute]) = (hours, minutes) {
                return Ok(Trigger::Recurrence {
                    recurrence: Recurrence::Weekly(schedule.week_days.clone()),
                    hour: *hour,
                    minute: *minute,
                });
            }
            let days: Vec<u32> = schedule
                .week_days
                .iter()
                .map(|day| cron_weekday(*day))
                .collect();
            format!(
                "{} {} * * {}",
                cron_list(minutes),
                cron_list(hours),
                cron_list(&days)
            )
        }
        Frequency::Month => {
            let (hours, minutes) = times_of_day(schedule)?;
            if schedule.month_days.is_empty() {
                return Err(arm_error(
                    "recurrence.schedule.monthDays",
                    "must list at least one day for a monthly recurrence",
                ));
            }
            let start_month = start_time.map_or(1, |start| start.month());
            let months = stepped_cron_field(interval, 12, 1, start_month)
                .ok_or_else(|| not_cron_expressible(frequency, interval))?;
            format!(
                "{} {} {} {months} *",
                cron_list(minutes),
                cron_list(hours),
                cron_list(&schedule.month_days)
            )
        }
        Frequency::Hour => hourly_cron(interval, schedule, start_hour, start_minute)
            .ok_or_else(|| not_cron_expressible(frequency, interval))?,
        Frequency::Minute if interval.is_multiple_of(60) => {
            // Every 120 minutes is every 2 hours, at the start time's minute.
            let at_start_minute = RecurrenceSchedule {
                minutes: vec![start_minute],
                ..RecurrenceSchedule::default()
            };
            hourly_cron(interval / 60, &at_start_minute, start_hour, start_minute)
                .ok_or_else(|| not_cron_expressible(frequency, interval))?
        }
        Frequency::Minute => {
            let minutes = stepped_cron_field(interval, 60, 0, start_minute)
                .ok_or_else(|| not_cron_expressible(frequency, interval))?;
            format!("{minutes} * * * *")
        }
    };
    // The expression is built from checked numbers, so this cannot fail; if
    // it ever did, saying so beats storing something Azure would refuse.
    let checked = check_cron(&cron).map_err(|reason| {
        arm_error(
            "recurrence",
            format!("becomes the cron expression '{cron}', which is not valid: {reason}"),
        )
    })?;
    Ok(Trigger::Cron {
        expression: checked.expression,
    })
}

/// "Every `interval` hours" at the schedule's minutes (the start time's
/// minute when it lists none), or `None` when the hours don't line up the
/// same way every day (every 5 hours).
fn hourly_cron(
    interval: u32,
    schedule: &RecurrenceSchedule,
    start_hour: u32,
    start_minute: u32,
) -> Option<String> {
    let hours = stepped_cron_field(interval, 24, 0, start_hour)?;
    let minutes = if schedule.minutes.is_empty() {
        start_minute.to_string()
    } else {
        cron_list(&schedule.minutes)
    };
    Some(format!("{minutes} {hours} * * *"))
}

/// A cron field for "every `interval` units, in step with `anchor`", where the
/// field counts `period` values from `first`: every 15 minutes from minute 5
/// is "5-59/15". `None` when `interval` does not divide `period`, because
/// cron restarts the count each hour, day or year and the runs would drift.
fn stepped_cron_field(interval: u32, period: u32, first: u32, anchor: u32) -> Option<String> {
    if interval == 0 || !period.is_multiple_of(interval) {
        return None;
    }
    if interval == 1 {
        return Some("*".to_string());
    }
    let last = first + period - 1;
    let offset = first + (anchor.saturating_sub(first)) % interval;
    Some(if offset == first {
        format!("*/{interval}")
    } else {
        format!("{offset}-{last}/{interval}")
    })
}

/// The hours and minutes a Day, Week or Month recurrence runs at.
fn times_of_day(schedule: &RecurrenceSchedule) -> ArmResult<(&[u32], &[u32])> {
    if schedule.hours.is_empty() {
        return Err(arm_error(
            "recurrence.schedule.hours",
            "must list at least one hour (0–23)",
        ));
    }
    if schedule.minutes.is_empty() {
        return Err(arm_error(
            "recurrence.schedule.minutes",
            "must list at least one minute (0–59)",
        ));
    }
    Ok((&schedule.hours, &schedule.minutes))
}

fn not_cron_expressible(frequency: Frequency, interval: u32) -> ArmError {
    let unit = match frequency {
        Frequency::Minute => "minutes",
        Frequency::Hour => "hours",
        Frequency::Day => "days",
        Frequency::Week => "weeks",
        Frequency::Month => "months",
    };
    arm_error(
        "recurrence.interval",
        format!(
            "{interval} (every {interval} {unit}) cannot be written as a cron expression, \
             because the runs would not repeat the same way every hour, day or year; \
             Compute Studio supports daily, weekly and cron schedules"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn input(
        action: &str,
        kind: &str,
        time: &str,
        weekdays: &[&str],
        cron: &str,
        zone: &str,
    ) -> ScheduleInput {
        ScheduleInput {
            action: action.to_string(),
            enabled: true,
            kind: kind.to_string(),
            time: time.to_string(),
            weekdays: weekdays.iter().map(|day| day.to_string()).collect(),
            cron: cron.to_string(),
            time_zone: zone.to_string(),
        }
    }

    fn daily(time: &str, zone: &str) -> Schedule {
        Schedule::from_input(&input("Stop", "daily", time, &[], "", zone))
            .expect("valid daily schedule")
    }

    fn cron(expression: &str, zone: &str) -> Schedule {
        Schedule::from_input(&input("Stop", "cron", "", &[], expression, zone))
            .expect("valid cron schedule")
    }

    /// The fields and messages of a row's errors.
    fn errors_of(row: &ScheduleInput) -> Vec<(&'static str, String)> {
        match Schedule::from_input(row) {
            Ok(schedule) => panic!("expected errors, got {schedule:?}"),
            Err(errors) => errors
                .into_iter()
                .map(|error| (error.field, error.message))
                .collect(),
        }
    }

    fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
            .unwrap()
    }

    /// Runs as "2026-03-29 18:00 +02:00", easy to compare in a test.
    fn local(runs: &[DateTime<Tz>]) -> Vec<String> {
        runs.iter()
            .map(|run| run.format("%Y-%m-%d %H:%M %:z").to_string())
            .collect()
    }

    fn in_utc(runs: &[DateTime<Tz>]) -> Vec<String> {
        runs.iter()
            .map(|run| run.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    // --- time zones -------------------------------------------------------

    #[test]
    fn every_time_zone_is_known_to_chrono_tz_and_listed_once() {
        assert_eq!(TIME_ZONES[0].windows, "UTC");
        assert!(TIME_ZONES.len() >= 40);
        for (index, zone) in TIME_ZONES.iter().enumerate() {
            assert!(
                zone.iana.parse::<Tz>().is_ok(),
                "{} is not in chrono-tz",
                zone.iana
            );
            assert!(zone.label.starts_with("(UTC"), "{}", zone.label);
            let repeats = TIME_ZONES[index + 1..]
                .iter()
                .any(|other| other.windows == zone.windows);
            assert!(!repeats, "{} is listed twice", zone.windows);
        }
    }

    #[test]
    fn time_zones_are_found_by_windows_name_in_any_case_or_by_iana_name() {
        assert_eq!(
            find_time_zone("W. Europe Standard Time").unwrap().iana,
            "Europe/Berlin"
        );
        assert_eq!(
            find_time_zone("w. europe standard time").unwrap().iana,
            "Europe/Berlin"
        );
        assert_eq!(
            find_time_zone(" Pacific Standard Time ").unwrap().iana,
            "America/Los_Angeles"
        );
        assert_eq!(
            find_time_zone("Europe/London").unwrap().windows,
            "GMT Standard Time"
        );
        assert_eq!(
            find_time_zone("asia/tokyo").unwrap().windows,
            "Tokyo Standard Time"
        );
        assert_eq!(
            find_time_zone("Asia/Kolkata").unwrap().windows,
            "India Standard Time"
        );
        assert_eq!(find_time_zone("Etc/UTC").unwrap().windows, "UTC");
        for name in ["Mars Standard Time", "", "Europe/Nowhere", "Standard Time"] {
            assert!(find_time_zone(name).is_none(), "{name}");
        }
    }

    // --- round trips --------------------------------------------------------

    #[test]
    fn form_rows_survive_the_trip_through_azure_json() {
        let rows = [
            input("Stop", "daily", "18:00", &[], "", "W. Europe Standard Time"),
            input(
                "start",
                "Weekly",
                "8:30",
                &["tue", "Monday", "mon"],
                "",
                "UTC",
            ),
            input(
                "Stop",
                "cron",
                "",
                &[],
                "  0 19  * * 1-5 ",
                "Pacific Standard Time",
            ),
            input(
                "Start",
                "cron",
                "",
                &[],
                "*/15 8-17 * JAN-MAR mon-fri",
                "Tokyo Standard Time",
            ),
        ];
        for row in rows {
            let schedule = Schedule::from_input(&row).unwrap();
            let arm = schedule.to_arm();
            assert_eq!(Schedule::from_arm(&arm).unwrap(), schedule, "{arm}");
            // Re-rendering the form shows the row in its tidy form, which
            // reads back as the same schedule.
            assert_eq!(
                Schedule::from_input(&schedule.to_input()).unwrap(),
                schedule
            );
        }
    }

    #[test]
    fn to_input_shows_a_tidy_row() {
        let schedule = Schedule::from_input(&input(
            "start",
            "Weekly",
            "8:30",
            &["tue", "Monday", "mon"],
            "",
            "utc",
        ))
        .unwrap();
        let mut expected = input(
            "Start",
            "weekly",
            "08:30",
            &["Monday", "Tuesday"],
            "",
            "UTC",
        );
        expected.enabled = true;
        assert_eq!(schedule.to_input(), expected);

        let mut disabled = cron(" 0  19 * * 1-5", "UTC");
        disabled.enabled = false;
        let row = disabled.to_input();
        assert_eq!(
            (row.kind.as_str(), row.cron.as_str(), row.enabled),
            ("cron", "0 19 * * 1-5", false)
        );
    }

    #[test]
    fn to_arm_writes_what_azure_expects() {
        assert_eq!(
            daily("18:00", "W. Europe Standard Time").to_arm(),
            json!({
                "status": "Enabled",
                "action": "Stop",
                "triggerType": "Recurrence",
                "recurrence": {
                    "frequency": "Day",
                    "interval": 1,
                    "timeZone": "W. Europe Standard Time",
                    "schedule": { "hours": [18], "minutes": [0] },
                },
            })
        );
        let weekly = Schedule::from_input(&input(
            "Start",
            "weekly",
            "08:30",
            &["Tuesday", "Monday"],
            "",
            "UTC",
        ))
        .unwrap();
        assert_eq!(
            weekly.to_arm()["recurrence"]["schedule"],
            json!({ "hours": [8], "minutes": [30], "weekDays": ["Monday", "Tuesday"] })
        );
        let mut stop = cron("0 18 * * *", "Pacific Standard Time");
        stop.enabled = false;
        assert_eq!(
            stop.to_arm(),
            json!({
                "status": "Disabled",
                "action": "Stop",
                "triggerType": "Cron",
                "cron": { "expression": "0 18 * * *", "timeZone": "Pacific Standard Time" },
            })
        );
    }

    #[test]
    fn azures_documented_examples_parse() {
        let stop = Schedule::from_arm(&json!({
            "status": "Enabled", "action": "Stop", "triggerType": "Cron",
            "cron": { "expression": "0 18 * * *", "startTime": "2021-04-23T01:30:00",
                      "timeZone": "Pacific Standard Time" }
        }))
        .unwrap();
        assert_eq!(stop.action, ScheduleAction::Stop);
        assert!(stop.enabled);
        assert_eq!(
            stop.trigger,
            Trigger::Cron {
                expression: "0 18 * * *".to_string()
            }
        );
        assert_eq!(stop.time_zone.iana, "America/Los_Angeles");

        let start = Schedule::from_arm(&json!({
            "status": "Enabled", "action": "Start", "triggerType": "Recurrence",
            "recurrence": { "frequency": "Week", "interval": 1, "timeZone": "UTC",
                            "schedule": { "hours": [8], "minutes": [30], "weekDays": ["Monday", "Tuesday"] } }
        }))
        .unwrap();
        assert_eq!(
            start,
            Schedule {
                action: ScheduleAction::Start,
                enabled: true,
                trigger: Trigger::Recurrence {
                    recurrence: Recurrence::Weekly(vec![Weekday::Mon, Weekday::Tue]),
                    hour: 8,
                    minute: 30
                },
                time_zone: find_time_zone("UTC").unwrap(),
            }
        );
    }

    #[test]
    fn from_arm_is_lenient_on_case_and_defaults_and_ignores_read_only_fields() {
        let schedule = Schedule::from_arm(&json!({
            "id": "abc", "provisioningStatus": "Completed",
            "action": "stop", "triggerType": "CRON", "cron": { "expression": "0 18 * * *" }
        }))
        .unwrap();
        assert!(schedule.enabled, "a missing status means Enabled");
        assert_eq!(
            schedule.time_zone.windows, "UTC",
            "a missing time zone means UTC"
        );
        let disabled = Schedule::from_arm(&json!({
            "status": "DISABLED", "action": "Start", "triggerType": "recurrence",
            "recurrence": { "frequency": "day", "interval": 1, "timeZone": "tokyo standard time",
                            "schedule": { "hours": [7], "minutes": [0], "weekDays": null, "monthDays": null } }
        }))
        .unwrap();
        assert!(!disabled.enabled);
        assert_eq!(
            disabled.describe(),
            "Start every day at 07:00 (Tokyo Standard Time) (disabled)"
        );
    }

    #[test]
    fn from_arm_turns_other_recurrences_into_cron_when_it_can() {
        let read = |recurrence: Value| {
            Schedule::from_arm(
                &json!({ "action": "Stop", "triggerType": "Recurrence", "recurrence": recurrence }),
            )
        };
        let expression = |recurrence: Value| match read(recurrence).unwrap().trigger {
            Trigger::Cron { expression } => expression,
            other => panic!("expected cron, got {other:?}"),
        };
        assert_eq!(
            expression(
                json!({ "frequency": "Day", "interval": 1, "schedule": { "hours": [8, 12], "minutes": [0] } })
            ),
            "0 8,12 * * *"
        );
        assert_eq!(
            expression(json!({ "frequency": "Week", "interval": 1,
                               "schedule": { "hours": [9], "minutes": [0, 30], "weekDays": ["Sunday", "friday"] } })),
            "0,30 9 * * 5,0"
        );
        assert_eq!(
            expression(json!({ "frequency": "Hour", "interval": 2 })),
            "0 */2 * * *"
        );
        assert_eq!(
            expression(
                json!({ "frequency": "Hour", "interval": 6, "startTime": "2024-01-01T03:20:00",
                               "schedule": { "hours": [], "minutes": [] } })
            ),
            "20 3-23/6 * * *"
        );
        assert_eq!(
            expression(json!({ "frequency": "Minute", "interval": 1 })),
            "* * * * *"
        );
        assert_eq!(
            expression(
                json!({ "frequency": "Minute", "interval": 15, "startTime": "2024-01-01T00:05:00" })
            ),
            "5-59/15 * * * *"
        );
        assert_eq!(
            expression(json!({ "frequency": "Minute", "interval": 120 })),
            "0 */2 * * *"
        );
        assert_eq!(
            expression(
                json!({ "frequency": "Month", "interval": 3, "startTime": "2024-02-01T00:00:00",
                               "schedule": { "hours": [6], "minutes": [0], "monthDays": [1, 15] } })
            ),
            "0 6 1,15 2-12/3 *"
        );

        for (recurrence, words) in [
            (
                json!({ "frequency": "Day", "interval": 3, "schedule": { "hours": [8], "minutes": [0] } }),
                "every 3 days",
            ),
            (
                json!({ "frequency": "Week", "interval": 2, "schedule": { "hours": [8], "minutes": [0] } }),
                "every 2 weeks",
            ),
            (
                json!({ "frequency": "Hour", "interval": 5 }),
                "every 5 hours",
            ),
            (
                json!({ "frequency": "Minute", "interval": 7 }),
                "every 7 minutes",
            ),
            (
                json!({ "frequency": "Month", "interval": 5, "schedule": { "hours": [8], "minutes": [0], "monthDays": [1] } }),
                "every 5 months",
            ),
        ] {
            let error = read(recurrence).unwrap_err();
            assert!(error.starts_with("recurrence.interval "), "{error}");
            assert!(
                error.contains(words) && error.contains("cannot be written as a cron expression"),
                "{error}"
            );
        }
        let error = read(json!({ "frequency": "Week", "interval": 1, "schedule": { "hours": [8], "minutes": [0] } }))
            .unwrap_err();
        assert!(
            error.starts_with("recurrence.schedule.weekDays must list at least one day"),
            "{error}"
        );
        let error = read(json!({ "frequency": "Day", "interval": 0 })).unwrap_err();
        assert_eq!(
            error,
            "recurrence.interval must be a whole number of at least 1"
        );
        let error = read(json!({ "frequency": "Day", "interval": 1, "schedule": { "hours": [24], "minutes": [0] } }))
            .unwrap_err();
        assert_eq!(
            error,
            "recurrence.schedule.hours contains 24; each must be a number from 0 to 23"
        );
    }

    #[test]
    fn from_arm_names_what_is_wrong() {
        let error = |value: Value| Schedule::from_arm(&value).unwrap_err();
        assert_eq!(
            error(json!({ "action": "Stop", "triggerType": "Cron",
                          "cron": { "expression": "0 18 * * *", "timeZone": "Mars Standard Time" } })),
            "cron.timeZone 'Mars Standard Time' is not a time zone Compute Studio knows; \
             use a Windows time zone name such as 'W. Europe Standard Time'"
        );
        assert_eq!(
            error(json!({ "triggerType": "Cron", "cron": { "expression": "0 18 * * *" } })),
            "action is required (Start or Stop)"
        );
        assert_eq!(
            error(json!({ "action": "Pause", "triggerType": "Cron" })),
            "action 'Pause' is not Start or Stop"
        );
        assert_eq!(
            error(json!({ "action": "Stop" })),
            "triggerType is required (Recurrence or Cron)"
        );
        assert_eq!(
            error(json!({ "action": "Stop", "triggerType": "Cron" })),
            "cron is required"
        );
        assert_eq!(error(json!([])), "the schedule must be an object");
        assert_eq!(
            error(json!({ "action": "Stop", "triggerType": "Cron",
                          "cron": { "expression": "0 18 * * *", "startTime": "tomorrow" } })),
            "cron.startTime 'tomorrow' must be a date and time like 2021-04-23T01:30:00"
        );
    }

    // --- next runs ----------------------------------------------------------

    #[test]
    fn daily_runs_stay_at_local_time_across_the_spring_dst_change() {
        // Berlin moves its clocks forward on Sunday 29 March 2026.
        let runs = daily("18:00", "W. Europe Standard Time").next_runs(utc(2026, 3, 27, 12, 0), 4);
        assert_eq!(
            local(&runs),
            [
                "2026-03-27 18:00 +01:00",
                "2026-03-28 18:00 +01:00",
                "2026-03-29 18:00 +02:00",
                "2026-03-30 18:00 +02:00"
            ]
        );
        assert_eq!(
            in_utc(&runs),
            [
                "2026-03-27 17:00",
                "2026-03-28 17:00",
                "2026-03-29 16:00",
                "2026-03-30 16:00"
            ]
        );
    }

    #[test]
    fn weekly_runs_fall_on_the_chosen_days() {
        let schedule = Schedule::from_input(&input(
            "Start",
            "weekly",
            "08:30",
            &["Monday", "Tuesday"],
            "",
            "UTC",
        ))
        .unwrap();
        // Wednesday 25 March 2026, after the run time.
        let runs = schedule.next_runs(utc(2026, 3, 25, 9, 0), 3);
        assert_eq!(
            in_utc(&runs),
            ["2026-03-30 08:30", "2026-03-31 08:30", "2026-04-06 08:30"]
        );
        // A run exactly at `after` is not "next".
        let runs = schedule.next_runs(utc(2026, 3, 30, 8, 30), 1);
        assert_eq!(in_utc(&runs), ["2026-03-31 08:30"]);
    }

    #[test]
    fn cron_on_weekdays_from_a_saturday_starts_on_monday() {
        // Saturday 28 March 2026.
        let runs = cron("0 19 * * 1-5", "UTC").next_runs(utc(2026, 3, 28, 10, 0), 3);
        assert_eq!(
            in_utc(&runs),
            ["2026-03-30 19:00", "2026-03-31 19:00", "2026-04-01 19:00"]
        );
        let weekdays: Vec<Weekday> = runs.iter().map(|run| run.weekday()).collect();
        assert_eq!(weekdays, [Weekday::Mon, Weekday::Tue, Weekday::Wed]);
    }

    #[test]
    fn a_day_must_match_both_day_fields_as_in_ncrontab() {
        // NCronTab reads this as "the first Monday of the month", not as
        // "days 1-7 and every Monday" like classic Unix cron.
        let runs = cron("0 9 1-7 * 1", "UTC").next_runs(utc(2026, 1, 1, 0, 0), 3);
        assert_eq!(
            in_utc(&runs),
            ["2026-01-05 09:00", "2026-02-02 09:00", "2026-03-02 09:00"]
        );
    }

    #[test]
    fn cron_runs_use_the_schedules_zone() {
        let runs = cron("0 18 * * *", "Pacific Standard Time").next_runs(utc(2026, 7, 1, 0, 0), 2);
        // Midnight UTC on 1 July is still 30 June, 17:00, in Los Angeles.
        assert_eq!(
            local(&runs),
            ["2026-06-30 18:00 -07:00", "2026-07-01 18:00 -07:00"]
        );
    }

    #[test]
    fn a_run_in_the_spring_forward_gap_happens_right_after_the_gap() {
        // On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00, so 02:30
        // does not exist that day: the run happens at 03:00 instead, and at
        // 02:30 again from the next day on. Nothing panics, no day is skipped.
        let runs = daily("02:30", "W. Europe Standard Time").next_runs(utc(2026, 3, 27, 12, 0), 4);
        assert_eq!(
            local(&runs),
            [
                "2026-03-28 02:30 +01:00",
                "2026-03-29 03:00 +02:00",
                "2026-03-30 02:30 +02:00",
                "2026-03-31 02:30 +02:00"
            ]
        );
        // Asking from inside the gap's day works too.
        let runs = daily("02:30", "W. Europe Standard Time").next_runs(utc(2026, 3, 29, 0, 59), 1);
        assert_eq!(local(&runs), ["2026-03-29 03:00 +02:00"]);
    }

    #[test]
    fn a_run_in_the_fall_back_overlap_happens_once() {
        // On 25 October 2026 Berlin's clocks go from 03:00 back to 02:00, so
        // 02:30 happens twice; the schedule runs at the first one only.
        let runs = daily("02:30", "W. Europe Standard Time").next_runs(utc(2026, 10, 24, 12, 0), 3);
        assert_eq!(
            local(&runs),
            [
                "2026-10-25 02:30 +02:00",
                "2026-10-26 02:30 +01:00",
                "2026-10-27 02:30 +01:00"
            ]
        );
    }

    #[test]
    fn next_runs_is_bounded_and_safe_on_hand_made_schedules() {
        assert_eq!(
            cron("* * * * *", "UTC")
                .next_runs(utc(2026, 1, 1, 0, 0), usize::MAX)
                .len(),
            1000
        );
        assert!(
            cron("* * * * *", "UTC")
                .next_runs(utc(2026, 1, 1, 0, 0), 0)
                .is_empty()
        );
        let broken = Schedule {
            action: ScheduleAction::Stop,
            enabled: true,
            trigger: Trigger::Recurrence {
                recurrence: Recurrence::Weekly(vec![]),
                hour: 25,
                minute: 0,
            },
            time_zone: utc_zone(),
        };
        assert!(broken.next_runs(utc(2026, 1, 1, 0, 0), 3).is_empty());
        assert_eq!(broken.describe(), "Stop on no day at 25:00 (UTC)");
        let bad_cron = Schedule {
            trigger: Trigger::Cron {
                expression: "nonsense".to_string(),
            },
            ..broken
        };
        assert!(bad_cron.next_runs(utc(2026, 1, 1, 0, 0), 3).is_empty());
        assert_eq!(
            bad_cron.describe(),
            "Stop at cron 'nonsense' (UTC): not a valid cron expression"
        );
    }

    // --- descriptions -------------------------------------------------------

    #[test]
    fn descriptions_read_as_sentences() {
        assert_eq!(
            daily("18:00", "W. Europe Standard Time").describe(),
            "Stop every day at 18:00 (W. Europe Standard Time)"
        );
        let weekly = Schedule::from_input(&input(
            "Start",
            "weekly",
            "08:30",
            &["Tuesday", "Monday"],
            "",
            "UTC",
        ))
        .unwrap();
        assert_eq!(weekly.describe(), "Start on Monday, Tuesday at 08:30 (UTC)");
        assert_eq!(
            cron("0 19 * * 1-5", "UTC").describe(),
            "Stop at cron '0 19 * * 1-5' (UTC): at 19:00, on Monday, Tuesday, Wednesday, Thursday, and Friday"
        );
    }

    // --- form errors --------------------------------------------------------

    #[test]
    fn bad_times_are_refused_with_the_time_field() {
        for time in [
            "25:00",
            "7pm",
            "",
            "12:60",
            "12:5",
            "123:00",
            "-1:00",
            "12:00:00",
            "１２:００",
        ] {
            let errors = errors_of(&input("Stop", "daily", time, &[], "", "UTC"));
            assert_eq!(
                errors,
                [(
                    "time",
                    "Time must be HH:MM in 24-hour form, such as 18:00.".to_string()
                )],
                "{time}"
            );
        }
        for time in ["0:00", "00:00", "9:05", "23:59"] {
            assert!(
                Schedule::from_input(&input("Stop", "daily", time, &[], "", "UTC")).is_ok(),
                "{time}"
            );
        }
    }

    #[test]
    fn weekly_needs_known_days() {
        let errors = errors_of(&input("Stop", "weekly", "18:00", &[], "", "UTC"));
        assert_eq!(
            errors,
            [(
                "weekdays",
                "Pick at least one day of the week for a weekly schedule.".to_string()
            )]
        );
        let errors = errors_of(&input(
            "Stop",
            "weekly",
            "18:00",
            &["Monday", "Funday"],
            "",
            "UTC",
        ));
        assert_eq!(
            errors,
            [("weekdays", "'Funday' is not a day of the week.".to_string())]
        );
    }

    #[test]
    fn bad_cron_expressions_are_refused_with_the_reason() {
        let cron_error = |expression: &str| {
            let errors = errors_of(&input("Stop", "cron", "", &[], expression, "UTC"));
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].0, "cron");
            errors[0].1.clone()
        };
        assert_eq!(
            cron_error("0 0 18 * * *"),
            "'0 0 18 * * *' is not a valid cron expression: Azure uses 5 fields \
             (minute hour day-of-month month day-of-week), so leave out the seconds field."
        );
        assert_eq!(
            cron_error("61 * * * *"),
            "'61 * * * *' is not a valid cron expression: minute must be 0–59."
        );
        assert_eq!(
            cron_error("* * *"),
            "'* * *' is not a valid cron expression: it needs exactly 5 fields \
             (minute hour day-of-month month day-of-week), not 3."
        );
        assert_eq!(
            cron_error(""),
            "Enter a cron expression, such as 0 19 * * 1-5 (19:00 on weekdays)."
        );
        assert_eq!(
            cron_error("   "),
            "Enter a cron expression, such as 0 19 * * 1-5 (19:00 on weekdays)."
        );

        for (expression, reason) in [
            ("0 24 * * *", "hour must be 0–23"),
            ("0 0 0 * *", "day of month must be 1–31"),
            ("0 0 * 13 *", "month must be 1–12 or JAN–DEC"),
            (
                "0 0 * * 7",
                "day of week must be 0–6 (Sunday is 0) or SUN–SAT",
            ),
            (
                "0 0 * * 99999999999",
                "day of week must be 0–6 (Sunday is 0) or SUN–SAT",
            ),
            ("0 0 30 2 *", "it never runs"),
            (
                "0 0 L * *",
                "the day of month field does not understand 'L'",
            ),
            (
                "0 0 * * 5#2",
                "the day of week field does not understand '5#2'",
            ),
            (
                "0 0 ? * *",
                "the day of month field does not understand '?'",
            ),
            ("5-1 * * * *", "the minute range 5-1 runs backwards"),
            ("*/0 * * * *", "the minute step must be between 1 and 59"),
            (
                "1,,2 * * * *",
                "the minute field has an empty item in its list",
            ),
            (
                "1- * * * *",
                "the minute field has a range or step with a missing value",
            ),
            ("@daily", "it needs exactly 5 fields"),
            (
                "0 0 * * mo",
                "the day of week field does not understand 'mo'",
            ),
            ("0 0 * MON * ", "the month field does not understand 'MON'"),
        ] {
            let message = cron_error(expression);
            assert!(message.contains(reason), "{expression}: {message}");
        }
        let message = cron_error(&format!("0 0 * * {}", "1,".repeat(60)));
        assert!(
            message.contains("longer than 100 characters") && message.contains("…'"),
            "{message}"
        );
    }

    #[test]
    fn ncrontab_forms_are_accepted() {
        for expression in [
            "0 8 * * MON-FRI",
            "0 8 * * monday,Friday",
            "0 8 1 jan,Jul *",
            "5/15 * * * *",
            "0-30/10 9-17 * * 1-5",
            "0 0 29 2 *",
            "0 0 31 * 0",
        ] {
            let schedule = cron(expression, "UTC");
            assert!(
                !schedule.next_runs(utc(2026, 1, 1, 0, 0), 1).is_empty(),
                "{expression}"
            );
        }
        // NCronTab reads "5/15" as "from minute 5, every 15 minutes".
        let runs = cron("5/15 * * * *", "UTC").next_runs(utc(2026, 1, 1, 0, 0), 4);
        assert_eq!(
            in_utc(&runs),
            [
                "2026-01-01 00:05",
                "2026-01-01 00:20",
                "2026-01-01 00:35",
                "2026-01-01 00:50"
            ]
        );
    }

    #[test]
    fn other_bad_fields_are_named() {
        assert_eq!(
            errors_of(&input("Stop", "daily", "18:00", &[], "", "Mars Standard Time")),
            [(
                "time_zone",
                "'Mars Standard Time' is not a time zone Compute Studio knows; choose one from the list.".to_string()
            )]
        );
        assert_eq!(
            errors_of(&input("Pause", "daily", "18:00", &[], "", "UTC")),
            [(
                "action",
                "The action must be Start or Stop, not 'Pause'.".to_string()
            )]
        );
        assert_eq!(
            errors_of(&input("Stop", "hourly", "18:00", &[], "", "UTC")),
            [(
                "kind",
                "'hourly' is not a kind of schedule; choose daily, weekly or cron.".to_string()
            )]
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported_at_once() {
        let errors = errors_of(&input(
            "Pause",
            "weekly",
            "25:00",
            &[],
            "",
            "Mars Standard Time",
        ));
        let fields: Vec<&str> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["action", "time_zone", "time", "weekdays"]);
        let errors = errors_of(&ScheduleInput::default());
        let fields: Vec<&str> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["action", "time_zone", "kind"]);
    }

    // --- whole PUT bodies ---------------------------------------------------

    #[test]
    fn validate_arm_schedules_names_the_index_of_the_problem() {
        let good = json!({ "action": "Stop", "triggerType": "Cron", "cron": { "expression": "0 18 * * *" } });
        let bad = json!({ "action": "Stop", "triggerType": "Cron", "cron": { "expression": "61 * * * *" } });
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": [good, bad] })).unwrap_err(),
            "schedules.computeStartStop[1].cron.expression '61 * * * *' is not a valid cron expression: \
             minute must be 0–59"
        );
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": [good, good, 7] })).unwrap_err(),
            "schedules.computeStartStop[2] must be an object"
        );
        let schedules =
            validate_arm_schedules(&json!({ "computeStartStop": [good, good] })).unwrap();
        assert_eq!(schedules.len(), 2);
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": [] })).unwrap(),
            []
        );
        assert_eq!(validate_arm_schedules(&json!({})).unwrap(), []);
        assert_eq!(validate_arm_schedules(&Value::Null).unwrap(), []);
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": {} })).unwrap_err(),
            "schedules.computeStartStop must be a list"
        );
        assert_eq!(
            validate_arm_schedules(&json!("x")).unwrap_err(),
            "schedules must be an object with a computeStartStop list"
        );
    }

    #[test]
    fn more_than_twenty_schedules_are_refused() {
        let one = daily("18:00", "UTC").to_arm();
        let twenty = vec![one.clone(); MAX_SCHEDULES];
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": twenty }))
                .unwrap()
                .len(),
            20
        );
        let twenty_one = vec![one; MAX_SCHEDULES + 1];
        assert_eq!(
            validate_arm_schedules(&json!({ "computeStartStop": twenty_one })).unwrap_err(),
            "schedules.computeStartStop has 21 schedules; a compute instance can have at most 20"
        );
    }

    // --- nothing panics -----------------------------------------------------

    /// A tiny deterministic random number generator (xorshift64), so the
    /// fuzz tests need no extra crate and fail the same way every time.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }

        fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
            choices[self.below(choices.len())]
        }

        /// Text made of pieces that matter to the parsers, plus odd characters.
        fn text(&mut self) -> String {
            const PIECES: &[&str] = &[
                "0", "1", "5", "7", "9", "12", "23", "24", "31", "59", "60", "99999", "*", "/",
                "-", ",", " ", ":", "?", "L", "W", "#", "@", "mon", "JAN", "Monday", "sun", "\t",
                "\n", "é", "１", "😀", "\u{0}", "\u{200b}", "ß", "İ", "'", "\"", ".",
            ];
            let length = self.below(12);
            (0..length).map(|_| self.pick(PIECES)).collect()
        }

        /// Cron-shaped text: a few fields of cron pieces.
        fn cron(&mut self) -> String {
            const PIECES: &[&str] = &[
                "*", "*/5", "0", "1-5", "5/15", "30", "2", "MON", "jan-mar", "7", "L", "?", "0,30",
            ];
            let fields = 3 + self.below(5);
            (0..fields)
                .map(|_| self.pick(PIECES))
                .collect::<Vec<_>>()
                .join(" ")
        }

        /// A JSON value of the rough shape of a schedule, often slightly wrong.
        fn json(&mut self, depth: u32) -> Value {
            const KEYS: &[&str] = &[
                "action",
                "status",
                "triggerType",
                "cron",
                "recurrence",
                "expression",
                "timeZone",
                "startTime",
                "frequency",
                "interval",
                "schedule",
                "hours",
                "minutes",
                "weekDays",
                "monthDays",
                "computeStartStop",
            ];
            const WORDS: &[&str] = &[
                "Start",
                "stop",
                "Enabled",
                "Disabled",
                "Cron",
                "Recurrence",
                "Minute",
                "Hour",
                "Day",
                "Week",
                "Month",
                "UTC",
                "W. Europe Standard Time",
                "Mars",
                "Monday",
                "2021-04-23T01:30:00",
                "",
            ];
            match (self.below(9), depth) {
                (0, _) => Value::Null,
                (1, _) => Value::Bool(self.below(2) == 0),
                (2, _) => json!(self.next() as i64 % 200 - 20),
                (3, _) => json!(self.pick(WORDS)),
                (4, _) => json!(self.cron()),
                (5, _) => json!(self.text()),
                (6, 0..4) => {
                    Value::Array((0..self.below(5)).map(|_| self.json(depth + 1)).collect())
                }
                (_, 0..4) => Value::Object(
                    (0..self.below(7))
                        .map(|_| (self.pick(KEYS).to_string(), self.json(depth + 1)))
                        .collect(),
                ),
                _ => json!(1.5),
            }
        }
    }

    #[test]
    fn random_form_rows_never_panic() {
        let mut random = XorShift(0x2545_f491_4f6c_dd1d);
        let mut accepted = 0;
        for _ in 0..4000 {
            // Half of the values are plausible, so that valid rows are reached too.
            let plausible = |random: &mut XorShift, choices: &[&str]| {
                if random.below(2) == 0 {
                    random.pick(choices).to_string()
                } else {
                    random.text()
                }
            };
            let weekdays = (0..random.below(4))
                .map(|_| plausible(&mut random, &["Monday", "sun", "FRIDAY"]))
                .collect();
            let row = ScheduleInput {
                action: random.pick(&["Start", "stop", "", "Pause"]).to_string(),
                enabled: random.below(2) == 0,
                kind: random
                    .pick(&["daily", "weekly", "cron", "Cron", "", "x"])
                    .to_string(),
                time: plausible(&mut random, &["18:00", "8:30", "23:59", "0:00"]),
                weekdays,
                cron: if random.below(2) == 0 {
                    random.cron()
                } else {
                    random.text()
                },
                time_zone: random
                    .pick(&["UTC", "Tokyo Standard Time", "Mars", ""])
                    .to_string(),
            };
            match Schedule::from_input(&row) {
                Ok(schedule) => {
                    accepted += 1;
                    // Whatever is accepted must also work everywhere else.
                    assert!(
                        !schedule.next_runs(utc(2026, 3, 28, 0, 0), 2).is_empty(),
                        "{row:?}"
                    );
                    assert!(!schedule.describe().is_empty());
                    assert_eq!(Schedule::from_arm(&schedule.to_arm()).unwrap(), schedule);
                }
                Err(errors) => assert!(!errors.is_empty()),
            }
        }
        assert!(
            accepted > 50,
            "the fuzzer should reach valid rows too, got {accepted}"
        );
    }

    #[test]
    fn random_put_bodies_never_panic() {
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..4000 {
            let body = if random.below(2) == 0 {
                json!({ "computeStartStop": [random.json(1), random.json(1)] })
            } else {
                random.json(0)
            };
            if let Ok(schedules) = validate_arm_schedules(&body) {
                for schedule in schedules {
                    let _ = schedule.next_runs(utc(2026, 3, 28, 0, 0), 2);
                    let _ = schedule.describe();
                }
            }
            let _ = Schedule::from_arm(&body);
        }
    }
}
