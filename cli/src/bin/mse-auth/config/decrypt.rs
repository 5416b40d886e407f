//! `mse-auth config decrypt`: a config's plaintext, as the client filters would read it.

use super::{
    check_data_id_text, cipher, no_scheme_reason, note_passthrough, read_input, scheme_name,
    write_output, Format, Keys, Op, Target,
};
use crate::common::{CliResult, Globals};
use clap::ValueEnum;
use mse_auth_providers::cipher::Scheme;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

/// Decrypt a config's content and print the plaintext.
///
/// Printing the plaintext is this command's purpose: its output is the config in clear (write it with
/// --out to get a file of mode 0600). The input is the content as stored (`--in-format plain`, the
/// default) with --encrypted-data-key for the envelope schemes, or the JSON that `config encrypt`
/// prints (`--in-format json`: its `content` and `encryptedDataKey` are read; the dataId, group and
/// namespace always come from the flags, since a cipher-gcm- ciphertext only opens for the config it
/// was sealed for). A cipher-aes- encryptedDataKey is the AES key itself, so it is not accepted on the
/// command line, where other users can read it: pass it in the JSON input. A dataId without a cipher-
/// scheme passes through unchanged (-v says so), unless it looks like a mistyped one (`Cipher-db.yaml`),
/// which is refused without --allow-plain. Empty input is refused. A direct-KMS ciphertext is at most
/// 16 KiB; a larger one is refused before calling KMS. KMS calls are signed with the default chain's
/// credentials (or --profile's).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth config decrypt --data-id cipher-kms-aes-256-db.yaml \\
      --in db.enc.json --in-format json
  mse-auth config decrypt --data-id cipher-kms-aes-128-db.yaml \\
      --in db.enc --encrypted-data-key \"$KEY\"
  mse-auth config encrypt --data-id cipher-gcm-db.yaml --in db.yaml \\
    | mse-auth config decrypt --data-id cipher-gcm-db.yaml \\
      --in-format json --out db.yaml.check
  mse-auth config decrypt --data-id cipher-app.properties \\
      --in app.enc --format json")]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    keys: Keys,
    /// The encryptedDataKey stored with the config (cipher-kms-aes-128-, cipher-kms-aes-256-).
    #[arg(long, value_name = "KEY")]
    encrypted_data_key: Option<String>,
    /// How the input is given: the content alone, or the JSON that `config encrypt` prints.
    #[arg(long, value_enum, default_value_t = InFormat::Plain)]
    in_format: InFormat,
    /// Output format (json: dataId, group, namespace, scheme and the plaintext content).
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    format: Format,
    /// Pass the content through even when the dataId looks like a mistyped scheme prefix.
    #[arg(long)]
    allow_plain: bool,
}

/// How `config decrypt` reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InFormat {
    /// The content as stored.
    Plain,
    /// `{"content": …, "encryptedDataKey": …}` (other fields ignored).
    Json,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    content: String,
    #[serde(default)]
    encrypted_data_key: Option<String>,
}

/// Runs `mse-auth config decrypt`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let target = &args.target;
    check_data_id_text(&target.data_id)?;
    let scheme = Scheme::for_data_id(&target.data_id);
    if !scheme.is_encrypted() && Scheme::near_miss(&target.data_id).is_some() && !args.allow_plain {
        return Err(format!(
            "the dataId `{}` selects no encryption scheme {}, so its content would pass through \
             as stored; pass --allow-plain to print it anyway",
            target.data_id,
            no_scheme_reason(&target.data_id)
        )
        .into());
    }
    note_passthrough(target, scheme);
    if scheme == Scheme::NacosAes && args.encrypted_data_key.is_some() {
        return Err(
            "a cipher-aes- encryptedDataKey is the AES key itself: pass it in the JSON input \
             (--in-format json), not on the command line, where other users can read it"
                .into(),
        );
    }
    let raw = read_input(target.input.as_deref())?;
    if raw.trim().is_empty() {
        return Err("the input is empty: nothing to decrypt".into());
    }
    let (content, json_key) = match args.in_format {
        InFormat::Plain => (raw, None),
        InFormat::Json => {
            let input: Input = serde_json::from_str(&raw).map_err(|e| {
                format!(
                    "the input is not the JSON of `config encrypt` \
                     ({{\"content\": …, \"encryptedDataKey\": …}}): {e}"
                )
            })?;
            (
                Zeroizing::new(input.content),
                input.encrypted_data_key.map(Zeroizing::new),
            )
        }
    };
    if content.trim().is_empty() {
        return Err("the input's content is empty: nothing to decrypt".into());
    }
    let data_key = match (&args.encrypted_data_key, &json_key) {
        (Some(flag), Some(json)) if !json.is_empty() && flag.as_str() != json.as_str() => {
            return Err(
                "two different encryptedDataKeys: give it once, with --encrypted-data-key or in \
                 the JSON input"
                    .into(),
            )
        }
        (Some(flag), _) => flag.as_str(),
        (None, Some(json)) => json.as_str(),
        (None, None) => "",
    };
    let cipher = cipher(globals, &args.keys, scheme, Op::Decrypt(&content))?;
    let plain = Zeroizing::new({
        let _spinner = globals.spinner("decrypting…");
        cipher
            .decrypt(
                &target.namespace,
                &target.group,
                &target.data_id,
                &content,
                data_key,
            )
            .await?
    });
    let text = match args.format {
        Format::Json => {
            let value = json!({
                "dataId": target.data_id,
                "group": target.group,
                "namespace": target.namespace,
                "scheme": scheme_name(scheme),
                "content": plain.as_str(),
            });
            Zeroizing::new(format!("{value:#}\n"))
        }
        Format::Plain => plain,
    };
    write_output(target.output.as_deref(), &text)
}
