"""Every provider against the local cloud emulator: what it returns, where it came from, how often
it calls upstream, its errors, and that no secret shows in a repr, a str or an exception."""

import asyncio
import datetime
import json
import os
import signal
import threading

import pytest

import mse_auth

ROLE = "acs:ram::123456789012:role/demo"
OIDC_PROVIDER = "acs:ram::123456789012:oidc-provider/ack-rrsa-demo"


def ram_role(emulator, **extra):
    return mse_auth.RamRoleArnProvider(
        role_arn=ROLE,
        access_key_id=emulator["access_key_id"],
        access_key_secret=emulator["access_key_secret"],
        sts_endpoint=emulator["sts_endpoint"],
        **extra,
    )


def assert_issued(emulator, creds):
    """`creds` is one of the credentials the emulator issued, whole."""
    matches = [c for c in emulator.issued() if c["access_key_id"] == creds.access_key_id]
    assert len(matches) == 1, "not issued by the emulator"
    issued = matches[0]
    assert creds.get_access_key_secret() == issued["access_key_secret"]
    assert creds.get_security_token() == issued["security_token"]
    assert creds.expiration == datetime.datetime.fromtimestamp(issued["expiration"], datetime.timezone.utc)


def assert_no_secret(creds, *texts):
    for text in texts:
        assert creds.access_key_secret not in text
        if creds.security_token:
            assert creds.security_token not in text
        assert creds.access_key_id not in text


def test_static_access_key_is_served_as_given_and_never_expires():
    p = mse_auth.StaticAccessKeyProvider(access_key_id="LTAI5tStaticKeyId", access_key_secret="static-s3cret")
    c = p.get_credentials()
    assert (c.get_access_key_id(), c.get_access_key_secret(), c.get_security_token()) == (
        "LTAI5tStaticKeyId",
        "static-s3cret",
        None,
    )
    assert (c.access_key_id, c.access_key_secret, c.security_token) == ("LTAI5tStaticKeyId", "static-s3cret", None)
    assert c.expiration is None
    assert c.provider_path == c.get_provider_name() == "static_ak"
    assert p.get_credentials() == c
    assert_no_secret(c, repr(c), str(c), repr(p))
    assert "LTA****yId" in repr(c)


def test_static_sts_token_keeps_its_expiration():
    at = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    p = mse_auth.StaticStsProvider(
        access_key_id="STS.StaticKeyId", access_key_secret="sts-s3cret", security_token="sts-t0ken", expiration=at
    )
    c = p.get_credentials()
    assert c.security_token == "sts-t0ken"
    assert c.expiration == at
    assert c.provider_path == "static_sts"
    assert_no_secret(c, repr(c), str(c))


def test_snapshots_are_read_only():
    c = mse_auth.StaticAccessKeyProvider(access_key_id="LTAI5tStaticKeyId", access_key_secret="x").get_credentials()
    with pytest.raises(AttributeError):
        c.access_key_id = "other"
    with pytest.raises(AttributeError):
        c.set_access_key_id("other")


def test_environment_provider_reads_the_variables(monkeypatch):
    with pytest.raises(mse_auth.NotLoadedError) as err:
        mse_auth.EnvironmentProvider().get_credentials()
    assert err.value.kind == "not_loaded"
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tFromTheEnv")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-s3cret")
    c = mse_auth.EnvironmentProvider().get_credentials()
    assert (c.access_key_id, c.access_key_secret, c.provider_path) == ("LTAI5tFromTheEnv", "env-s3cret", "env")


def test_ram_role_arn_assumes_the_role_once_and_serves_the_cache(emulator):
    p = ram_role(emulator, role_session_name="pytest", duration_seconds=900)
    c = p.get_credentials()
    assert c.provider_path == "ram_role_arn/static_ak"
    assert c.access_key_id.startswith("STS.")
    assert_issued(emulator, c)
    for _ in range(1000):
        assert p.get_credentials() == c
    assert emulator.calls("AssumeRole") == 1
    assert_no_secret(c, repr(c), str(c), repr(p))
    assert emulator["access_key_secret"] not in repr(p)


def test_roles_chain_through_another_provider(emulator):
    first = ram_role(emulator)
    second = mse_auth.RamRoleArnProvider(
        role_arn="acs:ram::123456789012:role/second", credentials_provider=first, sts_endpoint=emulator["sts_endpoint"]
    )
    c = second.get_credentials()
    assert c.provider_path == "ram_role_arn/ram_role_arn/static_ak"
    assert_issued(emulator, c)
    assert emulator.calls("AssumeRole") == 2


def test_oidc_role_arn_reads_the_token_file(emulator, tmp_path):
    token = tmp_path / "token"
    token.write_text(emulator["oidc_token"])
    p = mse_auth.OidcRoleArnProvider(
        role_arn=ROLE,
        oidc_provider_arn=OIDC_PROVIDER,
        oidc_token_file_path=str(token),
        sts_endpoint=emulator["sts_endpoint"],
    )
    c = p.get_credentials()
    assert c.provider_path == "oidc_role_arn"
    assert_issued(emulator, c)
    assert emulator.calls("AssumeRoleWithOidc") == 1


def test_oidc_with_a_wrong_token_is_a_provider_error_without_the_token(emulator, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJ.wrong-token.sig")
    p = mse_auth.OidcRoleArnProvider(
        role_arn=ROLE, oidc_provider_arn=OIDC_PROVIDER, oidc_token_file_path=str(token),
        sts_endpoint=emulator["sts_endpoint"],
    )
    with pytest.raises(mse_auth.ProviderError) as err:
        p.get_credentials()
    e = err.value
    assert e.kind == "provider" and e.code and e.status == 400
    assert e.provider_path == "oidc_role_arn"
    assert "wrong-token" not in str(e) and "wrong-token" not in repr(e.args)


def test_ecs_ram_role_uses_the_metadata_service(emulator, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
    p = mse_auth.EcsRamRoleProvider(metadata_endpoint=emulator["ecs_metadata_endpoint"])
    c = p.get_credentials()
    assert c.provider_path == "ecs_ram_role"
    assert_issued(emulator, c)
    assert emulator.calls("ImdsToken") >= 1 and emulator.calls("ImdsCredentials") == 1


def test_credentials_uri(emulator, monkeypatch):
    c = mse_auth.CredentialsUriProvider(uri=emulator["credentials_uri"]).get_credentials()
    assert c.provider_path == "credentials_uri"
    assert_issued(emulator, c)
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_URI", emulator["credentials_uri"])
    assert mse_auth.CredentialsUriProvider().get_credentials().provider_path == "credentials_uri"
    # The URI's path is a secret token: never in a repr or an error.
    token = emulator["credentials_uri"].rsplit("/", 1)[1]
    emulator.command("status CredentialsUri 500 3")
    with pytest.raises(mse_auth.CredentialsError) as err:
        mse_auth.CredentialsUriProvider(uri=emulator["credentials_uri"]).get_credentials()
    assert token not in str(err.value)


def test_kms_rotating_serves_the_secret_and_force_refresh_follows_a_rotation(emulator):
    p = mse_auth.KmsRotatingProvider(
        secret_name=emulator["secret_name"],
        access_key_id=emulator["access_key_id"],
        access_key_secret=emulator["access_key_secret"],
        kms_endpoint=emulator["kms_endpoint"],
    )
    c = p.get_credentials()
    assert c.access_key_id == emulator["secret_access_key_id"]
    assert c.provider_path == "kms_rotating/static_ak"
    assert c.security_token is None
    rotated = emulator.command(f"rotate {emulator['secret_name']}")["access_key_id"]
    assert p.get_credentials().access_key_id == emulator["secret_access_key_id"]
    assert p.force_refresh().access_key_id == rotated
    assert p.get_credentials().access_key_id == rotated
    assert emulator.calls("KmsGetSecretValue") == 2


def test_kms_rotating_without_signing_credentials_fails_at_construction():
    with pytest.raises(mse_auth.InvalidConfigurationError) as err:
        mse_auth.KmsRotatingProvider(secret_name="x", kms_endpoint="http://127.0.0.1:1")
    assert "credentials_provider" in str(err.value)


def test_ini_profile_access_key_and_role(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", emulator["sts_endpoint"])
    path = tmp_path / "credentials"
    path.write_text(
        "[default]\ntype = access_key\naccess_key_id = LTAI5tIniKeyId\naccess_key_secret = ini-s3cret\n\n"
        f"[role]\ntype = ram_role_arn\naccess_key_id = {emulator['access_key_id']}\n"
        f"access_key_secret = {emulator['access_key_secret']}\nrole_arn = {ROLE}\n"
    )
    c = mse_auth.ProfileProvider(profile_file=str(path)).get_credentials()
    assert (c.access_key_id, c.provider_path) == ("LTAI5tIniKeyId", "profile/static_ak")
    c = mse_auth.ProfileProvider(profile_file=str(path), profile_name="role").get_credentials()
    assert c.provider_path == "profile/ram_role_arn/static_ak"
    assert_issued(emulator, c)
    with pytest.raises(mse_auth.InvalidConfigurationError) as err:
        mse_auth.ProfileProvider(profile_file=str(path), profile_name="missing").get_credentials()
    assert "ini-s3cret" not in str(err.value)


def test_cli_profile_ak_and_role(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", emulator["sts_endpoint"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "current": "ak",
        "profiles": [
            {"name": "ak", "mode": "AK", "access_key_id": "LTAI5tCliKeyId", "access_key_secret": "cli-s3cret"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": emulator["access_key_id"],
             "access_key_secret": emulator["access_key_secret"], "ram_role_arn": ROLE},
        ],
    }))
    c = mse_auth.CliProfileProvider(profile_file=str(path)).get_credentials()
    assert (c.access_key_id, c.provider_path) == ("LTAI5tCliKeyId", "cli_profile/static_ak")
    c = mse_auth.CliProfileProvider(profile_file=str(path), profile_name="role").get_credentials()
    assert c.provider_path == "cli_profile/ram_role_arn/static_ak"
    assert_issued(emulator, c)


def test_default_chain_env_then_uri(emulator, monkeypatch):
    with pytest.raises(mse_auth.NotLoadedError) as err:
        mse_auth.DefaultCredentialsProvider().get_credentials()
    for name in ("env", "oidc_role_arn", "cli_profile", "profile", "ecs_ram_role", "credentials_uri"):
        assert name in str(err.value)
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_URI", emulator["credentials_uri"])
    c = mse_auth.DefaultCredentialsProvider().get_credentials()
    assert c.provider_path == "default/credentials_uri"
    assert_issued(emulator, c)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tFromTheEnv")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-s3cret")
    assert mse_auth.DefaultCredentialsProvider().get_credentials().provider_path == "default/env"


def test_default_chain_answers_with_the_kms_rotated_key(emulator, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator["access_key_id"])
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator["access_key_secret"])
    monkeypatch.setenv("ALIBABA_CLOUD_SECRET_NAME", emulator["secret_name"])
    monkeypatch.setenv("ALIBABA_CLOUD_KMS_ENDPOINT", emulator["kms_endpoint"])
    c = mse_auth.DefaultCredentialsProvider().get_credentials()
    assert (c.access_key_id, c.provider_path) == (emulator["secret_access_key_id"], "default/kms_rotating/env")


def test_a_wrong_secret_is_a_provider_error_with_the_code_and_no_secret(emulator):
    p = mse_auth.RamRoleArnProvider(
        role_arn=ROLE, access_key_id=emulator["access_key_id"], access_key_secret="wrong-s3cret-value",
        sts_endpoint=emulator["sts_endpoint"],
    )
    with pytest.raises(mse_auth.ProviderError) as err:
        p.get_credentials()
    e = err.value
    assert isinstance(e, mse_auth.CredentialsError) and isinstance(e, mse_auth.MseAuthError)
    assert (e.kind, e.code, e.status) == ("provider", "SignatureDoesNotMatch", 400)
    assert e.provider_path == "ram_role_arn"
    assert e.message and e.request_id
    for text in (str(e), repr(e), repr(e.args), e.message):
        assert "wrong-s3cret-value" not in text


def test_bad_settings_fail_at_construction():
    with pytest.raises(mse_auth.InvalidConfigurationError):
        mse_auth.StaticAccessKeyProvider(access_key_id="LTAI5tKey", access_key_secret="")
    with pytest.raises(mse_auth.InvalidConfigurationError) as err:
        mse_auth.RamRoleArnProvider(role_arn=ROLE, access_key_id="LTAI5tKey", access_key_secret="s3cret-here",
                                    sts_endpoint="http://sts.example.com")
    assert "s3cret-here" not in str(err.value)
    with pytest.raises(TypeError):
        mse_auth.RamRoleArnProvider(role_arn=ROLE, credentials_provider=object())


def test_a_slow_upstream_is_waited_for_once_by_every_caller(emulator):
    emulator.command("delay CredentialsUri 2000 1")
    p = mse_auth.CredentialsUriProvider(uri=emulator["credentials_uri"])
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(p.get_credentials())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(seen) == 4 and len(set(c.access_key_id for c in seen)) == 1
    assert emulator.calls("CredentialsUri") == 1
    assert issubclass(mse_auth.TimedOutError, mse_auth.CredentialsError)
    assert issubclass(mse_auth.TimedOutError, TimeoutError)


def test_asyncio_callers_share_one_load_and_warm_calls_are_done_futures(emulator):
    p = ram_role(emulator)

    async def main():
        cold = await asyncio.gather(*(p.get_credentials_async() for _ in range(200)))
        warm = p.get_credentials_async()
        assert warm.done()
        return cold, await warm

    cold, warm = asyncio.run(main())
    assert all(c == warm for c in cold)
    assert emulator.calls("AssumeRole") == 1


def test_async_errors_are_raised_in_the_awaiting_task(emulator):
    p = mse_auth.RamRoleArnProvider(role_arn=ROLE, access_key_id=emulator["access_key_id"],
                                    access_key_secret="wrong", sts_endpoint=emulator["sts_endpoint"])

    async def main():
        with pytest.raises(mse_auth.ProviderError):
            await p.get_credentials_async()

    asyncio.run(main())


def test_the_sync_getter_works_inside_a_coroutine(emulator):
    p = ram_role(emulator)

    async def main():
        return p.get_credentials(), p.get_credentials()

    first, second = asyncio.run(main())
    assert first == second


def test_threads_share_one_load(emulator):
    p = ram_role(emulator)
    seen, errors = [], []
    start = threading.Barrier(8)

    def reader():
        start.wait(10)
        try:
            for _ in range(500):
                seen.append(p.get_credentials().access_key_id)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(seen) == 4000 and len(set(seen)) == 1
    assert emulator.calls("AssumeRole") == 1


def test_background_refresh_replaces_credentials_before_they_expire(emulator):
    """With 20-second credentials the cache refreshes at 70-75 % of the lifetime in the
    background; readers keep being served (never an error, never an expired key) and then see the
    new key. Bounded: at most 40 s of polling."""
    emulator.command("lifetime 20")
    emulator.command("delay AssumeRole 500 5")
    p = ram_role(emulator)
    first = p.get_credentials()
    seen = first
    deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=40)
    while seen == first and datetime.datetime.now(datetime.timezone.utc) < deadline:
        seen = p.get_credentials()
        assert seen.expiration > datetime.datetime.now(datetime.timezone.utc)
        threading.Event().wait(0.05)
    assert seen != first, "no refresh within 40 s"
    assert emulator.calls("AssumeRole") == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_rebuilds_its_providers(emulator):
    p = ram_role(emulator)
    parent = p.get_credentials()
    pid = os.fork()
    if pid == 0:  # the child: a runtime of its own, a new load
        signal.alarm(30)
        try:
            child = p.get_credentials()
            ok = child.provider_path == "ram_role_arn/static_ak" and child != parent
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert p.get_credentials() == parent
    assert emulator.calls("AssumeRole") == 2
