//! One matrix: every network provider against every fault the emulator injects, on manual time.
//!
//! For each provider ([`Subject`]) and each fault: the uncached provider fails with the error kind,
//! message, code and status it reports today, after as many requests as it makes (KMS retries what is
//! recoverable, the metadata provider repeats a failed GET without its token); and the cached
//! provider, whose background refresh meets the same fault, keeps serving the unexpired credentials it
//! has. Without a fault, that refresh replaces them before they expire, at the scheduled point and not
//! before. No test sleeps: the clock is advanced, and hangs last the small budgets configured here.

mod support;

use std::time::{Duration, Instant};

use mse_auth_emulator::{Endpoint, Fault};
use mse_auth_providers::backoff::Backoff;
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::kms::{KmsClient, RetryPolicy};
use mse_auth_providers::kms_rotating::KmsRotatingProvider;
use mse_auth_providers::os::Fs;
use mse_auth_providers::{
    CredentialsError, CredentialsProvider, CredentialsUriProvider, EcsRamRoleProvider, ErrorKind,
    OidcRoleArnProvider, RamRoleArnProvider, StaticAccessKeyProvider,
};
use support::Cloud;

const AK: &str = "LTAI5tFaultMatrixKey";
const SECRET: &str = "fault-matrix-secret-2b7e";
const ROLE_ARN: &str = "acs:ram::123456789012:role/faults";
const IDP: &str = "acs:ram::123456789012:oidc-provider/faults";
const TOKEN_FILE: &str = "/var/run/secrets/tokens/oidc-token";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.fault-matrix.c2ln";
const ECS_ROLE: &str = "FaultMatrixRole";
const SECRET_NAME: &str = "fault-matrix-ak";
/// The AccessKey the KMS secret holds at first.
const KMS_AK: &str = "LTAI5tFaultMatrixKmsKey";
const KMS_AK_SECRET: &str = "fault-matrix-kms-ak-secret";
const KMS_ATTEMPTS: usize = 2;
/// The budget of one request: a hang costs this much real time (twice for KMS, which retries).
const BUDGET: Timeouts = Timeouts::new(Duration::from_millis(100), Duration::from_millis(200));
/// The lifetime of issued credentials (and the KMS provider's refresh interval). The background
/// refresh runs at 70–75 % of it (KMS: at 100 %); the refresh cache's load timeout (30 s, 60 s for
/// KMS) is on the manual clock too, so no single advance may pass a refresh point by that much.
const LIFETIME: Duration = Duration::from_secs(100);
/// The faults, each injected for every request of a case.
const FAULTS: [Fault; 9] = [
    Fault::Status(400),
    Fault::Status(403),
    Fault::Status(429),
    Fault::Status(500),
    Fault::Status(503),
    Fault::Hang,
    Fault::Garbage,
    Fault::MissingFields,
    Fault::Close,
];
/// `Code` and `Message` of the emulator's error bodies, by status (KMS names 429 and 503 its own way).
const UPSTREAM: [(u16, &str, &str); 5] = [
    (
        400,
        "InvalidParameter",
        "The specified parameter is not valid.",
    ),
    (
        403,
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM.",
    ),
    (
        429,
        "Throttling",
        "Request was denied due to user flow control.",
    ),
    (
        500,
        "InternalError",
        "The request processing has failed due to some unknown error.",
    ),
    (
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
    ),
];
const KMS_UPSTREAM: [(u16, &str, &str); 2] = [
    (
        429,
        "Rejected.Throttling",
        "Request was denied due to user flow control.",
    ),
    (
        503,
        "ServiceUnavailableTemporary",
        "The service is temporarily unavailable.",
    ),
];

/// The providers under test.
#[derive(Clone, Copy, Debug)]
enum Subject {
    /// STS `AssumeRole`.
    RamRoleArn,
    /// STS `AssumeRoleWithOIDC`.
    OidcRoleArn,
    /// ECS instance metadata credentials (the role name set in code).
    EcsRamRole,
    /// The credentials URI.
    CredentialsUri,
    /// KMS `GetSecretValue` of a RAM-credentials secret.
    KmsRotating,
}

const SUBJECTS: [Subject; 5] = [
    Subject::RamRoleArn,
    Subject::OidcRoleArn,
    Subject::EcsRamRole,
    Subject::CredentialsUri,
    Subject::KmsRotating,
];

/// What a failed load reports.
#[derive(Debug, PartialEq)]
struct Outcome {
    kind: ErrorKind,
    /// `to_string()` up to ` (RequestId` (request ids are random).
    text: String,
    code: Option<String>,
    status: Option<u16>,
    has_request_id: bool,
    timeout: Option<Duration>,
    /// Requests that reached the faulty endpoint.
    calls: usize,
}

impl Outcome {
    fn of(err: &CredentialsError, calls: usize) -> Outcome {
        let text = err.to_string();
        Outcome {
            kind: err.kind(),
            text: text
                .split(" (RequestId")
                .next()
                .unwrap_or_default()
                .to_owned(),
            code: err.code().map(str::to_owned),
            status: err.status(),
            has_request_id: err.request_id().is_some(),
            timeout: err.timeout(),
            calls,
        }
    }
}

impl Subject {
    /// The endpoint its credentials come from, where faults are injected.
    fn endpoint(self) -> Endpoint {
        match self {
            Subject::RamRoleArn => Endpoint::AssumeRole,
            Subject::OidcRoleArn => Endpoint::AssumeRoleWithOidc,
            Subject::EcsRamRole => Endpoint::ImdsCredentials,
            Subject::CredentialsUri => Endpoint::CredentialsUri,
            Subject::KmsRotating => Endpoint::KmsGetSecretValue,
        }
    }

    /// How far the clock must go for the cached provider's background refresh to run.
    fn refresh_point(self) -> Duration {
        match self {
            Subject::KmsRotating => LIFETIME + Duration::from_secs(1),
            _ => LIFETIME * 76 / 100,
        }
    }

    /// A cloud set up for this subject: its keys, token, role or secret.
    async fn cloud(self) -> Cloud {
        let cloud = support::cloud().await;
        let emulator = &cloud.emulator;
        emulator.set_credential_lifetime(LIFETIME);
        match self {
            Subject::RamRoleArn => emulator.add_access_key(AK, SECRET),
            Subject::OidcRoleArn => emulator.set_oidc_token(OIDC_TOKEN),
            Subject::EcsRamRole => emulator.set_imds_role(ECS_ROLE),
            Subject::CredentialsUri => {}
            Subject::KmsRotating => {
                emulator.add_access_key(AK, SECRET);
                let day = Duration::from_secs(86_400);
                emulator.kms_put_ram_secret(
                    SECRET_NAME,
                    KMS_AK,
                    KMS_AK_SECRET,
                    day,
                    cloud.now() + day,
                );
            }
        }
        cloud
    }

    /// The provider on `cloud`, inside its refresh cache or not.
    fn provider(self, cloud: &Cloud, cached: bool) -> Box<dyn CredentialsProvider> {
        let emulator = &cloud.emulator;
        let ctx = cloud.context();
        macro_rules! built {
            ($builder:expr) => {
                if cached {
                    Box::new($builder.build().expect("build"))
                } else {
                    Box::new($builder.build_uncached().expect("build"))
                }
            };
        }
        let signer = || StaticAccessKeyProvider::new(AK, SECRET).expect("static source");
        match self {
            Subject::RamRoleArn => built!(RamRoleArnProvider::builder(ROLE_ARN)
                .source(signer())
                .sts_endpoint(emulator.sts_endpoint())
                .timeouts(BUDGET)
                .context(ctx)),
            Subject::OidcRoleArn => built!(OidcRoleArnProvider::builder(ROLE_ARN, IDP, TOKEN_FILE)
                .sts_endpoint(emulator.sts_endpoint())
                .timeouts(BUDGET)
                .context(ctx.with_fs(Fs::from_pairs([(TOKEN_FILE, OIDC_TOKEN)])))),
            Subject::EcsRamRole => built!(EcsRamRoleProvider::builder()
                .metadata_endpoint(emulator.ecs_metadata_endpoint())
                .role_name(ECS_ROLE)
                .timeouts(BUDGET)
                .context(ctx)),
            Subject::CredentialsUri => {
                built!(CredentialsUriProvider::builder(emulator.credentials_uri())
                    .timeouts(BUDGET)
                    .context(ctx))
            }
            Subject::KmsRotating => {
                let kms = KmsClient::builder()
                    .endpoint(emulator.kms_endpoint())
                    .credentials(signer())
                    .timeouts(BUDGET)
                    .retry(RetryPolicy::new(
                        KMS_ATTEMPTS as u32,
                        Backoff::new(Duration::from_millis(10), Duration::from_millis(10)),
                        Duration::from_secs(5),
                    ))
                    .context(cloud.context_with_real_sleep())
                    .build()
                    .expect("kms client");
                built!(KmsRotatingProvider::builder(SECRET_NAME)
                    .kms(kms)
                    .refresh_interval(LIFETIME)
                    .max_jitter(Duration::ZERO)
                    .context(ctx))
            }
        }
    }

    /// What the uncached provider reports when every request to its endpoint meets `fault`.
    fn expected(self, fault: &Fault, cloud: &Cloud) -> Outcome {
        let emulator = &cloud.emulator;
        // The name errors carry, the RPC action, where the request went.
        let (path, action, origin) = match self {
            Subject::RamRoleArn => ("ram_role_arn", "AssumeRole", emulator.sts_endpoint()),
            Subject::OidcRoleArn => (
                "oidc_role_arn",
                "AssumeRoleWithOIDC",
                emulator.sts_endpoint(),
            ),
            Subject::EcsRamRole => ("ecs_ram_role", "", emulator.ecs_metadata_endpoint()),
            Subject::CredentialsUri => ("credentials_uri", "", emulator.base_url()),
            Subject::KmsRotating => (
                "kms_rotating/kms",
                "GetSecretValue",
                emulator.kms_endpoint(),
            ),
        };
        // STS and KMS answer POP JSON, with a RequestId the error keeps.
        let rpc = !matches!(self, Subject::EcsRamRole | Subject::CredentialsUri);
        let ecs_call = format!("getting the credentials of RAM role `{ECS_ROLE}`");
        let mut outcome = Outcome {
            kind: ErrorKind::Provider,
            text: String::new(),
            code: None,
            status: None,
            has_request_id: false,
            timeout: None,
            calls: 1,
        };
        match *fault {
            Fault::Status(status) => {
                let kms = matches!(self, Subject::KmsRotating);
                let (_, code, message) = KMS_UPSTREAM
                    .iter()
                    .filter(|_| kms)
                    .chain(&UPSTREAM)
                    .find(|(s, _, _)| *s == status)
                    .copied()
                    .expect("a status of the table");
                let said = match self {
                    Subject::EcsRamRole => format!(
                        "{ecs_call} from the metadata service at {origin} failed (also without a \
                         token)"
                    ),
                    Subject::CredentialsUri => {
                        format!("the credentials URI at {origin} did not answer HTTP 200")
                    }
                    _ => format!("{action} was refused: {message}"),
                };
                outcome.text = format!("{path}: HTTP {status}: {code}: {said}");
                outcome.code = Some(code.to_owned());
                outcome.status = Some(status);
                outcome.has_request_id = rpc;
                // The metadata GET is repeated without its token; KMS retries 429 and 5xx.
                outcome.calls = match self {
                    Subject::EcsRamRole => 2,
                    Subject::KmsRotating if status == 429 || status >= 500 => KMS_ATTEMPTS,
                    _ => 1,
                };
            }
            Fault::Hang => {
                outcome.kind = ErrorKind::TimedOut;
                outcome.timeout = Some(BUDGET.total());
                outcome.text = format!("{path}: timed out after {:?}", BUDGET.total());
                // KMS retries timeouts; the metadata GET is not repeated after one.
                outcome.calls = if matches!(self, Subject::KmsRotating) {
                    KMS_ATTEMPTS
                } else {
                    1
                };
            }
            Fault::Garbage => {
                outcome.text = match self {
                    Subject::RamRoleArn | Subject::OidcRoleArn => format!(
                        "{path}: the {action} response is not valid JSON (expected value at line 1 \
                         column 1)"
                    ),
                    Subject::EcsRamRole | Subject::CredentialsUri => {
                        format!("{path}: the credentials response is not JSON (line 1, column 1)")
                    }
                    Subject::KmsRotating => format!(
                        "{path}: the {action} response is not the expected JSON (line 1, column 1)"
                    ),
                };
            }
            Fault::MissingFields => {
                let field = match self {
                    Subject::RamRoleArn | Subject::OidcRoleArn => "Credentials",
                    Subject::EcsRamRole | Subject::CredentialsUri => "AccessKeyId",
                    Subject::KmsRotating => "SecretData",
                };
                let response = if rpc { action } else { "credentials" };
                outcome.text = format!("{path}: the {response} response lacks {field}");
                outcome.has_request_id = rpc;
            }
            Fault::Close => {
                outcome.kind = ErrorKind::Unhandled;
                outcome.text = match self {
                    Subject::EcsRamRole => format!(
                        "{path}: {ecs_call} failed: GET {origin}: request failed (also without a \
                         token)"
                    ),
                    Subject::CredentialsUri => format!("{path}: GET {origin}: request failed"),
                    _ => format!("{path}: POST {origin}: request failed"),
                };
                // Repeated without the token by the metadata provider; KMS does not retry it.
                outcome.calls = if matches!(self, Subject::EcsRamRole) {
                    2
                } else {
                    1
                };
            }
            ref other => panic!("no expectation for {other:?}"),
        }
        outcome
    }
}

/// Each fault, for each provider: the uncached provider's error, and the cached provider serving
/// its unexpired credentials while its background refresh meets the fault.
#[tokio::test]
async fn every_fault_of_every_provider_is_reported_and_survived_by_the_cache() {
    let mut mismatches = Vec::new();
    for subject in SUBJECTS {
        for fault in FAULTS {
            let case = format!("{subject:?} × {fault:?}");
            let cloud = subject.cloud().await;
            let emulator = &cloud.emulator;
            let endpoint = subject.endpoint();
            let cached = subject.provider(&cloud, true);
            let first = cached.provide_credentials().await.expect(&case);
            emulator.inject_fault(endpoint, fault.clone(), 1_000);

            let before = emulator.calls(endpoint);
            let started = Instant::now();
            let err = support::load_err(&subject.provider(&cloud, false)).await;
            let outcome = Outcome::of(&err, emulator.calls(endpoint) - before);
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{case}: took {:?}",
                started.elapsed()
            );
            let path_token = emulator
                .credentials_uri()
                .rsplit('/')
                .next()
                .map(str::to_owned);
            for secret in [
                SECRET,
                OIDC_TOKEN,
                KMS_AK_SECRET,
                &path_token.unwrap_or_default(),
            ] {
                support::assert_hides(&err, secret);
            }
            let expected = subject.expected(&fault, &cloud);
            if outcome != expected {
                mismatches.push(format!("{case}:\n  got  {outcome:?}\n  want {expected:?}"));
            }

            let before = emulator.calls(endpoint);
            cloud.advance(subject.refresh_point()).await;
            support::until(&format!("{case}: a background refresh"), async || {
                emulator.calls(endpoint) > before
            })
            .await;
            let served = cached.provide_credentials().await.expect(&case);
            assert_eq!(
                served, first,
                "{case}: the unexpired credentials are served"
            );
            assert!(first.expiration().expect("expires") > cloud.now(), "{case}");
            let issued = emulator.issued().len();
            assert!(issued <= 1, "{case}: {issued} credentials issued");
            emulator.assert_no_url_leaks();
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Without a fault, the background refresh replaces each provider's credentials at its scheduled
/// point (not before), without a caller waiting.
#[tokio::test]
async fn every_provider_refreshes_in_the_background_before_expiry() {
    for subject in SUBJECTS {
        let case = format!("{subject:?}");
        let cloud = subject.cloud().await;
        let emulator = &cloud.emulator;
        let endpoint = subject.endpoint();
        let cached = subject.provider(&cloud, true);
        let first = cached.provide_credentials().await.expect(&case);
        assert_eq!(cached.provide_credentials().await.expect(&case), first);
        if let Subject::KmsRotating = subject {
            emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
        }

        let early = subject.refresh_point() - LIFETIME / 10;
        cloud.advance(early).await;
        support::settle(200).await;
        assert_eq!(emulator.calls(endpoint), 1, "{case}: refreshed too early");
        cloud.advance(subject.refresh_point() - early).await;
        let second = support::refreshed(&cached, &first).await;
        assert_eq!(emulator.calls(endpoint), 2, "{case}");
        assert!(second.expiration().expect("expires") > first.expiration().expect("expires"));
        match subject {
            Subject::KmsRotating => assert_ne!(second.access_key_id(), KMS_AK, "{case}"),
            _ => support::assert_issued(&second, &emulator.issued()[1]),
        }
        emulator.assert_no_url_leaks();
    }
}
