//! `mse-auth nacos config reencrypt`: decrypt the `cipher-` configs of a namespace and encrypt them
//! again, under a new key or into another scheme.

use super::crypto::{source_name, Crypto, KeyState};
use super::get::shown_namespace;
use super::store::{Listed, Store, StoreError, Stored};
use super::{connect, namespace, publish_verified, without_data_id, Connection};
use crate::common::{print_table, shutdown_signal, CliResult, Globals, OutputFormat, Progress};
use crate::config::{kms, kms_configured, local_key, read_local_key, scheme_name, Keys};
use clap::ValueEnum;
use mse_auth_providers::cipher::gcm::{KeySource, LocalKey, Sealed};
use mse_auth_providers::cipher::{ConfigCipher, Encrypted, Scheme};
use mse_auth_providers::nacos;
use mse_auth_providers::os::Env;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Re-encrypt the cipher- configs of a namespace: under a new key, or into another scheme.
///
/// Each matching cipher- config is read, decrypted, encrypted by the --to scheme and published:
///
/// * Same prefix (say --to gcm on cipher-gcm- configs, or --to kms-direct with a new --kms-key-id on
///   cipher- configs): the config is rewritten in place, with a compare-and-set on the MD5 read, so
///   a change made meanwhile is not overwritten ("changed while re-encrypting"). A cipher-gcm- config
///   already under the target key (its ciphertext names it) is skipped; KMS ciphertexts of the other
///   schemes do not say which key made them, so those are encrypted again on every run.
/// * Another prefix (say --to gcm on cipher-kms-aes-256-db.yaml): the config moves to the matching
///   dataId (cipher-gcm-db.yaml). The OLD CONFIG IS KEPT, untouched, unless --delete-old: then it is
///   removed once the new one has been read back and decrypted, and only if it did not change
///   meanwhile. An existing target that decrypts to the same text is "already re-encrypted"
///   (skipped, or with --delete-old the old one is removed now); a target with other content is
///   never overwritten.
///
/// Every new ciphertext is decrypted before it is published, and read back and decrypted after (a
/// server that drops the encryptedDataKey gets its previous version back). A config that does not
/// decrypt, or whose plaintext is itself an mseauth ciphertext, is left as it is and reported. So a
/// run that was interrupted (Ctrl-C finishes the current config and stops; a kill may stop anywhere)
/// is finished by running it again, and nothing is encrypted twice. --dry-run reads, decrypts and
/// encrypts but writes nothing. A progress bar shows on a terminal; the summary (done, skipped,
/// failed, each with its reason) goes to stdout. Exits 1 if any config failed or was not reached.
/// Keys as in `mse-auth config` (--kms-key-id is the key to encrypt with); a cipher-gcm- config
/// sealed with another local key needs --old-local-key-file and --old-local-key-name to be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # every cipher- config of prod into cipher-gcm- (KMS), first as a dry run:
  mse-auth nacos config reencrypt --namespace prod --to gcm \\
      --kms-region cn-hangzhou --dry-run
  mse-auth nacos config reencrypt --namespace prod --to gcm \\
      --kms-region cn-hangzhou --delete-old
  # direct-KMS configs under a new KMS key, in place:
  mse-auth nacos config reencrypt --namespace prod --to kms-direct \\
      --match 'cipher-app*' --kms-key-id alias/new --kms-region cn-hangzhou
  # cipher-gcm- configs from one local key to another:
  mse-auth nacos config reencrypt --namespace prod --to gcm \\
      --local-key-file new.key --local-key-name ops-2025 \\
      --old-local-key-file old.key --old-local-key-name ops-2024")]
pub struct Args {
    /// The namespace (tenant) id (default: NACOS_CLIENT_NAMESPACE); `--namespace ''` is the public
    /// one. Required one way or the other: this command rewrites configs.
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Only the configs of this group.
    #[arg(long)]
    group: Option<String>,
    /// Only the dataIds matching this pattern (`*` any text, `?` one character).
    #[arg(long = "match", value_name = "GLOB", default_value = "*")]
    pattern: String,
    /// The scheme to re-encrypt into.
    #[arg(long, value_enum, value_name = "SCHEME")]
    to: To,
    /// Read, decrypt and encrypt, but write nothing: what would happen.
    #[arg(long)]
    dry_run: bool,
    /// Remove each old config once its re-encrypted copy under the new dataId was read back and
    /// decrypted (only when the prefix changes; only if the old one did not change meanwhile).
    #[arg(long)]
    delete_old: bool,
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    keys: Keys,
    /// The local key that sealed the cipher-gcm- configs to re-encrypt, when it is not the one of
    /// --local-key-file.
    #[arg(long, value_name = "FILE", requires = "old_local_key_name")]
    old_local_key_file: Option<PathBuf>,
    /// The name of the --old-local-key-file key.
    #[arg(long, value_name = "NAME", requires = "old_local_key_file")]
    old_local_key_name: Option<String>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// The schemes `--to` takes (not `cipher-aes-`, whose key is stored in clear next to the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// `cipher-gcm-`: AES-256-GCM, the data key inside (KMS, or the local key if given).
    #[value(alias = "cipher-gcm-")]
    Gcm,
    /// `cipher-kms-aes-256-`: the MSE envelope with a KMS AES-256 data key.
    #[value(alias = "cipher-kms-aes-256-")]
    KmsAes256,
    /// `cipher-kms-aes-128-`: the MSE envelope with a KMS AES-128 data key.
    #[value(alias = "cipher-kms-aes-128-")]
    KmsAes128,
    /// `cipher-`: direct KMS encryption (at most 6 KB of text).
    #[value(alias = "cipher-")]
    KmsDirect,
}

impl To {
    fn scheme(self) -> Scheme {
        match self {
            To::Gcm => Scheme::Gcm,
            To::KmsAes256 => Scheme::KmsAes256,
            To::KmsAes128 => Scheme::KmsAes128,
            To::KmsDirect => Scheme::KmsDirect,
        }
    }
}

/// What to do, for [`reencrypt`].
#[derive(Debug, Clone)]
pub struct Plan {
    /// The scheme to re-encrypt into.
    pub to: Scheme,
    /// Only this group.
    pub group: Option<String>,
    /// Only dataIds matching this glob.
    pub pattern: String,
    /// Write nothing.
    pub dry_run: bool,
    /// Remove old configs after a move.
    pub delete_old: bool,
    /// The key new `cipher-gcm-` ciphertexts are sealed under (they name it), for the "already
    /// under that key" check.
    pub target_key: Option<(KeySource, String)>,
}

/// What happened to one config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Re-encrypted (and published).
    Done,
    /// Would be re-encrypted (dry run).
    WouldDo,
    /// Nothing to do.
    Skipped,
    /// Left as it was (or as someone else changed it), with the reason.
    Failed,
    /// Not reached: the run was interrupted.
    NotStarted,
}

impl Status {
    /// For programs (`--format json`).
    fn code(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::WouldDo => "would-do",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::NotStarted => "not-started",
        }
    }

    /// For people.
    fn name(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::WouldDo => "would do",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::NotStarted => "not started",
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The config.
    pub config: Listed,
    /// Where it goes (its own dataId for an in-place re-encryption).
    pub target: String,
    /// What happened.
    pub status: Status,
    /// Why, or what was done.
    pub detail: String,
}

/// `*` matches any text (also none), `?` one character; everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The dataId `data_id` moves to under `to`: the same name after `to`'s prefix; `Err` when that name
/// would select another scheme.
pub fn target_data_id(data_id: &str, to: Scheme) -> Result<String, String> {
    let from = Scheme::for_data_id(data_id);
    if from == to {
        return Ok(data_id.to_string());
    }
    let name = &data_id[from.prefix().len()..];
    let target = format!("{}{name}", to.prefix());
    let selected = Scheme::for_data_id(&target);
    if selected != to {
        return Err(format!(
            "its new dataId {target} would select {}, not {}: rename it by hand",
            scheme_name(selected),
            scheme_name(to)
        ));
    }
    Ok(target)
}

/// Why `plain` must not be encrypted again: it is itself one of our ciphertexts.
fn double_encryption(plain: &str) -> Option<String> {
    Sealed::parse(plain).ok().map(|_| {
        "its plaintext is itself an mseauth ciphertext (encrypted twice by some earlier tool?): \
         left untouched"
            .to_string()
    })
}

/// The candidates of `listed` for `plan`, in listing order: the matching `cipher-` configs, less
/// those that are where another candidate moves to (they are checked as its target).
pub fn candidates(listed: &[Listed], plan: &Plan) -> Vec<Listed> {
    let matching: Vec<&Listed> = listed
        .iter()
        .filter(|c| Scheme::for_data_id(&c.data_id).is_encrypted())
        .filter(|c| glob_match(&plan.pattern, &c.data_id))
        .collect();
    let targets: HashSet<(String, String)> = matching
        .iter()
        .filter(|c| Scheme::for_data_id(&c.data_id) != plan.to)
        .filter_map(|c| {
            target_data_id(&c.data_id, plan.to)
                .ok()
                .map(|t| (c.group.clone(), t))
        })
        .collect();
    matching
        .into_iter()
        .filter(|c| !targets.contains(&(c.group.clone(), c.data_id.clone())))
        .cloned()
        .collect()
}

/// Re-encrypts `candidates` one after the other: `old` reads them, `new` writes them (and reads
/// the targets). Stops before the next config once `stop` is set.
pub async fn reencrypt(
    store: &impl Store,
    old: &Crypto,
    new: &Crypto,
    plan: &Plan,
    candidates: &[Listed],
    progress: &Progress,
    stop: &AtomicBool,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(candidates.len());
    for config in candidates {
        let target = target_data_id(&config.data_id, plan.to);
        let (target, status, detail) = if stop.load(Ordering::Relaxed) {
            (
                target.unwrap_or_default(),
                Status::NotStarted,
                "interrupted before this config".to_string(),
            )
        } else {
            progress.message(&config.data_id);
            match target {
                Err(why) => (String::new(), Status::Failed, why),
                Ok(target) => {
                    let (status, detail) = one(store, old, new, plan, config, &target).await;
                    tracing::debug!(data_id = %config.data_id, %target, status = status.name(), %detail, "config");
                    (target, status, detail)
                }
            }
        };
        progress.step();
        outcomes.push(Outcome {
            config: config.clone(),
            target,
            status,
            detail,
        });
    }
    outcomes
}

/// `Failed` with `detail`.
fn failed(detail: impl Into<String>) -> (Status, String) {
    (Status::Failed, detail.into())
}

/// Re-encrypts one config into `target`.
async fn one(
    store: &impl Store,
    old: &Crypto,
    new: &Crypto,
    plan: &Plan,
    config: &Listed,
    target: &str,
) -> (Status, String) {
    let (source, group) = (config.data_id.as_str(), config.group.as_str());
    let stored = match store.get(source, group).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return (Status::Skipped, "removed since it was listed".into()),
        Err(e) => return failed(format!("cannot read it: {e}")),
    };
    if stored.content.trim().is_empty() {
        return (Status::Skipped, "empty: nothing to re-encrypt".into());
    }
    let in_place = source == target;
    if in_place {
        if let (
            Some((key_source, key_id)),
            KeyState::Embedded {
                source: s,
                key_id: k,
            },
        ) = (&plan.target_key, KeyState::of(source, &stored))
        {
            if *key_source == s && *key_id == k {
                return (
                    Status::Skipped,
                    format!("already under {} key {k}", source_name(s)),
                );
            }
        }
    }
    let plain = match old.decrypt(source, group, &stored).await {
        Ok(plain) => plain,
        Err(e) => {
            return failed(format!(
                "cannot decrypt it: {}; left untouched",
                without_data_id(&e, source)
            ))
        }
    };
    if let Some(why) = double_encryption(&plain) {
        return failed(why);
    }
    if in_place {
        in_place_write(store, new, plan, source, group, &stored, &plain).await
    } else {
        move_to(store, new, plan, config, target, &stored, &plain).await
    }
}

/// Encrypts `plain` for `data_id` and checks that the result decrypts to it.
async fn seal(new: &Crypto, data_id: &str, group: &str, plain: &str) -> Result<Encrypted, String> {
    let sealed = new
        .encrypt(data_id, group, plain)
        .await
        .map_err(|e| format!("cannot encrypt it: {}", without_data_id(&e, data_id)))?;
    let check = Stored {
        content: Zeroizing::new(sealed.content.clone()),
        encrypted_data_key: Zeroizing::new(sealed.encrypted_data_key.clone()),
        md5: String::new(),
        content_type: String::new(),
    };
    match new.decrypt(data_id, group, &check).await {
        Ok(back) if back.as_str() == plain => Ok(sealed),
        Ok(_) => Err("the new ciphertext decrypts to another text".into()),
        Err(e) => Err(format!(
            "the new ciphertext does not decrypt: {}",
            without_data_id(&e, data_id)
        )),
    }
}

fn content_type(stored: &Stored) -> Option<&str> {
    (!stored.content_type.is_empty()).then_some(stored.content_type.as_str())
}

async fn in_place_write(
    store: &impl Store,
    new: &Crypto,
    plan: &Plan,
    data_id: &str,
    group: &str,
    stored: &Stored,
    plain: &str,
) -> (Status, String) {
    let sealed = match seal(new, data_id, group, plain).await {
        Ok(sealed) => sealed,
        Err(why) => return failed(format!("{why}; left untouched")),
    };
    if plan.dry_run {
        return (Status::WouldDo, "would re-encrypt it in place".into());
    }
    // Nacos checks the MD5 atomically (casMd5); a server that ignores it (rnacos) gets this check.
    match store.get(data_id, group).await {
        Ok(Some(now)) if now.md5 == stored.md5 => {}
        Ok(_) => return failed("changed while re-encrypting: left as changed"),
        Err(e) => return failed(format!("cannot read it again: {e}; left untouched")),
    }
    match publish_verified(
        store,
        new,
        data_id,
        group,
        &sealed,
        plain,
        content_type(stored),
        Some(&stored.md5),
        Some(stored),
    )
    .await
    {
        Ok(_) => (Status::Done, "re-encrypted in place".into()),
        Err(e) if e.changed => failed(format!(
            "changed while re-encrypting: left as changed ({e})"
        )),
        Err(e) => failed(e.to_string()),
    }
}

async fn move_to(
    store: &impl Store,
    new: &Crypto,
    plan: &Plan,
    config: &Listed,
    target: &str,
    stored: &Stored,
    plain: &str,
) -> (Status, String) {
    let (source, group) = (config.data_id.as_str(), config.group.as_str());
    match store.get(target, group).await {
        Err(e) => return failed(format!("cannot read {target}: {e}; left untouched")),
        Ok(Some(existing)) => {
            return match new.decrypt(target, group, &existing).await {
                Ok(text) if text.as_str() == plain => {
                    already_moved(store, plan, source, group, target, &stored.md5).await
                }
                Ok(_) => failed(format!(
                    "{target} exists with other content: not overwritten; left untouched"
                )),
                Err(e) => failed(format!(
                    "{target} exists and does not decrypt ({}): not overwritten; left untouched",
                    without_data_id(&e, target)
                )),
            }
        }
        Ok(None) => {}
    }
    let sealed = match seal(new, target, group, plain).await {
        Ok(sealed) => sealed,
        Err(why) => return failed(format!("{why}; left untouched")),
    };
    if plan.dry_run {
        let old = if plan.delete_old {
            "and delete the old config"
        } else {
            "(the old config stays)"
        };
        return (
            Status::WouldDo,
            format!("would re-encrypt to {target} {old}"),
        );
    }
    if let Err(e) = publish_verified(
        store,
        new,
        target,
        group,
        &sealed,
        plain,
        content_type(stored),
        None,
        None,
    )
    .await
    {
        return failed(format!("{e}; the old config is untouched"));
    }
    if !plan.delete_old {
        return (
            Status::Done,
            format!("re-encrypted to {target}; the old config stays (--delete-old removes it)"),
        );
    }
    match delete_old(store, source, group, &stored.md5).await {
        Ok(()) => (
            Status::Done,
            format!("re-encrypted to {target}; the old config was removed"),
        ),
        Err(e) if e.changed => failed(format!(
            "re-encrypted to {target}, but the old config changed meanwhile: it stays, and \
             {target} holds the version read first"
        )),
        Err(e) => failed(format!(
            "re-encrypted to {target}, but removing the old config failed: {e}"
        )),
    }
}

/// The target already holds the same text: done by an earlier run.
async fn already_moved(
    store: &impl Store,
    plan: &Plan,
    source: &str,
    group: &str,
    target: &str,
    md5: &str,
) -> (Status, String) {
    if !plan.delete_old {
        return (
            Status::Skipped,
            format!("already re-encrypted: {target} holds the same text (the old config stays)"),
        );
    }
    if plan.dry_run {
        return (
            Status::WouldDo,
            format!("already re-encrypted to {target}: would delete the old config"),
        );
    }
    match delete_old(store, source, group, md5).await {
        Ok(()) => (
            Status::Done,
            format!(
                "already re-encrypted to {target} (by an earlier run); the old config was removed"
            ),
        ),
        Err(e) => failed(format!(
            "already re-encrypted to {target}, but removing the old config failed: {e}"
        )),
    }
}

/// Removes `data_id` if it still has `md5`.
async fn delete_old(
    store: &impl Store,
    data_id: &str,
    group: &str,
    md5: &str,
) -> Result<(), StoreError> {
    match store.get(data_id, group).await? {
        None => Ok(()),
        Some(now) if now.md5 == md5 => store.remove(data_id, group).await,
        Some(_) => Err(StoreError::changed(format!(
            "{data_id} changed since it was read"
        ))),
    }
}

/// The counts of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Re-encrypted.
    pub done: usize,
    /// Would be re-encrypted (dry run).
    pub would_do: usize,
    /// Nothing to do.
    pub skipped: usize,
    /// Left as they were.
    pub failed: usize,
    /// Not reached.
    pub not_started: usize,
}

impl Counts {
    /// The counts of `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Counts {
        let mut c = Counts::default();
        for o in outcomes {
            match o.status {
                Status::Done => c.done += 1,
                Status::WouldDo => c.would_do += 1,
                Status::Skipped => c.skipped += 1,
                Status::Failed => c.failed += 1,
                Status::NotStarted => c.not_started += 1,
            }
        }
        c
    }
}

/// Runs `mse-auth nacos config reencrypt`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let env = Env::real();
    if args.namespace.is_none() && env.get(nacos::NAMESPACE).is_none() {
        return Err(format!(
            "give --namespace (or set {}): this command rewrites every matching config of one \
             namespace (--namespace '' for the public one)",
            nacos::NAMESPACE
        )
        .into());
    }
    let namespace = namespace(args.namespace.clone(), &env);
    let to = args.to.scheme();
    if args.delete_old && args.dry_run {
        tracing::info!("--dry-run: --delete-old only says what it would remove");
    }
    // The ciphers, before connecting: missing keys fail before anything is read.
    let new_local = local_key(&args.keys)?;
    let kms = if kms_configured(&args.keys) {
        Some(kms(globals, &args.keys)?)
    } else {
        None
    };
    let new_needs_kms = to != Scheme::Gcm || new_local.is_none();
    if new_needs_kms && kms.is_none() {
        return Err(format!(
            "re-encrypting into {} needs KMS: give --kms-region or --kms-endpoint (or set \
             ALIBABA_CLOUD_KMS_ENDPOINT){}",
            scheme_name(to),
            if to == Scheme::Gcm {
                ", or a local key (--local-key-file, --local-key-name)"
            } else {
                ""
            }
        )
        .into());
    }
    let old_local = match (&args.old_local_key_file, &args.old_local_key_name) {
        (Some(file), Some(name)) => Some(read_local_key(file, name)?),
        _ => new_local.clone(),
    };
    let build = |local: Option<LocalKey>| {
        let mut builder = ConfigCipher::builder();
        if let Some(local) = local {
            builder = builder.local_key(local);
        }
        if let Some(kms) = &kms {
            builder = builder.data_key_service(kms.clone());
        }
        builder.build()
    };
    let old = Crypto::new(build(old_local), &namespace);
    let target_key = (to == Scheme::Gcm).then(|| match &new_local {
        Some(local) => (KeySource::Local, local.name().to_string()),
        None => (KeySource::Kms, args.keys.kms_key_id.clone()),
    });
    let new = Crypto::new(build(new_local), &namespace);
    let plan = Plan {
        to,
        group: args.group.clone(),
        pattern: args.pattern.clone(),
        dry_run: args.dry_run,
        delete_old: args.delete_old,
        target_key,
    };

    let store = connect(globals, &args.conn, &namespace).await?;
    let listed = {
        let _spinner = globals.spinner("listing…");
        store.list(plan.group.as_deref()).await?
    };
    let candidates = candidates(&listed, &plan);
    tracing::info!(
        listed = listed.len(),
        candidates = candidates.len(),
        "re-encrypting into {}",
        scheme_name(to)
    );
    let stop = Arc::new(AtomicBool::new(false));
    let signal = shutdown_signal();
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            signal.await;
            stop.store(true, Ordering::Relaxed);
            eprintln!("mse-auth: interrupted: finishing the current config, then stopping");
            shutdown_signal().await;
            std::process::exit(130);
        })
    };
    let outcomes = {
        let progress = globals.progress(candidates.len() as u64);
        reencrypt(&store, &old, &new, &plan, &candidates, &progress, &stop).await
    };
    watcher.abort();
    print_summary(&args, &namespace, &outcomes);
    let counts = Counts::of(&outcomes);
    if counts.failed > 0 || counts.not_started > 0 {
        return Err(format!(
            "{} of {} configs failed{} (see the summary)",
            counts.failed,
            outcomes.len(),
            if counts.not_started > 0 {
                format!(", {} were not reached (interrupted)", counts.not_started)
            } else {
                String::new()
            }
        )
        .into());
    }
    Ok(())
}

fn print_summary(args: &Args, namespace: &str, outcomes: &[Outcome]) {
    let counts = Counts::of(outcomes);
    let to = scheme_name(args.to.scheme());
    match args.format {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = outcomes
                .iter()
                .map(|o| {
                    vec![
                        o.status.name().to_string(),
                        o.config.group.clone(),
                        o.config.data_id.clone(),
                        if o.target == o.config.data_id {
                            "(in place)".to_string()
                        } else {
                            o.target.clone()
                        },
                        o.detail.clone(),
                    ]
                })
                .collect();
            print_table(&["STATUS", "GROUP", "DATA ID", "TARGET", "DETAIL"], &rows);
            let total = outcomes.len();
            let ns = shown_namespace(namespace);
            if args.dry_run {
                println!(
                    "\ndry run, nothing written: {} would be re-encrypted into {to}, {} skipped, \
                     {} failed, of {total} cipher- configs in namespace {ns}",
                    counts.would_do, counts.skipped, counts.failed
                );
            } else {
                let not_started = if counts.not_started > 0 {
                    format!(", {} not started (interrupted)", counts.not_started)
                } else {
                    String::new()
                };
                println!(
                    "\n{} re-encrypted into {to}, {} skipped, {} failed{not_started}, of {total} \
                     cipher- configs in namespace {ns}",
                    counts.done, counts.skipped, counts.failed
                );
            }
        }
        OutputFormat::Json => {
            let configs: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| {
                    json!({
                        "group": o.config.group,
                        "dataId": o.config.data_id,
                        "target": o.target,
                        "status": o.status.code(),
                        "detail": o.detail,
                    })
                })
                .collect();
            let value = json!({
                "namespace": namespace,
                "to": to,
                "dryRun": args.dry_run,
                "deleteOld": args.delete_old,
                "summary": {
                    "done": counts.done,
                    "wouldDo": counts.would_do,
                    "skipped": counts.skipped,
                    "failed": counts.failed,
                    "notStarted": counts.not_started,
                },
                "configs": configs,
            });
            println!("{value:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    //! The re-encryption logic on the server double (`memory.rs`, which says why a double), with
    //! fake KMS services: the envelope schemes need a server that keeps `encryptedDataKey`, which
    //! rnacos does not (the end-to-end tests in `cli/tests/nacos_config.rs` cover the rest).
    use super::*;
    use crate::nacos::config::memory::MemoryStore;
    use mse_auth::test_util::FakeKms;
    use mse_auth_providers::cipher::CipherErrorKind;

    const G: &str = "DEFAULT_GROUP";

    fn crypto(kms: Option<&FakeKms>, local: Option<LocalKey>) -> Crypto {
        let mut builder = ConfigCipher::builder();
        if let Some(kms) = kms {
            builder = builder.data_key_service(Arc::new(kms.clone()));
        }
        if let Some(local) = local {
            builder = builder.local_key(local);
        }
        Crypto::new(builder.build(), "ns")
    }

    fn key(name: &str, byte: u8) -> LocalKey {
        LocalKey::new(name, &[byte; 32]).unwrap()
    }

    fn plan(to: Scheme) -> Plan {
        Plan {
            to,
            group: None,
            pattern: "*".into(),
            dry_run: false,
            delete_old: false,
            target_key: None,
        }
    }

    /// Publishes `text` as another client would.
    async fn seed(store: &MemoryStore, by: &Crypto, data_id: &str, text: &str) {
        let sealed = by.encrypt(data_id, G, text).await.unwrap();
        store.put(data_id, G, &sealed.content, &sealed.encrypted_data_key);
    }

    async fn run(store: &MemoryStore, old: &Crypto, new: &Crypto, plan: &Plan) -> Vec<Outcome> {
        let listed = store.list(plan.group.as_deref()).await.unwrap();
        let candidates = candidates(&listed, plan);
        let stop = AtomicBool::new(false);
        reencrypt(
            store,
            old,
            new,
            plan,
            &candidates,
            &Progress::hidden(),
            &stop,
        )
        .await
    }

    fn statuses(outcomes: &[Outcome]) -> Vec<(&str, Status)> {
        outcomes
            .iter()
            .map(|o| (o.config.data_id.as_str(), o.status))
            .collect()
    }

    async fn plain(store: &MemoryStore, by: &Crypto, data_id: &str) -> String {
        let stored = store.stored(data_id, G).expect("stored");
        by.decrypt(data_id, G, &stored).await.unwrap().to_string()
    }

    #[tokio::test]
    async fn envelope_configs_move_to_gcm_once_and_a_corrupt_one_is_left_as_it_was() {
        let kms = FakeKms::new("alias/ops");
        let c = crypto(Some(&kms), None);
        let store = MemoryStore::keeping_data_keys();
        seed(&store, &c, "cipher-kms-aes-128-a.yaml", "a: sentinel-1").await;
        seed(&store, &c, "cipher-kms-aes-256-b.yaml", "b: sentinel-2").await;
        seed(&store, &c, "cipher-c.yaml", "c: sentinel-3").await;
        store.put("plain.yaml", G, "p: 1", "");
        // A data key that is not a KMS blob: KMS refuses it.
        store.put(
            "cipher-kms-aes-256-bad.yaml",
            G,
            "c2lwaGVy",
            "bm90LWEtYmxvYg==",
        );
        let before = store.stored("cipher-kms-aes-256-bad.yaml", G).unwrap();

        let mut dry = plan(Scheme::Gcm);
        dry.dry_run = true;
        let outcomes = run(&store, &c, &c, &dry).await;
        assert_eq!(
            statuses(&outcomes),
            [
                ("cipher-c.yaml", Status::WouldDo),
                ("cipher-kms-aes-128-a.yaml", Status::WouldDo),
                ("cipher-kms-aes-256-b.yaml", Status::WouldDo),
                ("cipher-kms-aes-256-bad.yaml", Status::Failed),
            ]
        );
        assert_eq!(
            store.writes(),
            Vec::<String>::new(),
            "a dry run writes nothing"
        );

        let outcomes = run(&store, &c, &c, &plan(Scheme::Gcm)).await;
        assert_eq!(Counts::of(&outcomes).done, 3, "{outcomes:#?}");
        let bad = &outcomes[3];
        assert_eq!(bad.status, Status::Failed);
        assert!(
            bad.detail.starts_with("cannot decrypt it"),
            "{}",
            bad.detail
        );
        assert!(bad.detail.ends_with("left untouched"), "{}", bad.detail);
        let after = store.stored("cipher-kms-aes-256-bad.yaml", G).unwrap();
        assert_eq!((after.content, after.md5), (before.content, before.md5));
        for (target, text) in [
            ("cipher-gcm-a.yaml", "a: sentinel-1"),
            ("cipher-gcm-b.yaml", "b: sentinel-2"),
            ("cipher-gcm-c.yaml", "c: sentinel-3"),
        ] {
            assert_eq!(plain(&store, &c, target).await, text, "{target}");
            let stored = store.stored(target, G).unwrap();
            assert!(stored.content.starts_with("mseauth:v1:"));
            assert_eq!(stored.content_type, "yaml", "the content type is kept");
        }
        // The old configs stay without --delete-old.
        assert_eq!(
            plain(&store, &c, "cipher-kms-aes-128-a.yaml").await,
            "a: sentinel-1"
        );

        // Again: nothing is encrypted twice.
        let writes = store.writes().len();
        let outcomes = run(&store, &c, &c, &plan(Scheme::Gcm)).await;
        let counts = Counts::of(&outcomes);
        assert_eq!((counts.done, counts.skipped, counts.failed), (0, 3, 1));
        assert!(outcomes[0].detail.starts_with("already re-encrypted"));
        assert_eq!(store.writes().len(), writes);

        // --delete-old finishes the move.
        let mut delete = plan(Scheme::Gcm);
        delete.delete_old = true;
        let outcomes = run(&store, &c, &c, &delete).await;
        assert_eq!(Counts::of(&outcomes).done, 3, "{outcomes:#?}");
        for old in [
            "cipher-kms-aes-128-a.yaml",
            "cipher-kms-aes-256-b.yaml",
            "cipher-c.yaml",
        ] {
            assert!(store.stored(old, G).is_none(), "{old} removed");
        }
        assert!(store.stored("cipher-kms-aes-256-bad.yaml", G).is_some());
        assert_eq!(
            plain(&store, &c, "cipher-gcm-b.yaml").await,
            "b: sentinel-2"
        );
    }

    #[tokio::test]
    async fn a_server_that_drops_data_keys_is_left_with_nothing_unreadable() {
        let kms = FakeKms::new("alias/ops");
        let local = crypto(Some(&kms), Some(key("k1", 1)));
        let store = MemoryStore::dropping_data_keys();
        seed(&store, &local, "cipher-gcm-a.yaml", "a: sentinel-1").await;
        seed(&store, &local, "cipher-kms-aes-256-b.yaml", "b: sentinel-2").await;
        let outcomes = run(&store, &local, &local, &plan(Scheme::KmsAes256)).await;
        assert_eq!(
            statuses(&outcomes),
            [
                ("cipher-gcm-a.yaml", Status::Failed),
                ("cipher-kms-aes-256-b.yaml", Status::Failed),
            ]
        );
        let detail = &outcomes[0].detail;
        assert!(detail.contains("without its encryptedDataKey"), "{detail}");
        assert!(detail.contains("the new config was removed"), "{detail}");
        assert!(detail.ends_with("the old config is untouched"), "{detail}");
        assert!(store.stored("cipher-kms-aes-256-a.yaml", G).is_none());
        assert_eq!(
            plain(&store, &local, "cipher-gcm-a.yaml").await,
            "a: sentinel-1"
        );
        assert!(
            outcomes[1].detail.contains("encryptedDataKey"),
            "{}",
            outcomes[1].detail
        );
        assert_eq!(
            store.writes(),
            [
                "publish cipher-kms-aes-256-a.yaml",
                "remove cipher-kms-aes-256-a.yaml"
            ]
        );
    }

    #[tokio::test]
    async fn rotation_in_place_uses_the_new_key_and_never_overwrites_a_change() {
        let (old_kms, new_kms) = (FakeKms::new("alias/old"), FakeKms::new("alias/new"));
        let (old, new) = (crypto(Some(&old_kms), None), crypto(Some(&new_kms), None));
        let store = MemoryStore::keeping_data_keys();
        seed(&store, &old, "cipher-kms-aes-256-a.yaml", "a: sentinel-1").await;
        seed(&store, &old, "cipher-kms-aes-256-b.yaml", "b: sentinel-2").await;
        // b changes between the read and the write (the second read is the check before writing).
        store.meddle_on_read("cipher-kms-aes-256-b.yaml", 1, |s| {
            *s.content = "changed-by-someone-else".to_string();
        });
        let outcomes = run(&store, &old, &new, &plan(Scheme::KmsAes256)).await;
        assert_eq!(
            statuses(&outcomes),
            [
                ("cipher-kms-aes-256-a.yaml", Status::Done),
                ("cipher-kms-aes-256-b.yaml", Status::Failed),
            ]
        );
        assert_eq!(outcomes[0].target, "cipher-kms-aes-256-a.yaml");
        assert_eq!(
            plain(&store, &new, "cipher-kms-aes-256-a.yaml").await,
            "a: sentinel-1"
        );
        assert!(outcomes[1]
            .detail
            .starts_with("changed while re-encrypting"));
        assert_eq!(
            store
                .stored("cipher-kms-aes-256-b.yaml", G)
                .unwrap()
                .content
                .as_str(),
            "changed-by-someone-else"
        );
        assert_eq!(store.writes(), ["publish cipher-kms-aes-256-a.yaml"]);

        // The compare-and-set itself: a change right before the publish is refused by the server.
        let store2 = MemoryStore::keeping_data_keys();
        seed(&store2, &old, "cipher-kms-aes-256-c.yaml", "c: sentinel-3").await;
        let stored = store2.stored("cipher-kms-aes-256-c.yaml", G).unwrap();
        let sealed = new
            .encrypt("cipher-kms-aes-256-c.yaml", G, "c: x")
            .await
            .unwrap();
        store2.put("cipher-kms-aes-256-c.yaml", G, "raced", "");
        let err = publish_verified(
            &store2,
            &new,
            "cipher-kms-aes-256-c.yaml",
            G,
            &sealed,
            "c: x",
            None,
            Some(&stored.md5),
            Some(&stored),
        )
        .await
        .unwrap_err();
        assert!(err.changed, "{err}");
        assert_eq!(
            store2
                .stored("cipher-kms-aes-256-c.yaml", G)
                .unwrap()
                .content
                .as_str(),
            "raced"
        );
    }

    #[tokio::test]
    async fn a_failed_read_back_puts_the_previous_version_back() {
        let kms = FakeKms::new("alias/ops");
        let c = crypto(Some(&kms), None);
        let store = MemoryStore::dropping_data_keys();
        seed(&store, &c, "cipher-kms-aes-128-a.yaml", "previous").await;
        let previous = store.stored("cipher-kms-aes-128-a.yaml", G).unwrap();
        let sealed = c
            .encrypt("cipher-kms-aes-128-a.yaml", G, "next")
            .await
            .unwrap();
        let err = publish_verified(
            &store,
            &c,
            "cipher-kms-aes-128-a.yaml",
            G,
            &sealed,
            "next",
            None,
            Some(&previous.md5),
            Some(&previous),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("without its encryptedDataKey"), "{text}");
        assert!(
            text.ends_with("the previous version was put back"),
            "{text}"
        );
        let now = store.stored("cipher-kms-aes-128-a.yaml", G).unwrap();
        assert_eq!(now.content, previous.content);
        let e = c
            .decrypt("cipher-kms-aes-128-a.yaml", G, &now)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), CipherErrorKind::MissingDataKey, "as it was");
    }

    #[tokio::test]
    async fn gcm_under_the_target_key_is_skipped_and_a_double_encryption_is_refused() {
        let (k1, k2) = (key("k1", 1), key("k2", 2));
        let old = crypto(None, Some(k1.clone()));
        let new = crypto(None, Some(k2));
        let store = MemoryStore::keeping_data_keys();
        seed(&store, &old, "cipher-gcm-a.yaml", "a: sentinel-1").await;
        // Encrypted twice by some earlier tool: its plaintext is a ciphertext.
        let inner = old
            .encrypt("cipher-gcm-b.yaml", G, "b: sentinel-2")
            .await
            .unwrap();
        seed(&store, &old, "cipher-gcm-b.yaml", &inner.content).await;
        let mut rotate = plan(Scheme::Gcm);
        rotate.target_key = Some((KeySource::Local, "k2".into()));
        let outcomes = run(&store, &old, &new, &rotate).await;
        assert_eq!(
            statuses(&outcomes),
            [
                ("cipher-gcm-a.yaml", Status::Done),
                ("cipher-gcm-b.yaml", Status::Failed),
            ]
        );
        assert!(outcomes[1].detail.contains("itself an mseauth ciphertext"));
        assert_eq!(
            plain(&store, &new, "cipher-gcm-a.yaml").await,
            "a: sentinel-1"
        );
        let outcomes = run(&store, &old, &new, &rotate).await;
        assert_eq!(outcomes[0].status, Status::Skipped);
        assert_eq!(outcomes[0].detail, "already under local key k2");
    }

    #[tokio::test]
    async fn an_interrupted_run_stops_between_configs_and_the_next_run_finishes() {
        let k = key("k1", 1);
        let c = crypto(None, Some(k));
        let kms = FakeKms::new("alias/ops");
        let direct = crypto(Some(&kms), Some(key("k1", 1)));
        let store = MemoryStore::keeping_data_keys();
        for n in 1..=5 {
            seed(
                &store,
                &direct,
                &format!("cipher-{n}.yaml"),
                &format!("n: {n}"),
            )
            .await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        {
            // Ctrl-C arrives while the second config is being read.
            let stop = stop.clone();
            store.meddle_on_read("cipher-2.yaml", 0, move |_| {
                stop.store(true, Ordering::Relaxed)
            });
        }
        let p = plan(Scheme::Gcm);
        let listed = store.list(None).await.unwrap();
        let candidates = candidates(&listed, &p);
        let outcomes = reencrypt(
            &store,
            &direct,
            &c,
            &p,
            &candidates,
            &Progress::hidden(),
            &stop,
        )
        .await;
        let counts = Counts::of(&outcomes);
        assert_eq!((counts.done, counts.not_started), (2, 3), "{outcomes:#?}");
        let outcomes = run(&store, &direct, &direct, &p).await;
        let counts = Counts::of(&outcomes);
        assert_eq!(
            (counts.done, counts.skipped, counts.failed),
            (3, 2, 0),
            "{outcomes:#?}"
        );
        for n in 1..=5 {
            assert_eq!(
                plain(&store, &c, &format!("cipher-gcm-{n}.yaml")).await,
                format!("n: {n}")
            );
        }
    }

    #[test]
    fn globs_target_names_and_candidates() {
        for (pattern, text, expected) in [
            ("*", "cipher-a", true),
            ("cipher-app*", "cipher-app.yaml", true),
            ("cipher-app*", "cipher-gcm-app.yaml", false),
            ("*.yaml", "cipher-db.yaml", true),
            ("cipher-?.yaml", "cipher-a.yaml", true),
            ("cipher-?.yaml", "cipher-ab.yaml", false),
            ("*a*b*", "xaxxbx", true),
            ("", "", true),
            ("a", "", false),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} {text}");
        }
        assert_eq!(
            target_data_id("cipher-db.yaml", Scheme::Gcm).unwrap(),
            "cipher-gcm-db.yaml"
        );
        assert_eq!(
            target_data_id("cipher-kms-aes-256-db", Scheme::KmsDirect).unwrap(),
            "cipher-db"
        );
        assert_eq!(
            target_data_id("cipher-gcm-db", Scheme::Gcm).unwrap(),
            "cipher-gcm-db"
        );
        let err = target_data_id("cipher-gcm-kms-aes-256-x", Scheme::KmsDirect).unwrap_err();
        assert!(err.contains("would select kms-aes-256"), "{err}");
        let listed = |ids: &[&str]| -> Vec<Listed> {
            ids.iter()
                .map(|d| Listed {
                    group: G.into(),
                    data_id: d.to_string(),
                })
                .collect()
        };
        let got = candidates(
            &listed(&[
                "cipher-a",
                "cipher-gcm-a",
                "cipher-gcm-b",
                "plain",
                "cipher-",
            ]),
            &plan(Scheme::Gcm),
        );
        let ids: Vec<&str> = got.iter().map(|c| c.data_id.as_str()).collect();
        assert_eq!(
            ids,
            ["cipher-a", "cipher-gcm-b"],
            "cipher-gcm-a is cipher-a's target"
        );
    }
}
