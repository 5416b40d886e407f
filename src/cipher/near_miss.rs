//! [`Scheme::near_miss`](super::Scheme::near_miss): does a dataId look like a mistyped scheme prefix?
//!
//! The dispatch is an exact, case-sensitive `startsWith` (spec §C.0, §C.2), so `Cipher-db.yaml`,
//! `ciper-db.yaml` or ` cipher-db.yaml` are not encrypted at all, and `cipher-kms-aes256-db.yaml` is
//! direct KMS rather than the envelope scheme it was meant to be. Nobody is told. This module finds
//! the prefix such a dataId most likely meant, so a tool can refuse it and name the fix.
//!
//! A dataId is a near miss when, after trimming whitespace and folding ASCII case:
//! * its first word (up to `-`, `_`, `.` or a space) starts with `c` and is within edit distance 2
//!   of `cipher` (`ciper`, `cypher`, `chiper`, `CIPHER`), or is `cipher` followed by `_`, `.` or a
//!   space instead of `-`, or `cipher` glued to a scheme's own prefix (`ciphergcm-`); or
//! * it starts with `cipher-` and the rest is within edit distance 2 of `kms-aes-128-` or
//!   `kms-aes-256-` (`kms-aes256-`, `kms_aes-256-`, `kms-aes-256db`), or is `gcm-`, `aes-` or a
//!   `kms-aes-…-` prefix in another case (`GCM-`);
//!
//! and the prefix it then means differs from the one [`Scheme::for_data_id`](super::Scheme::for_data_id)
//! picks for the dataId as given. Short sub-prefixes (`gcm-`, `aes-`) are matched only up to case:
//! `cipher-app-…` or `cipher-aws-…` are ordinary direct-KMS names, two edits from `aes-`.

use super::{Scheme, CIPHER_PREFIX};

/// The word every encrypted dataId starts with.
const CIPHER_WORD: &str = "cipher";
/// Characters that end the first word of a dataId.
const SEPARATORS: [char; 4] = ['-', '_', '.', ' '];
/// The longest edit distance still taken for a typo.
const MAX_DISTANCE: usize = 2;

/// The prefixes after `cipher-` that pick a scheme other than direct KMS, longest first.
const SUB_PREFIXES: [(&str, Scheme); 4] = [
    ("kms-aes-128-", Scheme::KmsAes128),
    ("kms-aes-256-", Scheme::KmsAes256),
    ("gcm-", Scheme::Gcm),
    ("aes-", Scheme::NacosAes),
];

/// The scheme prefix `data_id` seems to have meant, when it is not the one the dataId selects.
pub(super) fn near_miss(data_id: &str) -> Option<&'static str> {
    let given = Scheme::for_data_id(data_id);
    // An exact envelope, GCM or nacos-plugin prefix is never a typo; `cipher-` alone lacks a name,
    // not a character.
    if data_id == CIPHER_PREFIX
        || matches!(
            given,
            Scheme::KmsAes128 | Scheme::KmsAes256 | Scheme::Gcm | Scheme::NacosAes
        )
    {
        return None;
    }
    // DataIds are short (Nacos: 256 characters); a long first word is no typo of `cipher`.
    let folded = data_id.trim().to_ascii_lowercase();
    let rest = after_cipher_word(&folded)?;
    let meant = meant_after_cipher(rest);
    (meant.prefix() != given.prefix()).then_some(meant.prefix())
}

/// What follows the (possibly mistyped) `cipher` word and its separator; `None` when the dataId does
/// not start with something like `cipher`.
fn after_cipher_word(folded: &str) -> Option<&str> {
    if let Some(rest) = folded.strip_prefix(CIPHER_WORD) {
        // `cipher-…`, `cipher_…`, `cipher.…`, `cipher …`, or `cipher` alone.
        if rest.is_empty() {
            return Some(rest);
        }
        if let Some(rest) = rest.strip_prefix(SEPARATORS) {
            return Some(rest);
        }
        // Glued to what follows: a typo only before a scheme's own prefix (`ciphergcm-db`), since
        // `ciphertext.yaml` or `ciphers.yaml` are ordinary names.
        return SUB_PREFIXES
            .iter()
            .any(|(prefix, _)| rest.starts_with(prefix))
            .then_some(rest);
    }
    let end = folded.find(SEPARATORS)?;
    let word = &folded[..end];
    let close = word.starts_with('c')
        && word.len() >= CIPHER_WORD.len() - MAX_DISTANCE
        && word.len() <= CIPHER_WORD.len() + MAX_DISTANCE
        && edit_distance(word, CIPHER_WORD) <= MAX_DISTANCE;
    close.then(|| &folded[end + 1..])
}

/// The scheme a `cipher-` dataId whose remainder (after `cipher-`, case-folded) is `rest` was meant
/// to have.
fn meant_after_cipher(rest: &str) -> Scheme {
    if rest.is_empty() {
        // `cipher` alone, or `Cipher-`: the direct-KMS prefix, which still needs a name.
        return Scheme::KmsDirect;
    }
    for (prefix, scheme) in SUB_PREFIXES {
        if rest.starts_with(prefix) {
            return scheme;
        }
    }
    let mut best: Option<(usize, Scheme)> = None;
    for (prefix, scheme) in &SUB_PREFIXES[..2] {
        let distance = prefix_distance(rest, prefix);
        if distance <= MAX_DISTANCE && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, *scheme));
        }
    }
    best.map_or(Scheme::KmsDirect, |(_, scheme)| scheme)
}

/// The smallest edit distance between `prefix` and a start of `text` within ±2 characters of its
/// length.
fn prefix_distance(text: &str, prefix: &str) -> usize {
    let text: Vec<char> = text.chars().take(prefix.len() + MAX_DISTANCE).collect();
    let prefix: Vec<char> = prefix.chars().collect();
    let shortest = prefix.len().saturating_sub(MAX_DISTANCE);
    (shortest..=text.len())
        .map(|n| edit_distance_chars(&text[..n], &prefix))
        .min()
        .unwrap_or(usize::MAX)
}

/// Levenshtein distance (insert, delete, substitute) of two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    edit_distance_chars(&a, &b)
}

fn edit_distance_chars(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("cipher", "cipher"), 0);
        assert_eq!(edit_distance("ciper", "cipher"), 1);
        assert_eq!(edit_distance("cypher", "cipher"), 1);
        assert_eq!(edit_distance("chiper", "cipher"), 2);
        assert_eq!(edit_distance("cider", "cipher"), 2);
        assert_eq!(edit_distance("coder", "cipher"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(prefix_distance("kms-aes256-db", "kms-aes-256-"), 1);
        assert_eq!(prefix_distance("kms-aes-256db", "kms-aes-256-"), 1);
        assert_eq!(prefix_distance("db", "kms-aes-256-"), usize::MAX);
    }

    #[test]
    fn mistyped_cipher_words_name_the_prefix_they_meant() {
        let cases = [
            // The brief's footguns: each selects no scheme, or the wrong one.
            ("ciper-db.yaml", "cipher-"),
            ("Cipher-db.yaml", "cipher-"),
            ("CIPHER-db.yaml", "cipher-"),
            (" cipher-db.yaml", "cipher-"),
            ("\tcipher-kms-aes-256-db.yaml", "cipher-kms-aes-256-"),
            ("cipher_kms-aes-256-db.yaml", "cipher-kms-aes-256-"),
            ("cipher-kms-aes256-db.yaml", "cipher-kms-aes-256-"),
            ("cipher-kms-aes-128db.yaml", "cipher-kms-aes-128-"),
            ("cipher-kms_aes-128-db.yaml", "cipher-kms-aes-128-"),
            ("cipher-kms-aes-128", "cipher-kms-aes-128-"),
            ("cipher-kms-aes-192-db", "cipher-kms-aes-128-"),
            ("cipher-kms-aes-512-db", "cipher-kms-aes-128-"),
            ("CIPHER-KMS-AES-256-db", "cipher-kms-aes-256-"),
            ("cipher-GCM-db", "cipher-gcm-"),
            ("Cipher-gcm-db", "cipher-gcm-"),
            ("cipher-AES-db", "cipher-aes-"),
            ("cypher-gcm-db", "cipher-gcm-"),
            ("chiper-aes-db", "cipher-aes-"),
            ("ciphr-db", "cipher-"),
            ("ciphergcm-db", "cipher-gcm-"),
            ("cipherkms-aes-256-db", "cipher-kms-aes-256-"),
            ("cipher.db.yaml", "cipher-"),
            ("cipher", "cipher-"),
            ("Cipher-", "cipher-"),
        ];
        for (data_id, meant) in cases {
            assert_eq!(near_miss(data_id), Some(meant), "{data_id:?}");
        }
    }

    #[test]
    fn exact_prefixes_and_ordinary_names_are_no_near_miss() {
        for data_id in [
            "cipher-kms-aes-128-db",
            "cipher-kms-aes-256-db",
            "cipher-gcm-db",
            "cipher-aes-db",
            "cipher-db.yaml",
            "cipher-app-config",
            "cipher-aws-credentials",
            "cipher-kms-db",
            "cipherdb.yaml",
            "ciphertext.yaml",
            "cipher-db.yaml ",
            "app.yaml",
            "application-prod.properties",
            "coder-db",
            "recipe-db",
            "piper-db",
            "ipher-db",
            "cipher-",
            "",
            "   ",
            "配置-db",
        ] {
            assert_eq!(near_miss(data_id), None, "{data_id:?}");
        }
    }

    #[test]
    fn every_suggestion_selects_a_scheme_once_completed() {
        for data_id in [
            "ciper-db",
            "cipher_gcm-db",
            "cipher-kms-aes256-db",
            "Cipher-aes-x",
        ] {
            let meant = near_miss(data_id).unwrap();
            assert!(
                Scheme::for_data_id(&format!("{meant}db")).is_encrypted(),
                "{data_id}"
            );
        }
    }
}
