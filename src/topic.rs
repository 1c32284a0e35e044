//! Topic names and filters (MQTT 5.0 section 4.7, MQTT 3.1.1 section 4.7): validation and the
//! matching rule, exactly as the specification states them.

use core::fmt;

/// Why a topic name or filter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// Topic names and filters must be at least one character long (MQTT-4.7.3-1).
    Empty,
    /// Longer than the 65 535 bytes a UTF-8 string field can hold.
    TooLong,
    /// U+0000 is not allowed in a topic (MQTT-4.7.3-2).
    NullCharacter,
    /// `+` or `#` in a topic name (MQTT-3.3.2-2).
    WildcardInName,
    /// `#` not alone in the last level, or `+` not alone in its level (MQTT-4.7.1-1, -2).
    MisplacedWildcard,
    /// `$share/` without a share name, with `+`/`#`/`/` in the name, or without a filter
    /// (MQTT-4.8.2-1, -2).
    MalformedSharedSubscription,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicError::Empty => "topic is empty",
            TopicError::TooLong => "topic is longer than 65535 bytes",
            TopicError::NullCharacter => "topic contains U+0000",
            TopicError::WildcardInName => "topic name contains a wildcard (+ or #)",
            TopicError::MisplacedWildcard => {
                "topic filter has a wildcard that is not alone in its level or '#' not last"
            }
            TopicError::MalformedSharedSubscription => {
                "shared subscription must be $share/<name>/<filter> with a name free of + # /"
            }
        })
    }
}

impl std::error::Error for TopicError {}

fn check_common(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > u16::MAX as usize {
        return Err(TopicError::TooLong);
    }
    if topic.contains('\0') {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// A topic name a PUBLISH may carry: non-empty, no wildcards, no U+0000.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    check_common(topic)?;
    if topic.contains(['+', '#']) {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// A topic filter a SUBSCRIBE or UNSUBSCRIBE may carry, shared subscriptions included.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let filter = match split_shared(filter) {
        Some(Ok((_, inner))) => inner,
        Some(Err(e)) => return Err(e),
        None => filter,
    };
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        match level {
            "+" => {}
            "#" if is_last => {}
            _ if level.contains(['+', '#']) => return Err(TopicError::MisplacedWildcard),
            _ => {}
        }
    }
    Ok(())
}

const SHARE_PREFIX: &str = "$share/";

/// Splits `$share/<name>/<filter>` into its share name and filter. `None` when the filter is not
/// a shared subscription; an error when it starts like one but is malformed.
pub fn split_shared(filter: &str) -> Option<Result<(&str, &str), TopicError>> {
    let rest = filter.strip_prefix(SHARE_PREFIX)?;
    let parsed = match rest.split_once('/') {
        Some((name, inner))
            if !name.is_empty() && !inner.is_empty() && !name.contains(['+', '#']) =>
        {
            Ok((name, inner))
        }
        _ => Err(TopicError::MalformedSharedSubscription),
    };
    Some(parsed)
}

/// The part of a filter that topics are matched against: a shared subscription
/// `$share/name/a/+` matches as `a/+`.
pub fn matching_part(filter: &str) -> &str {
    match split_shared(filter) {
        Some(Ok((_, inner))) => inner,
        _ => filter,
    }
}

/// Whether `topic` (a valid topic name) matches `filter` (a valid topic filter).
///
/// `+` matches exactly one level, which may be empty; `#` matches the remaining levels including
/// none, so `a/#` matches `a` itself (MQTT-4.7.1-2); filters beginning with a wildcard do not
/// match topics beginning with `$` (MQTT-4.7.2-1). Shared subscriptions match by their filter part.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = matching_part(filter);
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_wildcards_or_nul_are_refused() {
        // MQTT-3.3.2-2: the topic name in a PUBLISH must not contain wildcard characters.
        assert_eq!(
            validate_topic_name("a/+/b"),
            Err(TopicError::WildcardInName)
        );
        assert_eq!(validate_topic_name("a/#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a+b"), Err(TopicError::WildcardInName));
        // MQTT-4.7.3-1, MQTT-4.7.3-2
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a\0b"), Err(TopicError::NullCharacter));
        assert_eq!(
            validate_topic_name(&"x".repeat(65_536)),
            Err(TopicError::TooLong)
        );
        for ok in ["a", "/", "a//b", "$SYS/x", " ", "sensors/kitchen/t1/temp"] {
            assert_eq!(validate_topic_name(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn filters_allow_wildcards_only_alone_in_a_level_and_hash_last() {
        // MQTT-4.7.1-1 (# last and alone), MQTT-4.7.1-2 (+ alone in its level)
        for ok in [
            "#",
            "+",
            "+/+",
            "a/#",
            "/#",
            "a/+/b",
            "+/",
            "a//+",
            "$share/g/a/#",
            "$SYS/#",
        ] {
            assert_eq!(validate_topic_filter(ok), Ok(()), "{ok:?}");
        }
        for bad in ["a#", "a/#/b", "#/a", "a+", "a/b+/c", "++", "a/##"] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(TopicError::MisplacedWildcard),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn shared_subscriptions_need_a_clean_name_and_a_filter() {
        // MQTT-4.8.2-1, MQTT-4.8.2-2
        assert_eq!(split_shared("$share/g/a/+"), Some(Ok(("g", "a/+"))));
        assert_eq!(split_shared("a/b"), None);
        for bad in [
            "$share/",
            "$share//a",
            "$share/g",
            "$share/g/",
            "$share/+/a",
            "$share/g#/a",
        ] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(TopicError::MalformedSharedSubscription),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn plus_matches_exactly_one_level_even_an_empty_one() {
        assert!(matches("a/+/c", "a/b/c"));
        assert!(matches("a/+/c", "a//c"));
        assert!(!matches("a/+/c", "a/b/x/c"));
        assert!(!matches("a/+", "a"));
        assert!(matches("+", "a"));
        assert!(!matches("+", "a/b"));
        assert!(matches("+/+", "/a"));
        assert!(matches("/+", "/a"));
        assert!(matches("+", ""));
    }

    #[test]
    fn hash_matches_the_parent_level_and_everything_below() {
        // MQTT-4.7.1-2: "sport/tennis/player1/#" also matches "sport/tennis/player1".
        assert!(matches("sport/tennis/player1/#", "sport/tennis/player1"));
        assert!(matches(
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking"
        ));
        assert!(matches(
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon"
        ));
        assert!(!matches("sport/tennis/player1/#", "sport/tennis/player2"));
        assert!(matches("#", "a/b/c"));
        assert!(matches("a/#", "a/"));
        assert!(!matches("a/b/#", "a"));
    }

    #[test]
    fn leading_wildcards_do_not_match_dollar_topics() {
        // MQTT-4.7.2-1
        assert!(!matches("#", "$SYS/broker/uptime"));
        assert!(!matches("+/broker/uptime", "$SYS/broker/uptime"));
        assert!(matches("$SYS/#", "$SYS/broker/uptime"));
        assert!(matches("$SYS/+/uptime", "$SYS/broker/uptime"));
        assert!(matches("a/#", "a/$x"));
    }

    #[test]
    fn exact_levels_and_case_matter() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "A/b"));
        assert!(!matches("a/b", "a/b/"));
        assert!(!matches("a/b/", "a/b"));
        assert!(!matches("a", "a/b"));
    }

    #[test]
    fn shared_filters_match_by_their_filter_part() {
        assert!(matches("$share/g/a/+", "a/b"));
        assert!(!matches("$share/g/a/+", "g/a/b"));
        assert!(matches("$share/g/#", "x/y"));
    }
}
