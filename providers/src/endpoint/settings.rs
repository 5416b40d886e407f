//! Where a product (STS, KMS, OAuth) is: one resolver, parameterised by the product's host prefix and
//! environment variables.

use super::Endpoint;
use mse_auth::os::Env;
use mse_auth::{vars, CredentialsError, Result};

/// A product's endpoint rules: its host prefix and the variables it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    name: &'static str,
    host_prefix: &'static str,
    endpoint_var: &'static str,
    region_var: Option<&'static str>,
    vpc_var: Option<&'static str>,
    global_host: Option<&'static str>,
}

impl Product {
    /// STS (spec §5.2): `ALIBABA_CLOUD_STS_ENDPOINT`, `ALIBABA_CLOUD_STS_REGION`,
    /// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`; `sts.aliyuncs.com` when nothing is set.
    pub const STS: Product = Product {
        name: "STS",
        host_prefix: "sts",
        endpoint_var: vars::STS_ENDPOINT,
        region_var: Some(vars::STS_REGION),
        vpc_var: Some(vars::VPC_ENDPOINT_ENABLED),
        global_host: Some("sts.aliyuncs.com"),
    };

    /// KMS (spec §9.1): `ALIBABA_CLOUD_KMS_ENDPOINT`, `ALIBABA_CLOUD_KMS_REGION`; with neither, a
    /// region or endpoint set in code is required.
    pub const KMS: Product = Product {
        name: "KMS",
        host_prefix: "kms",
        endpoint_var: vars::KMS_ENDPOINT,
        region_var: Some(vars::KMS_REGION),
        vpc_var: None,
        global_host: None,
    };

    /// OAuth of the China site (spec §10): `ALIBABA_CLOUD_OAUTH_ENDPOINT`, else `oauth.aliyun.com`.
    /// Not an RPC product: only the endpoint (in code or the variable) and the global host apply.
    pub const OAUTH_CN: Product = Product {
        name: "OAuth",
        host_prefix: "oauth",
        endpoint_var: vars::OAUTH_ENDPOINT,
        region_var: None,
        vpc_var: None,
        global_host: Some("oauth.aliyun.com"),
    };

    /// OAuth of the international site (spec §10): `ALIBABA_CLOUD_OAUTH_ENDPOINT`, else
    /// `oauth.alibabacloud.com`.
    pub const OAUTH_INTL: Product = Product {
        global_host: Some("oauth.alibabacloud.com"),
        ..Product::OAUTH_CN
    };

    /// The product's name in messages (`STS`, `KMS`, `OAuth`).
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Where a product is, as configured in code; unset parts fall back to the environment.
///
/// [`EndpointSettings::resolve`] picks, in this order:
/// 1. the endpoint set in code ([`EndpointSettings::endpoint`]);
/// 2. the product's endpoint variable (`ALIBABA_CLOUD_STS_ENDPOINT`, `ALIBABA_CLOUD_KMS_ENDPOINT`): a host
///    or a `scheme://host[:port]` URL;
/// 3. `<prefix>.<region>.aliyuncs.com` when a region is known — from code, else the product's region
///    variable (`ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_KMS_REGION`) — with prefix `<product>-vpc` when VPC is on
///    (from code, else the product's VPC variable if it has one: `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`
///    for STS) and `<product>` otherwise;
/// 4. the product's global host (`sts.aliyuncs.com`); KMS has none, so it needs a region or an endpoint.
///
/// Always `https`; plain `http` only to loopback, or anywhere after an explicit
/// [`allow_http`](EndpointSettings::allow_http) or with `MSE_AUTH_INSECURE_ALLOW_HTTP=true` in the
/// environment. Variables that are set but unreadable (not UTF-8; a VPC or opt-in value that is not a
/// boolean) are `InvalidConfiguration` naming the variable.
///
/// ```
/// use mse_auth_providers::endpoint::{EndpointSettings, Product};
/// use mse_auth_providers::os::Env;
///
/// let env = Env::from_pairs([("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou")]);
/// let sts = EndpointSettings::default().vpc(true).resolve(Product::STS, "ram_role_arn", &env)?;
/// assert_eq!(sts.origin(), "https://sts-vpc.cn-hangzhou.aliyuncs.com");
/// let kms = EndpointSettings::default().region("cn-beijing").resolve(Product::KMS, "kms", &env)?;
/// assert_eq!(kms.origin(), "https://kms.cn-beijing.aliyuncs.com");
/// # Ok::<(), mse_auth_providers::CredentialsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    endpoint: Option<String>,
    region: Option<String>,
    vpc: Option<bool>,
    allow_http: bool,
}

impl EndpointSettings {
    /// An explicit endpoint: a host (`sts.cn-hangzhou.aliyuncs.com`) or a `scheme://host[:port]` URL.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The region, e.g. `cn-hangzhou`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `true` for the VPC endpoint `<product>-vpc.<region>.aliyuncs.com`; `false` also ignores the
    /// product's VPC variable.
    pub fn vpc(mut self, vpc: bool) -> Self {
        self.vpc = Some(vpc);
        self
    }

    /// Permits a plain `http` endpoint that is not loopback. Credentials then cross the network
    /// unencrypted: only for private test deployments.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The endpoint of `product` these settings select in `env`, in the order above. An unusable
    /// endpoint or region, or
    /// none at all for a product without a global host, is `InvalidConfiguration` of `provider`,
    /// naming where the value came from.
    pub fn resolve(&self, product: Product, provider: &'static str, env: &Env) -> Result<Endpoint> {
        let invalid = |message: String| CredentialsError::invalid_configuration(provider, message);
        let var = |name: &str| {
            env.get_checked(name)
                .map_err(|e| e.invalid_configuration(provider))
        };
        let allow_http = self.allow_http || super::insecure_allow_http(env, provider)?;
        let explicit = match non_empty(self.endpoint.as_deref()) {
            Some(value) => Some((
                value.to_owned(),
                format!("the configured {} endpoint", product.name),
            )),
            None => var(product.endpoint_var)?.map(|v| (v, product.endpoint_var.to_owned())),
        };
        if let Some((value, origin)) = explicit {
            return Endpoint::parse(&value, allow_http)
                .map_err(|e| invalid(format!("{origin}: {e}")));
        }
        let region = match non_empty(self.region.as_deref()) {
            Some(region) => Some((
                region.to_owned(),
                format!("the configured {} region", product.name),
            )),
            None => match product.region_var {
                Some(name) => var(name)?.map(|r| (r, name.to_owned())),
                None => None,
            },
        };
        let vpc_var = match (self.vpc, product.vpc_var) {
            (None, Some(name)) => env
                .get_bool(name)
                .map_err(|e| e.invalid_configuration(provider))?,
            _ => None,
        };
        let host = match (region, product.global_host) {
            (Some((region, origin)), _) => {
                check_region(provider, &region, &origin)?;
                let vpc = self.vpc.or(vpc_var).unwrap_or(false);
                let suffix = if vpc { "-vpc" } else { "" };
                format!("{}{suffix}.{region}.aliyuncs.com", product.host_prefix)
            }
            (None, Some(global)) => global.to_owned(),
            (None, None) => {
                let region_var = product
                    .region_var
                    .map_or_else(String::new, |name| format!(" or {name}"));
                return Err(invalid(format!(
                    "no {} endpoint: set a region (.region(\"cn-hangzhou\")), an endpoint, or {}{region_var}",
                    product.name, product.endpoint_var
                )));
            }
        };
        Endpoint::parse(&host, false).map_err(|e| invalid(e.to_string()))
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Region ids are lower-case letters, digits and dashes (`cn-hangzhou`, `ap-southeast-1`).
fn check_region(provider: &'static str, region: &str, origin: &str) -> Result<()> {
    let ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        return Ok(());
    }
    let shown = mse_auth::error::escape_untrusted(region, 40);
    Err(CredentialsError::invalid_configuration(
        provider,
        format!("{origin} `{shown}` is not a region id (lower-case letters, digits and `-`, e.g. cn-hangzhou)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;

    const P: &str = "test_provider";

    type EnvPairs = [(&'static str, &'static str)];

    fn resolve(settings: EndpointSettings, env: &EnvPairs) -> Result<String> {
        settings
            .resolve(Product::STS, P, &Env::from_pairs(env.iter().copied()))
            .map(|e| e.origin())
    }

    #[test]
    fn endpoint_resolution_follows_spec_5_2() {
        let d = EndpointSettings::default;
        let cases: &[(EndpointSettings, &EnvPairs, &str)] = &[
            (d(), &[], "https://sts.aliyuncs.com"),
            (
                d().region("cn-hangzhou"),
                &[],
                "https://sts.cn-hangzhou.aliyuncs.com",
            ),
            (
                d().region("cn-hangzhou").vpc(true),
                &[],
                "https://sts-vpc.cn-hangzhou.aliyuncs.com",
            ),
            // VPC without a region is ignored.
            (d().vpc(true), &[], "https://sts.aliyuncs.com"),
            (
                d(),
                &[
                    (vars::STS_REGION, "cn-beijing"),
                    (vars::VPC_ENDPOINT_ENABLED, "TRUE"),
                ],
                "https://sts-vpc.cn-beijing.aliyuncs.com",
            ),
            (
                d(),
                &[(vars::VPC_ENDPOINT_ENABLED, "true")],
                "https://sts.aliyuncs.com",
            ),
            // Code wins over the environment, for region and VPC alike.
            (
                d().region("cn-shanghai").vpc(false),
                &[
                    (vars::STS_REGION, "cn-beijing"),
                    (vars::VPC_ENDPOINT_ENABLED, "true"),
                ],
                "https://sts.cn-shanghai.aliyuncs.com",
            ),
            (
                d(),
                &[
                    (vars::STS_ENDPOINT, "sts.example.internal"),
                    (vars::STS_REGION, "cn-beijing"),
                ],
                "https://sts.example.internal",
            ),
            (
                d().endpoint("http://127.0.0.1:9000"),
                &[(vars::STS_ENDPOINT, "sts.example.internal")],
                "http://127.0.0.1:9000",
            ),
            (
                d().endpoint("http://10.1.2.3:80").allow_http(true),
                &[],
                "http://10.1.2.3",
            ),
        ];
        for (settings, env, expected) in cases {
            assert_eq!(
                resolve(settings.clone(), env).as_deref().ok(),
                Some(*expected),
                "{settings:?} {env:?}"
            );
        }
    }

    #[test]
    fn oauth_is_its_site_host_unless_moved_in_code_or_by_its_variable() {
        let oauth = |settings: EndpointSettings, product, env: &EnvPairs| {
            settings
                .resolve(product, P, &Env::from_pairs(env.iter().copied()))
                .map(|e| e.origin())
        };
        let d = EndpointSettings::default;
        assert_eq!(
            oauth(d(), Product::OAUTH_CN, &[]).unwrap(),
            "https://oauth.aliyun.com"
        );
        assert_eq!(
            oauth(d(), Product::OAUTH_INTL, &[]).unwrap(),
            "https://oauth.alibabacloud.com"
        );
        let moved: &EnvPairs = &[(vars::OAUTH_ENDPOINT, "http://127.0.0.1:8080")];
        assert_eq!(
            oauth(d(), Product::OAUTH_INTL, moved).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            oauth(d().endpoint("oauth.internal"), Product::OAUTH_CN, moved).unwrap(),
            "https://oauth.internal"
        );
        let err = oauth(
            d(),
            Product::OAUTH_CN,
            &[(vars::OAUTH_ENDPOINT, "http://10.0.0.1")],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: ALIBABA_CLOUD_OAUTH_ENDPOINT: refusing plain \
             http to http://10.0.0.1: credentials would cross the network unencrypted; use https, \
             or opt in with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
        // Neither STS's region nor its VPC variable moves OAuth.
        let sts_vars: &EnvPairs = &[
            (vars::STS_REGION, "cn-beijing"),
            (vars::VPC_ENDPOINT_ENABLED, "true"),
        ];
        assert_eq!(
            oauth(d(), Product::OAUTH_CN, sts_vars).unwrap(),
            "https://oauth.aliyun.com"
        );
    }

    #[test]
    fn vpc_takes_the_boolean_words_and_a_bad_value_names_the_variable() {
        for on in ["1", "yes", "On", " true"] {
            assert_eq!(
                resolve(
                    EndpointSettings::default(),
                    &[
                        (vars::STS_REGION, "cn-beijing"),
                        (vars::VPC_ENDPOINT_ENABLED, on)
                    ]
                )
                .unwrap(),
                "https://sts-vpc.cn-beijing.aliyuncs.com",
                "{on:?}"
            );
        }
        let err = resolve(
            EndpointSettings::default(),
            &[
                (vars::STS_REGION, "cn-beijing"),
                (vars::VPC_ENDPOINT_ENABLED, "vpc"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED must be true or \
             false (also 1/0, yes/no, on/off, in any case), not `vpc`"
        );
        // Set in code, the variable is not read.
        assert!(resolve(
            EndpointSettings::default().vpc(false),
            &[(vars::VPC_ENDPOINT_ENABLED, "vpc")]
        )
        .is_ok());
    }

    #[test]
    fn the_insecure_opt_in_variable_permits_plain_http_from_env_and_code() {
        let env: &EnvPairs = &[
            (vars::STS_ENDPOINT, "http://10.1.2.3:8080"),
            (vars::INSECURE_ALLOW_HTTP, "true"),
        ];
        assert_eq!(
            resolve(EndpointSettings::default(), env).unwrap(),
            "http://10.1.2.3:8080"
        );
        let env: &EnvPairs = &[(vars::INSECURE_ALLOW_HTTP, "1")];
        assert_eq!(
            resolve(EndpointSettings::default().endpoint("http://10.9.9.9"), env).unwrap(),
            "http://10.9.9.9"
        );
        let kms = EndpointSettings::default()
            .resolve(
                Product::KMS,
                P,
                &Env::from_pairs([
                    (vars::KMS_ENDPOINT, "http://kms.internal"),
                    (vars::INSECURE_ALLOW_HTTP, "on"),
                ]),
            )
            .unwrap();
        assert_eq!(kms.origin(), "http://kms.internal");
        let err = resolve(
            EndpointSettings::default(),
            &[
                (vars::STS_ENDPOINT, "http://10.1.2.3"),
                (vars::INSECURE_ALLOW_HTTP, "false"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: ALIBABA_CLOUD_STS_ENDPOINT: refusing plain http to \
             http://10.1.2.3: credentials would cross the network unencrypted; use https, or opt in \
             with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
        let err = resolve(
            EndpointSettings::default(),
            &[(vars::INSECURE_ALLOW_HTTP, "sure")],
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.message()
                .starts_with("MSE_AUTH_INSECURE_ALLOW_HTTP must be true or false"),
            "{err}"
        );
    }

    #[test]
    fn unusable_endpoints_and_regions_are_invalid_configuration_naming_their_origin() {
        let err = resolve(
            EndpointSettings::default(),
            &[(vars::STS_ENDPOINT, "http://10.1.2.3")],
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.to_string().starts_with(&format!(
                "{P}: invalid configuration: {}: refusing plain http",
                vars::STS_ENDPOINT
            )),
            "{err}"
        );
        let err = resolve(EndpointSettings::default().region("cn-hangzhou/evil"), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test_provider: invalid configuration: the configured STS region `cn-hangzhou/evil` is not \
             a region id (lower-case letters, digits and `-`, e.g. cn-hangzhou)"
        );
    }
}
