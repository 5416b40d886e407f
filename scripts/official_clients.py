"""The official Python credentials client against `mse-auth emulator` (run by official_clients.sh).

The environment holds the variables the emulator printed (as a user who pasted its exports has
them). The client reads ALIBABA_CLOUD_CREDENTIALS_URI itself, at import; the STS endpoint it is told
explicitly, as it does not read ALIBABA_CLOUD_STS_ENDPOINT (spec §18.12) and takes `http://host:port`
there (§18.9).

Each check gets credentials through the official client and verifies that they are the emulator's:
an `STS.` id, a secret and a security token, and, used as the source of an AssumeRole (which the
emulator accepts only for keys it issued, with their exact secret and token), accepted. The requests
sent per endpoint and the checks passed and failed are written as JSON to the file given as the only
argument, for the caller to compare with the counts the emulator prints when it stops. Prints no
secret; exits 1 on any failure.
"""

import json
import logging
import os
import stat
import sys

from alibabacloud_credentials.client import Client
from alibabacloud_credentials.models import Config

SESSION = "official-python"
# A policy with spaces: the Python signer encodes a space as `+` (quote_plus) where RPC v1 wants
# `%20`, so its signature is not the one STS computes (spec §2.4) and the call must be refused.
POLICY_WITH_SPACES = (
    '{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}'
)

env = os.environ
sent = {}
results = []


def count(endpoint):
    """One request to `endpoint`: the official client sends one per refresh and never retries."""
    sent[endpoint] = sent.get(endpoint, 0) + 1


def check(name, fn):
    try:
        detail = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal to the rest
        results.append(False)
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"FAILED {name}: {type(e).__name__}: {message[:300]}")
    else:
        results.append(True)
        print(f"ok     {name}: {detail}")


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def masked(access_key_id):
    return access_key_id[:7] + "****"


def expect_issued(cred, provider_name):
    """Credentials shaped as the emulator issues them, from the expected provider."""
    expect(cred.provider_name == provider_name, f"provider {cred.provider_name!r}")
    expect(cred.access_key_id and cred.access_key_id.startswith("STS."), "an STS. AccessKeyId")
    expect(cred.access_key_secret, "an AccessKeySecret")
    expect(cred.security_token and cred.security_token.startswith("CAIS"), "a security token")


def ram_role(access_key_id, access_key_secret, security_token=None, policy=None):
    """AssumeRole of the printed role (signed GET, everything in the query)."""
    config = Config(
        type="ram_role_arn",
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        security_token=security_token,
        role_arn=env["ALIBABA_CLOUD_ROLE_ARN"],
        role_session_name=SESSION,
        policy=policy,
        sts_endpoint=env["ALIBABA_CLOUD_STS_ENDPOINT"],
    )
    count("AssumeRole")
    return Client(config).get_credential()


def expect_accepted_as_source(cred):
    """The emulator's STS accepts `cred` as an AssumeRole source: it issued exactly this triple."""
    assumed = ram_role(cred.access_key_id, cred.access_key_secret, cred.security_token)
    expect_issued(assumed, "ram_role_arn/static_sts")
    expect(assumed.access_key_id != cred.access_key_id, "a new AccessKeyId")


def oidc():
    token_file = env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]
    mode = stat.S_IMODE(os.stat(token_file).st_mode)
    expect(mode == 0o600, f"token file mode {mode:o}, not 600")
    config = Config(
        type="oidc_role_arn",
        role_arn=env["ALIBABA_CLOUD_ROLE_ARN"],
        oidc_provider_arn=env["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"],
        oidc_token_file_path=token_file,
        role_session_name=SESSION,
        sts_endpoint=env["ALIBABA_CLOUD_STS_ENDPOINT"],
    )
    count("AssumeRoleWithOidc")
    cred = Client(config).get_credential()
    expect_issued(cred, "oidc_role_arn")
    expect_accepted_as_source(cred)
    return f"{masked(cred.access_key_id)}, accepted by STS as a source"


def credentials_uri():
    # No URI in the config: the client takes ALIBABA_CLOUD_CREDENTIALS_URI from the environment.
    count("CredentialsUri")
    cred = Client(Config(type="credentials_uri")).get_credential()
    expect_issued(cred, "credential_uri")
    expect_accepted_as_source(cred)
    return f"{masked(cred.access_key_id)}, accepted by STS as a source"


def ram_role_arn():
    cred = ram_role(env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
    expect_issued(cred, "ram_role_arn/static_ak")
    return f"{masked(cred.access_key_id)} from the printed AccessKey"


def policy_with_spaces_is_refused():
    # The client logs the refusal (three times, spec §18.11): keep it out of this output.
    logging.disable(logging.CRITICAL)
    try:
        ram_role(
            env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
            env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            policy=POLICY_WITH_SPACES,
        )
    except Exception as e:  # noqa: BLE001 - the refusal is what this check wants
        expect("SignatureDoesNotMatch" in str(e), f"SignatureDoesNotMatch, not {str(e)[:200]}")
        return "SignatureDoesNotMatch, as from STS (spec §2.4)"
    finally:
        logging.disable(logging.NOTSET)
    raise AssertionError("accepted a signature STS does not compute")


def compare_calls(results_file, emulator_stderr):
    """Exit 0 when the emulator counted exactly the requests the checks sent, endpoint by endpoint."""
    with open(results_file) as f:
        expected = json.load(f)["sent"]
    counted = {}
    with open(emulator_stderr) as f:
        for line in f:
            name, _, n = line.strip().partition(": ")
            if n.isdigit():
                counted[name] = int(n)
    if not counted:
        sys.exit("the emulator printed no call counts")
    wrong = [
        f"{name}: sent {expected.get(name, 0)}, counted {counted.get(name, 0)}"
        for name in sorted(set(expected) | set(counted))
        if expected.get(name, 0) != counted.get(name, 0)
    ]
    if wrong:
        sys.exit("; ".join(wrong))
    print(", ".join(f"{name} {n}" for name, n in sorted(expected.items())))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare-calls":
        compare_calls(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 2:
        sys.exit(
            "usage: official_clients.py RESULTS_FILE\n"
            "       official_clients.py compare-calls RESULTS_FILE EMULATOR_STDERR"
        )
    check("oidc_role_arn", oidc)
    check("credentials_uri", credentials_uri)
    check("ram_role_arn", ram_role_arn)
    check("ram_role_arn, a policy with spaces", policy_with_spaces_is_refused)
    failed = results.count(False)
    with open(sys.argv[1], "w") as f:
        json.dump({"sent": sent, "passed": len(results) - failed, "failed": failed}, f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
