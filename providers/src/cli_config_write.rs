//! Writing values back into the CLI's `config.json`: after an OAuth token refresh or exchange, the
//! new tokens and STS credentials go into the OAuth profile, as the official clients do (spec §10),
//! so that the next process starts from them (a used refresh token is refused).
//!
//! Safer than the official clients: the file is read again under [`Fs::rewrite`]'s locks, only the
//! given keys of the one profile change, and everything else stays as it was, in its order: the
//! other profiles, the keys this library does not know, the order of keys (the JSON is kept in an
//! ordered tree of its own, not a map). The result is written as the Python client writes it (four
//! spaces of indent) into a new file (mode 0600) that replaces the old one in one rename.
//!
//! The profile is found as the official clients find it: the named one, or, following its
//! `source_profile` links (cycles are reported), the first of the chain whose `mode` is the one asked
//! for.

use mse_auth::error::escape_untrusted;
use mse_auth::os::{Fs, PROFILE_FILE_LIMIT};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::path::Path;
use zeroize::Zeroizing;

/// Longest profile name or mode quoted in a message.
const MAX_SHOWN: usize = 64;

/// A value to write.
pub(crate) enum Update {
    /// A string (a token, an AccessKey); wiped from memory when dropped.
    Text(Zeroizing<String>),
    /// An unsigned integer (unix seconds).
    Seconds(u64),
}

/// A JSON value that keeps the order of object keys (and duplicate keys) as read.
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    /// Strings may be secrets: wiped when dropped.
    String(Zeroizing<String>),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first value of `key`, for an object.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;

        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }

            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }

            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }

            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }

            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }

            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(Zeroizing::new(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(Zeroizing::new(v)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    entries.push((key, value));
                }
                Ok(Json::Object(entries))
            }
        }

        deserializer.deserialize_any(JsonVisitor)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Sets `updates` in the profile of `mode` reached from profile `start` (itself, or through its
/// `source_profile` links) in the CLI config at `path`, keeping everything else. The error names the
/// problem, never a value of the file.
pub(crate) fn update_profile(
    fs: &Fs,
    path: &Path,
    start: &str,
    mode: &str,
    updates: &[(&str, Update)],
) -> io::Result<()> {
    fs.rewrite(path, PROFILE_FILE_LIMIT, |text| {
        edit(text, start, mode, updates)
    })
}

/// The new text of the config `text`: [`update_profile`] without the file.
fn edit(text: &str, start: &str, mode: &str, updates: &[(&str, Update)]) -> io::Result<Vec<u8>> {
    let mut config: Json = serde_json::from_str(text).map_err(|e| {
        // serde's messages may quote a value: say only where.
        invalid(format!(
            "it is not valid JSON now (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let index = find(&config, start, mode)?;
    let Json::Object(top) = &mut config else {
        unreachable!("find checked the shape");
    };
    let Some((_, Json::Array(profiles))) = top.iter_mut().find(|(k, _)| k == "profiles") else {
        unreachable!("find checked the shape");
    };
    let Json::Object(entries) = &mut profiles[index] else {
        unreachable!("find checked the shape");
    };
    for (key, update) in updates {
        let value = || match update {
            Update::Text(text) => Json::String(text.clone()),
            Update::Seconds(n) => Json::Number((*n).into()),
        };
        let mut found = false;
        for (_, old) in entries.iter_mut().filter(|(k, _)| k == key) {
            *old = value();
            found = true;
        }
        if !found {
            entries.push(((*key).to_owned(), value()));
        }
    }
    let mut out = Vec::with_capacity(text.len() + 256);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    config
        .serialize(&mut serializer)
        .map_err(|e| invalid(format!("it cannot be written: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// The index in `profiles` of the profile of `mode` reached from `start`.
fn find(config: &Json, start: &str, mode: &str) -> io::Result<usize> {
    let shown = |name: &str| escape_untrusted(name, MAX_SHOWN);
    let Some(Json::Array(profiles)) = config.get("profiles") else {
        return Err(invalid("it has no `profiles` list now".to_owned()));
    };
    let mut name = start.to_owned();
    let mut visited: Vec<String> = Vec::new();
    loop {
        if visited.contains(&name) {
            visited.push(name);
            let cycle: Vec<String> = visited.iter().map(|v| shown(v)).collect();
            return Err(invalid(format!(
                "its profiles link in a cycle: {}",
                cycle.join(" -> ")
            )));
        }
        let Some(index) = profiles.iter().position(|p| {
            matches!(p, Json::Object(_)) && p.get("name").and_then(Json::as_str) == Some(&name)
        }) else {
            return Err(invalid(format!("it has no profile `{}` now", shown(&name))));
        };
        let profile = &profiles[index];
        if profile.get("mode").and_then(Json::as_str) == Some(mode) {
            return Ok(index);
        }
        let next = profile
            .get("source_profile")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty());
        let Some(next) = next else {
            return Err(invalid(format!(
                "its profile `{}` is not of mode `{}` now, nor linked to one",
                shown(&name),
                shown(mode)
            )));
        };
        let next = next.to_owned();
        visited.push(std::mem::replace(&mut name, next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
  "current": "chained",
  "profiles": [
    {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "web", "ram_role_arn": "acs:ram::1:role/a"},
    {"zeta": 1, "name": "web", "mode": "OAuth", "oauth_site_type": "CN", "oauth_access_token": "old-at",
     "oauth_refresh_token": "old-rt", "oauth_access_token_expire": 1, "custom": {"b": [1, 2.5, null, true], "a": "x"}},
    {"name": "ak", "mode": "AK", "access_key_id": "LTAI", "access_key_secret": "s", "z": 1, "a": 2}
  ],
  "meta_path": "/x",
  "a_unknown_top_key": [true]
}"#;

    fn text(s: &str) -> Update {
        Update::Text(Zeroizing::new(s.to_owned()))
    }

    fn updates() -> Vec<(&'static str, Update)> {
        vec![
            ("oauth_refresh_token", text("new-rt")),
            ("oauth_access_token", text("new-at")),
            ("oauth_access_token_expire", Update::Seconds(1_700_003_600)),
            ("access_key_id", text("STS.new")),
            ("sts_expiration", Update::Seconds(1_700_000_900)),
        ]
    }

    fn edited(config: &str, start: &str) -> io::Result<String> {
        edit(config, start, "OAuth", &updates()).map(|b| String::from_utf8(b).unwrap())
    }

    fn keys(value: &serde_json::Value) -> Vec<&str> {
        // serde_json's map is sorted; order is checked on the text instead.
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn only_the_oauth_profiles_keys_change_and_the_order_stays() {
        let out = edited(CONFIG, "chained").unwrap();
        let before: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
        let after: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(keys(&before), keys(&after));
        for key in ["current", "meta_path", "a_unknown_top_key"] {
            assert_eq!(before[key], after[key], "{key}");
        }
        assert_eq!(before["profiles"][0], after["profiles"][0]);
        assert_eq!(before["profiles"][2], after["profiles"][2]);
        let mut expected = before["profiles"][1].clone();
        for (k, v) in [
            ("oauth_refresh_token", serde_json::json!("new-rt")),
            ("oauth_access_token", serde_json::json!("new-at")),
            (
                "oauth_access_token_expire",
                serde_json::json!(1_700_003_600u64),
            ),
            ("access_key_id", serde_json::json!("STS.new")),
            ("sts_expiration", serde_json::json!(1_700_000_900u64)),
        ] {
            expected[k] = v;
        }
        assert_eq!(after["profiles"][1], expected);
        // Order: keys as they were, new keys last, in the order given.
        let web = out.find("\"zeta\"").unwrap();
        let order: Vec<usize> = [
            "\"zeta\"",
            "\"name\": \"web\"",
            "\"oauth_access_token\": \"new-at\"",
            "\"oauth_refresh_token\": \"new-rt\"",
            "\"oauth_access_token_expire\": 1700003600",
            "\"custom\"",
            "\"access_key_id\": \"STS.new\"",
            "\"sts_expiration\": 1700000900",
        ]
        .iter()
        .map(|needle| {
            out[web..]
                .find(needle)
                .unwrap_or_else(|| panic!("{needle}: {out}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} {out}");
        let top: Vec<usize> = [
            "\"current\"",
            "\"profiles\"",
            "\"meta_path\"",
            "\"a_unknown_top_key\"",
        ]
        .iter()
        .map(|needle| out.find(needle).unwrap())
        .collect();
        assert!(top.windows(2).all(|w| w[0] < w[1]), "{out}");
        assert!(out.contains("\n    \"profiles\": [\n        {"), "{out}");
        assert!(out.contains("\"z\": 1,\n            \"a\": 2"), "{out}");
        assert!(out.ends_with("}\n"));
    }

    #[test]
    fn the_oauth_profile_itself_can_be_the_start_and_an_edit_is_stable() {
        let once = edited(CONFIG, "web").unwrap();
        let twice = edited(&once, "web").unwrap();
        assert_eq!(once, twice);
        assert_eq!(once, edited(CONFIG, "chained").unwrap());
    }

    #[test]
    fn a_file_that_changed_shape_is_refused_naming_the_problem_not_a_value() {
        let cases = [
            (
                "{\"profiles\": [",
                "it is not valid JSON now (line 1, column 14)",
            ),
            ("[1]", "it has no `profiles` list now"),
            ("{\"profiles\": {}}", "it has no `profiles` list now"),
            (
                r#"{"profiles": [{"name": "other", "mode": "OAuth"}]}"#,
                "it has no profile `chained` now",
            ),
            (
                r#"{"profiles": [{"name": "chained", "mode": "AK", "access_key_secret": "sentinel"}]}"#,
                "its profile `chained` is not of mode `OAuth` now, nor linked to one",
            ),
            (
                r#"{"profiles": [{"name": "chained", "source_profile": "b"}, {"name": "b", "source_profile": "chained"}]}"#,
                "its profiles link in a cycle: chained -> b -> chained",
            ),
            (
                r#"{"profiles": [{"name": "chained", "source_profile": "x\u001b"}]}"#,
                "it has no profile `x\\x1b` now",
            ),
        ];
        for (config, expected) in cases {
            let err = edited(config, "chained").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert_eq!(err.to_string(), expected, "{config}");
        }
    }

    #[test]
    fn duplicate_keys_are_all_updated_and_numbers_keep_their_value() {
        let config = r#"{"profiles": [{"name": "p", "mode": "OAuth", "oauth_access_token": "a", "oauth_access_token": "b", "big": 18446744073709551615, "neg": -3, "f": 1e300}]}"#;
        let out = edit(config, "p", "OAuth", &[("oauth_access_token", text("c"))]).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out.matches("\"oauth_access_token\": \"c\"").count(),
            2,
            "{out}"
        );
        assert!(
            out.contains("18446744073709551615") && out.contains("-3"),
            "{out}"
        );
        let f: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(f["profiles"][0]["f"], serde_json::json!(1e300));
    }

    #[test]
    fn update_profile_goes_through_the_file_system_seam() {
        let fs = Fs::from_pairs([("/c.json", CONFIG)]);
        update_profile(&fs, Path::new("/c.json"), "web", "OAuth", &updates()).unwrap();
        let now = fs.read_to_string("/c.json").unwrap();
        assert_eq!(now, edited(CONFIG, "web").unwrap());
        let err = update_profile(&fs, Path::new("/missing.json"), "web", "OAuth", &updates())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
