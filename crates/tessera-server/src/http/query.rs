//! Query-string values several routes share: `since` (a time, or a span back
//! from now) and the cursors of paged lists (`<created_at ms>.<id>`); and
//! the errors a query string answers, each naming the parameter and saying
//! what was wrong with it, in zh-CN and en.

use chrono::{DateTime, Duration, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::text::mask_card_numbers;

fn invalid(param: &'static str) -> DomainError {
    bad_value(param)
}

/// A parameter's name as the caller sent it, fit to be shown back: card
/// numbers masked, and cut short.
fn shown(name: &str) -> String {
    mask_card_numbers(name).chars().take(64).collect()
}

/// `invalid_request` naming `param`, whose value was not understood, with
/// what the parameter takes where that is known.
pub fn bad_value(param: &str) -> DomainError {
    let param = shown(param);
    let (zh, en) = match param.as_str() {
        "since" => (
            "since 的值无法识别：请用 RFC 3339 时间或 30m、1h、7d 这样的时长".to_owned(),
            "since was not understood: use an RFC 3339 time or a span such as 30m, 1h or 7d"
                .to_owned(),
        ),
        "cursor" => (
            "cursor 的值无法识别：请原样传回上一页的 next_cursor".to_owned(),
            "cursor was not understood: send back a previous page's next_cursor as it was"
                .to_owned(),
        ),
        "limit" => (
            "limit 的值无法识别：请用一个正整数，例如 50".to_owned(),
            "limit was not understood: use a whole number above zero, such as 50".to_owned(),
        ),
        "from" | "to" => (
            format!("{param} 的值无法识别：请用 2026-05-01 这样的日期"),
            format!("{param} was not understood: use a date such as 2026-05-01"),
        ),
        _ => (
            format!("{param} 的值无法识别"),
            format!("{param} was not understood"),
        ),
    };
    DomainError::new(ErrorCode::InvalidRequest)
        .with_param(param)
        .with_detail(zh, en)
}

/// A page's size: `default` when none is asked; one outside 1..=`max` is
/// refused rather than quietly changed, so a caller never mistakes a
/// shortened page for the end of the list.
pub fn page_limit(asked: Option<u32>, default: u32, max: u32) -> Result<u32, DomainError> {
    match asked {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(bad_limit(max)),
    }
}

/// `invalid_request` naming `limit`, which is not a number from 1 to `max`.
pub fn bad_limit(max: u32) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest)
        .with_param("limit")
        .with_detail(
            format!("limit 的值无法识别：请用 1 到 {max} 之间的整数"),
            format!("limit was not understood: use a whole number from 1 to {max}"),
        )
}

/// `invalid_request` naming `param`, whose value is none of `choices`.
pub fn bad_choice(param: &'static str, choices: &[&str]) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest)
        .with_param(param)
        .with_detail(
            format!("{param} 的值无法识别：可选 {}", choices.join("、")),
            format!(
                "{param} was not understood: use one of {}",
                choices.join(", ")
            ),
        )
}

/// `invalid_request` naming `param`, which the route does not take, with
/// the ones it does.
pub fn unknown_param(param: &str, known: &[&str]) -> DomainError {
    let param = shown(param);
    let (zh, en) = if known.is_empty() {
        (
            format!("这个接口不接受参数 {param}，它不带任何查询参数"),
            format!("This route takes no parameter {param}: it takes no query parameters"),
        )
    } else {
        (
            format!(
                "这个接口不接受参数 {param}，可用的参数有：{}",
                known.join("、")
            ),
            format!(
                "This route takes no parameter {param}: it takes {}",
                known.join(", ")
            ),
        )
    };
    DomainError::new(ErrorCode::InvalidRequest)
        .with_param(param)
        .with_detail(zh, en)
}

/// `invalid_request` naming `param`, given more than once.
pub fn repeated(param: &str) -> DomainError {
    let param = shown(param);
    DomainError::new(ErrorCode::InvalidRequest)
        .with_detail(
            format!("参数 {param} 只能给一次"),
            format!("{param} may be given only once"),
        )
        .with_param(param)
}

/// `invalid_request` naming `param`, which the route needs.
pub fn missing(param: &str, what: (&str, &str)) -> DomainError {
    let param = shown(param);
    DomainError::new(ErrorCode::InvalidRequest)
        .with_detail(
            format!("缺少参数 {param}：{}", what.0),
            format!("{param} is missing: {}", what.1),
        )
        .with_param(param)
}

/// Parses `since`: an RFC 3339 time or a duration back from `now`: `30s`,
/// `30m` (or `30min`), `1h`, `7d`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let span = match unit {
        "s" => Duration::try_seconds(number)?,
        "m" | "min" => Duration::try_minutes(number)?,
        "h" => Duration::try_hours(number)?,
        "d" => Duration::try_days(number)?,
        _ => return None,
    };
    now.checked_sub_signed(span)
}

/// The `since` sent, if any; `invalid_request` naming it when it does not
/// parse.
pub fn since(text: Option<&str>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DomainError> {
    text.map(|text| parse_since(text, now).ok_or_else(|| invalid("since")))
        .transpose()
}

/// The `since` sent, or `default` back from now.
pub fn since_or(
    text: Option<&str>,
    now: DateTime<Utc>,
    default: Duration,
) -> Result<DateTime<Utc>, DomainError> {
    Ok(since(text, now)?.unwrap_or(now - default))
}

/// A previous page's `next_cursor`: where the next page starts.
pub fn cursor(text: Option<&str>) -> Result<Option<(DateTime<Utc>, String)>, DomainError> {
    text.map(|cursor| {
        cursor
            .split_once('.')
            .and_then(|(at, id)| {
                let at = DateTime::from_timestamp_millis(at.parse::<i64>().ok()?)?;
                Some((at, id.to_owned()))
            })
            .ok_or_else(|| invalid("cursor"))
    })
    .transpose()
}

/// The cursor of the page after `items`: only a full page (`limit` items)
/// may have one, made of the last item's time and id.
pub fn next_cursor<T>(
    items: &[T],
    limit: u32,
    key: impl Fn(&T) -> (DateTime<Utc>, &str),
) -> Option<String> {
    if items.len() != usize::try_from(limit).unwrap_or(usize::MAX) {
        return None;
    }
    items.last().map(|item| {
        let (at, id) = key(item);
        format!("{}.{id}", at.timestamp_millis())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::error::Lang;
    use tessera_store::test_support::at;

    #[test]
    fn since_reads_times_and_spans_and_cursors_round_trip() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for (text, back) in [
            ("30s", Duration::seconds(30)),
            ("30m", Duration::minutes(30)),
            ("30min", Duration::minutes(30)),
            ("1h", Duration::hours(1)),
            ("7d", Duration::days(7)),
        ] {
            assert_eq!(parse_since(text, now), Some(now - back), "{text}");
        }
        assert_eq!(
            parse_since("2026-04-30T00:00:00+08:00", now).map(|t| t.to_rfc3339()),
            Some("2026-04-29T16:00:00+00:00".to_owned())
        );
        assert_eq!(parse_since("7w", now), None);
        let error = since(Some("soon"), now).unwrap_err();
        assert!(error.message(Lang::ZhCn).starts_with("since 的值无法识别"));
        assert_eq!(error.param.map(|p| p.to_string()).as_deref(), Some("since"));
        assert_eq!(
            since_or(None, now, Duration::days(7)).unwrap(),
            now - Duration::days(7)
        );

        let items = [(1, "a"), (2, "b")];
        let next = next_cursor(&items, 2, |(ms, id)| (at(*ms), *id)).unwrap();
        assert_eq!(next, "2.b");
        assert_eq!(cursor(Some(&next)).unwrap(), Some((at(2), "b".to_owned())));
        assert_eq!(next_cursor(&items, 3, |(ms, id)| (at(*ms), *id)), None);
        let error = cursor(Some("b.2")).unwrap_err();
        assert!(error.message(Lang::En).contains("next_cursor"), "{error}");
        assert_eq!(cursor(None).unwrap(), None);
    }
}
