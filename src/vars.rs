//! Every environment variable the library reads, in one place.
//!
//! Names follow the official Alibaba Cloud credential SDKs (spec Appendix A) except the four endpoint
//! overrides ([`STS_ENDPOINT`], [`ECS_METADATA_ENDPOINT`], [`KMS_ENDPOINT`], [`OAUTH_ENDPOINT`]) and
//! [`INSECURE_ALLOW_HTTP`], which are ours (spec §18.12).
//!
//! Boolean variables ([`VPC_ENDPOINT_ENABLED`], [`ECS_METADATA_DISABLED`], [`IMDSV1_DISABLED`],
//! [`CLI_PROFILE_DISABLED`], [`INSECURE_ALLOW_HTTP`]) are read with
//! [`Env::get_bool`](crate::os::Env::get_bool): `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any
//! case, surrounding whitespace ignored; any other value is an
//! [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) error naming the variable (the
//! official SDKs take only `true`, and silently read anything else as false).

/// Long-term AccessKey id (environment provider; static providers' fallback).
pub const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Long-term AccessKey secret.
pub const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// STS security token; with it the environment provider returns STS credentials.
pub const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// RoleArn for RAM role ARN and OIDC.
pub const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// RoleSessionName for RAM role ARN and OIDC.
pub const ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// OIDC provider ARN (RRSA).
pub const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// Path of the OIDC token file (RRSA), re-read at every refresh.
pub const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
/// STS region: endpoint `sts[-vpc].<region>.aliyuncs.com`.
pub const STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// `true` selects the `sts-vpc.` endpoint (needs a region). Boolean.
pub const VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// Explicit STS endpoint: a host or a `scheme://host[:port]` URL (ours).
pub const STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
/// ECS RAM role name (skips discovery).
pub const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `true` disables the ECS RAM role provider. Boolean.
pub const ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// Instance metadata endpoint, default `http://100.100.100.200` (ours); a bare host means `http://host`.
pub const ECS_METADATA_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT";
/// `true` forbids the IMDSv1 fallback. Boolean.
pub const IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// Credentials URI.
pub const CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";
/// Profile name for both profile files.
pub const PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Path of the ini credentials file.
pub const CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// Path of the CLI `config.json`.
pub const CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
/// `true` skips the CLI profile in the default chain. Boolean.
pub const CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// KMS endpoint override (ours).
pub const KMS_ENDPOINT: &str = "ALIBABA_CLOUD_KMS_ENDPOINT";
/// KMS region, e.g. `cn-hangzhou`: the endpoint `kms.<region>.aliyuncs.com` when no endpoint is set
/// (ours).
pub const KMS_REGION: &str = "ALIBABA_CLOUD_KMS_REGION";
/// Explicit OAuth endpoint of the CLI profile mode `OAuth`, in place of its site's
/// (`https://oauth.aliyun.com`, `https://oauth.alibabacloud.com`): a host or a `scheme://host[:port]`
/// URL (ours; for private deployments and tests).
pub const OAUTH_ENDPOINT: &str = "ALIBABA_CLOUD_OAUTH_ENDPOINT";
/// KMS secret name of the rotating AccessKey provider.
pub const SECRET_NAME: &str = "ALIBABA_CLOUD_SECRET_NAME";
/// `true` permits plain `http` to any host for every endpoint (STS, KMS, ECS metadata, credentials
/// URI, CloudSSO, OAuth), whether it comes from the environment, a profile or code; without it `http` is accepted only
/// to loopback addresses and the ECS metadata address. Credentials then cross the network unencrypted:
/// for private test deployments only. Each endpoint it lets through is logged at `warn`. Boolean (ours;
/// the CLI's `--insecure-allow-http` sets it).
pub const INSECURE_ALLOW_HTTP: &str = "MSE_AUTH_INSECURE_ALLOW_HTTP";
