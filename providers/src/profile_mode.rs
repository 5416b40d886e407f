//! What a profile (ini or CLI `config.json`) describes, as data, and the provider it becomes. Shared by
//! [`profile`](crate::profile) and [`cli_profile`](crate::cli_profile) so both files map modes to
//! providers the same way.

use crate::context::Context;
use crate::oauth::OAuthSite;
use crate::{CloudSsoProvider, OAuthProvider};
use crate::{CredentialsUriProvider, EcsRamRoleProvider, OidcRoleArnProvider, RamRoleArnProvider};
use mse_auth::{
    Credentials, CredentialsProvider, Result, SharedCredentialsProvider, StaticAccessKeyProvider,
    StaticStsProvider,
};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// Resolves a profile's provider on the first call (`resolve` reads and checks the file), keeps it,
/// and serves its credentials reported under `name/`.
pub(crate) async fn serve(
    inner: &OnceCell<SharedCredentialsProvider>,
    name: &'static str,
    resolve: impl FnOnce() -> Result<SharedCredentialsProvider>,
) -> Result<Credentials> {
    let provider = inner.get_or_try_init(|| async { resolve() }).await?;
    provider
        .provide_credentials()
        .await
        .map(|c| c.with_provider_prefix(name))
        .map_err(|e| e.in_provider(name))
}

/// Role settings shared by RAM role ARN and OIDC profiles.
pub(crate) struct RoleSettings {
    pub(crate) role_arn: String,
    pub(crate) session_name: Option<String>,
    pub(crate) duration: Option<Duration>,
    pub(crate) policy: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) sts_region: Option<String>,
    pub(crate) vpc: Option<bool>,
}

/// One profile's auth mode. Holds secrets: deliberately not `Debug`.
pub(crate) enum Mode {
    AccessKey {
        id: String,
        secret: String,
    },
    StsToken {
        id: String,
        secret: String,
        token: String,
    },
    RamRoleArn {
        source: Box<Mode>,
        role: RoleSettings,
    },
    EcsRamRole {
        role_name: Option<String>,
    },
    Oidc {
        role: RoleSettings,
        provider_arn: String,
        token_file: PathBuf,
    },
    CredentialsUri {
        uri: String,
    },
    CloudSso {
        sign_in_url: String,
        account_id: String,
        access_config: String,
        access_token: Option<String>,
        /// Unix seconds; 0 when absent.
        expires: u64,
    },
    OAuth(OAuthSettings),
    /// A command that prints credentials; `origin` (the file and the profile) begins the errors
    /// of its runs.
    External {
        command: String,
        origin: String,
    },
}

/// What an OAuth profile holds, and where its new tokens go.
pub(crate) struct OAuthSettings {
    pub(crate) site: OAuthSite,
    pub(crate) access_token: Option<String>,
    /// Unix seconds; 0 when absent.
    pub(crate) access_token_expire: u64,
    pub(crate) refresh_token: Option<String>,
    /// `access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration` (unix seconds).
    pub(crate) sts: Option<(String, String, String, u64)>,
    /// The CLI config and the OAuth profile in it.
    pub(crate) write_back: Option<(PathBuf, String)>,
}

/// Unix seconds as a time.
fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

impl Mode {
    /// The provider this mode describes (network providers come wrapped in their refresh cache).
    pub(crate) fn build(self, ctx: &Context) -> Result<SharedCredentialsProvider> {
        Ok(match self {
            Mode::AccessKey { id, secret } => {
                SharedCredentialsProvider::new(StaticAccessKeyProvider::new(id, secret)?)
            }
            Mode::StsToken { id, secret, token } => {
                SharedCredentialsProvider::new(StaticStsProvider::new(id, secret, token)?)
            }
            Mode::RamRoleArn { source, role } => {
                let source = source.build(ctx)?;
                let mut b = RamRoleArnProvider::builder(role.role_arn)
                    .source(source)
                    .context(ctx.clone());
                if let Some(v) = role.session_name {
                    b = b.session_name(v);
                }
                if let Some(v) = role.duration {
                    b = b.duration(v);
                }
                if let Some(v) = role.policy {
                    b = b.policy(v);
                }
                if let Some(v) = role.external_id {
                    b = b.external_id(v);
                }
                if let Some(v) = role.sts_region {
                    b = b.sts_region(v);
                }
                if let Some(v) = role.vpc {
                    b = b.vpc(v);
                }
                SharedCredentialsProvider::new(b.build()?)
            }
            Mode::EcsRamRole { role_name } => {
                let mut b = EcsRamRoleProvider::builder().context(ctx.clone());
                if let Some(v) = role_name {
                    b = b.role_name(v);
                }
                SharedCredentialsProvider::new(b.build()?)
            }
            Mode::Oidc {
                role,
                provider_arn,
                token_file,
            } => {
                let mut b = OidcRoleArnProvider::builder(role.role_arn, provider_arn, token_file)
                    .context(ctx.clone());
                if let Some(v) = role.session_name {
                    b = b.session_name(v);
                }
                if let Some(v) = role.duration {
                    b = b.duration(v);
                }
                if let Some(v) = role.policy {
                    b = b.policy(v);
                }
                if let Some(v) = role.sts_region {
                    b = b.sts_region(v);
                }
                if let Some(v) = role.vpc {
                    b = b.vpc(v);
                }
                SharedCredentialsProvider::new(b.build()?)
            }
            Mode::CredentialsUri { uri } => SharedCredentialsProvider::new(
                CredentialsUriProvider::builder(uri)
                    .context(ctx.clone())
                    .build()?,
            ),
            Mode::CloudSso {
                sign_in_url,
                account_id,
                access_config,
                access_token,
                expires,
            } => {
                let mut b = CloudSsoProvider::builder(sign_in_url, account_id, access_config)
                    .context(ctx.clone());
                if let Some(token) = access_token {
                    b = b.access_token(token, at(expires));
                }
                SharedCredentialsProvider::new(b.build()?)
            }
            Mode::OAuth(o) => {
                let mut b = OAuthProvider::builder().site(o.site).context(ctx.clone());
                if let Some(token) = o.access_token {
                    b = b.access_token(
                        token,
                        (o.access_token_expire > 0).then(|| at(o.access_token_expire)),
                    );
                }
                if let Some(token) = o.refresh_token {
                    b = b.refresh_token(token);
                }
                if let Some((id, secret, token, expiration)) = o.sts {
                    let sts = Credentials::builder()
                        .access_key_id(id)
                        .access_key_secret(secret)
                        .security_token(token)
                        .expiration(at(expiration))
                        .provider_path(crate::oauth::NAME)
                        .build()?;
                    b = b.sts_credentials(sts);
                }
                if let Some((path, profile)) = o.write_back {
                    b = b.write_back(path, profile);
                }
                SharedCredentialsProvider::new(b.build()?)
            }
            Mode::External { command, origin } => SharedCredentialsProvider::new(
                crate::ExternalProcessProvider::builder(command)
                    .origin(origin)
                    .context(ctx.clone())
                    .build()?,
            ),
        })
    }
}
