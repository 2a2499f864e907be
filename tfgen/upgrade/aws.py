"""Each environment's AWS credentials, as its providers deploy with them, for reading its clusters through EKS.

A build's providers assume the environment's `assume_role` (`tfgen.emit.root`,
with a session name of their own); the clusters an apply made are read with
the same role, read back from the root's providers.tf.json so what is checked
is what was applied. One session per environment (AssumeRole once, cached, a
denial too); an environment without `assume_role` uses boto3's default chain,
as its providers do. What cannot be had (no credentials, AssumeRole denied) is
an `AccessError` naming the environment and the role, never a pass.
`connect` (service, region, credentials or None for the default chain -> a
boto3 client) is how tests give recorded responses (botocore's Stubber).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["AccessError", "Access", "EnvironmentSessions", "provider_access", "default_connect", "sts_region"]

Connect = Callable[[str, str, "dict[str, str] | None"], Any]
# AssumeRole is asked of STS in the role's partition (a commercial endpoint knows no GovCloud or China role),
# in a region every account of that partition has enabled
_STS_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1",
                "aws-iso": "us-iso-east-1", "aws-iso-b": "us-isob-east-1"}


def sts_region(role_arn: str) -> str:
    """Where to ask STS to assume `role_arn`: its partition's first region (us-east-1 for `arn:aws:`)."""
    partition = role_arn.split(":", 2)[1] if role_arn.count(":") >= 2 else "aws"
    return _STS_REGIONS.get(partition, _STS_REGIONS["aws"])


class AccessError(Exception):
    """An environment's credentials could not be had: `no_credentials` when none exist at all."""

    def __init__(self, message: str, *, no_credentials: bool = False) -> None:
        super().__init__(message)
        self.no_credentials = no_credentials


@dataclass(frozen=True)
class Access:
    """What a root's provider for one region deploys with: the role it assumes (None: the default chain)."""

    role_arn: str | None = None
    session_name: str = "tfgen"


def provider_access(out: Path, root: str, region: str) -> Access:
    """The `assume_role` of `root`'s AWS provider for `region`, as the build wrote it in providers.tf.json."""
    path = Path(out) / root / "providers.tf.json"
    try:
        providers = json.loads(path.read_text()).get("provider", {}).get("aws", [])
    except (OSError, ValueError) as exc:
        raise AccessError(f"{path}: cannot read the providers the build wrote ({exc}); fix: build again") from exc
    for provider in providers if isinstance(providers, list) else [providers]:
        if provider.get("region") == region:
            role = provider.get("assume_role") or {}
            if isinstance(role, list):
                role = role[0] if role else {}
            return Access(role.get("role_arn"), role.get("session_name") or "tfgen")
    raise AccessError(f"{path}: no AWS provider for {region}; fix: build again")


def default_connect() -> Connect | None:
    """Clients from boto3's default credential chain; None without boto3 or without any credentials."""
    try:
        import boto3
    except ImportError:
        return None
    session = boto3.Session()
    if session.get_credentials() is None:
        return None

    def connect(service: str, region: str, credentials: dict[str, str] | None) -> Any:
        return session.client(service, region_name=region, **(credentials or {}))

    return connect


class EnvironmentSessions:
    """EKS clients per environment with that environment's credentials; AssumeRole once per environment."""

    def __init__(self, connect: Connect | None) -> None:
        self._connect = connect
        self._credentials: dict[str, dict[str, str] | None | AccessError] = {}
        self._clients: dict[tuple[str, str], Any] = {}

    def credentials(self, environment: str, access: Access) -> dict[str, str] | None:
        """`environment`'s keys (None: the default chain, for an environment without a role); AccessError when
        there are none or AssumeRole is refused (remembered: the role is asked once)."""
        if environment not in self._credentials:
            self._credentials[environment] = self._assume(environment, access)
        known = self._credentials[environment]
        if isinstance(known, AccessError):
            raise known
        return known

    def client(self, environment: str, access: Access, service: str, region: str) -> Any:
        """A `service` client in `region` acting as `environment` deploys."""
        credentials = self.credentials(environment, access)
        key = (environment, f"{service}/{region}")
        if key not in self._clients:
            assert self._connect is not None  # credentials() raised without it
            self._clients[key] = self._connect(service, region, credentials)
        return self._clients[key]

    def _assume(self, environment: str, access: Access) -> dict[str, str] | None | AccessError:
        if self._connect is None:
            return AccessError(f"{environment}: no AWS credentials (boto3's default chain found none, or boto3 "
                               f"is missing: pip install 'tfgen-fleet[sandbox]')", no_credentials=True)
        if not access.role_arn:
            return None
        try:
            keys = self._connect("sts", sts_region(access.role_arn), None).assume_role(
                RoleArn=access.role_arn, RoleSessionName=access.session_name)["Credentials"]
        except Exception as exc:  # botocore's errors: AccessDenied, expired tokens, no network
            return AccessError(f"{environment}: AssumeRole into {access.role_arn} failed ({type(exc).__name__}: "
                               f"{exc}); fix: let these credentials assume the role the environment's providers "
                               f"assume, or run where they can")
        return {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
                "aws_session_token": keys["SessionToken"]}
