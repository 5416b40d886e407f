//! The UTC timestamps of the Alibaba Cloud wire: `YYYY-MM-DDTHH:MM:SSZ`, and on input also
//! `YYYY-MM-DDTHH:MM:SS.mmmZ` (spec §1.4: some services send milliseconds; every official SDK accepts the
//! first form, only some the second, so we accept both and emit only the first).
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use mse_auth::timestamp::{format_utc, parse_utc};
//!
//! let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! assert_eq!(format_utc(t), "2023-11-14T22:13:20Z");
//! assert_eq!(parse_utc("2023-11-14T22:13:20Z"), Ok(t));
//! assert_eq!(parse_utc("2023-11-14T22:13:20.250Z"), Ok(t + Duration::from_millis(250)));
//! assert!(parse_utc("2023-11-14 22:13:20").is_err());
//! ```

use std::fmt;
use std::time::SystemTime;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A timestamp that is in neither accepted form. Shows the offending text (timestamps are not secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError {
    text: String,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a UTC timestamp of the form YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.mmmZ",
            self.text.chars().take(64).collect::<String>()
        )
    }
}

impl std::error::Error for TimestampError {}

/// Formats `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds, truncated).
pub fn format_utc(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(SECONDS)
        .unwrap_or_else(|_| String::from("<unrepresentable time>"))
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ` as UTC.
pub fn parse_utc(text: &str) -> Result<SystemTime, TimestampError> {
    let format = match text.len() {
        20 => SECONDS,
        24 => MILLIS,
        _ => return Err(TimestampError { text: text.into() }),
    };
    PrimitiveDateTime::parse(text, format)
        .map(|t| t.assume_utc().into())
        .map_err(|_| TimestampError { text: text.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_whole_seconds_and_truncates_fractions() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_428_580_339_999);
        assert_eq!(format_utc(t), "2015-04-09T11:52:19Z");
        assert_eq!(
            parse_utc("2015-04-09T11:52:19Z").unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_428_580_339)
        );
    }

    #[test]
    fn rejects_other_shapes_with_a_message_naming_the_text() {
        for bad in [
            "",
            "2015-04-09T11:52:19",
            "2015-04-09T11:52:19+08:00",
            "2015-04-09T11:52:19.1Z",
            "2015-13-09T11:52:19Z",
            "2015-04-09T11:52:19.abcZ",
        ] {
            let err = parse_utc(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }
}
