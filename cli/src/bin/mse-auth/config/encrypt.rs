//! `mse-auth config encrypt`: a config's content as the client filters would publish it.

use super::{
    check_encryptable, cipher, note_passthrough, read_input, scheme_name, write_output, Format,
    Keys, Op, Target,
};
use crate::common::{CliResult, Globals};
use mse_auth_providers::cipher::Scheme;
use serde_json::json;

/// Encrypt a config's content for publishing: the ciphertext and its encryptedDataKey.
///
/// The dataId picks the scheme (see `mse-auth config --help`). The output is what a Nacos/MSE client
/// publishes: the content (ciphertext) and the encryptedDataKey to send with it. `--format json` (the
/// default) carries both; `--format plain` prints the content alone and is refused for the schemes that
/// produce an encryptedDataKey (cipher-kms-aes-128-, cipher-kms-aes-256-, cipher-aes-), which plain
/// output would lose. For cipher-aes- the encryptedDataKey is the AES key itself, in clear: it is
/// printed only with --show-secrets. Data keys from KMS and local keys are never printed. KMS calls are
/// signed with the default chain's credentials (or --profile's).
///
/// A dataId that selects no scheme is refused (exit 1), naming the prefix a mistyped one probably
/// meant (`Cipher-db.yaml`: did you mean `cipher-`?); --allow-plain passes its content through
/// unencrypted. A `cipher-…` dataId that looks like a mistyped envelope, GCM or AES prefix
/// (`cipher-kms-aes256-db.yaml`) would be direct KMS: it is refused unless --allow-near-miss. Empty
/// input is refused (Nacos does not publish an empty config).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth config encrypt --data-id cipher-kms-aes-256-db.yaml \\
      --in db.yaml --kms-region cn-hangzhou > db.enc.json
  cat db.yaml | mse-auth config encrypt \\
      --data-id cipher-kms-aes-128-db.yaml --kms-key-id alias/my-key
  mse-auth config encrypt --data-id cipher-gcm-db.yaml \\
      --namespace prod --group APP --local-key-file ops-2024.key \\
      --local-key-name ops-2024 --in db.yaml --format plain
  mse-auth config encrypt --data-id cipher-app.properties \\
      --in app.properties --out app.enc.json
  # a dataId without a scheme is stored unencrypted only when asked:
  mse-auth config encrypt --data-id app.properties \\
      --in app.properties --allow-plain")]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    keys: Keys,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Print the encryptedDataKey of a cipher-aes- config, which is the AES key itself.
    #[arg(long)]
    show_secrets: bool,
    /// Pass the content through unencrypted when the dataId selects no scheme (no cipher- prefix).
    #[arg(long)]
    allow_plain: bool,
    /// Encrypt with the scheme the dataId selects even when it looks like a mistyped prefix (e.g.
    /// cipher-kms-aes256-… is direct KMS, not the AES-256 envelope).
    #[arg(long)]
    allow_near_miss: bool,
}

/// Runs `mse-auth config encrypt`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let target = &args.target;
    let scheme = check_encryptable(&target.data_id, args.allow_plain, args.allow_near_miss)?;
    note_passthrough(target, scheme);
    let has_data_key = matches!(
        scheme,
        Scheme::KmsAes128 | Scheme::KmsAes256 | Scheme::NacosAes
    );
    if has_data_key && args.format == Format::Plain {
        return Err(format!(
            "{}… configs come with an encryptedDataKey, which --format plain cannot carry: use \
             --format json",
            scheme.prefix()
        )
        .into());
    }
    if scheme == Scheme::NacosAes && !args.show_secrets {
        return Err(
            "cipher-aes- keeps its AES key in clear in the encryptedDataKey: printing it needs \
             --show-secrets (or use a cipher-gcm- or cipher-kms-aes-256- dataId)"
                .into(),
        );
    }
    let content = read_input(target.input.as_deref())?;
    if content.trim().is_empty() {
        return Err(
            "the input is empty: nothing to encrypt (Nacos does not publish an empty \
                    config)"
                .into(),
        );
    }
    let cipher = cipher(globals, &args.keys, scheme, Op::Encrypt(&content))?;
    let sealed = {
        let _spinner = globals.spinner("encrypting…");
        cipher
            .encrypt(&target.namespace, &target.group, &target.data_id, &content)
            .await?
    };
    let text = match args.format {
        Format::Json => {
            let value = json!({
                "dataId": target.data_id,
                "group": target.group,
                "namespace": target.namespace,
                "scheme": scheme_name(scheme),
                "content": sealed.content,
                "encryptedDataKey": sealed.encrypted_data_key,
            });
            format!("{value:#}\n")
        }
        // Ciphertext gets a newline (decrypt ignores surrounding whitespace); a passed-through content
        // is written as is.
        Format::Plain if scheme.is_encrypted() => {
            format!("{}\n", sealed.content)
        }
        Format::Plain => sealed.content.clone(),
    };
    write_output(target.output.as_deref(), &text)
}
