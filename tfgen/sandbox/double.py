"""The local AWS double: moto's server as a child process on a loopback port.

`AwsDouble` starts `moto_server` on 127.0.0.1 (a free port chosen by the OS
unless one is given), waits until it answers, hands out boto3 clients bound to
it, and always stops the process it started: on `stop()`, when the `with`
block ends for any reason, and, on Linux, when tfgen itself dies (the child
asks the kernel for SIGTERM when its parent goes away).

The double holds many AWS accounts: moto takes a request's account from its
credentials, and STS AssumeRole of a role ARN in an account hands out
credentials of that account (the role need not exist: moto's documented way to
switch accounts). `credentials(account)` are those, for terraform and boto3
alike; the dummy `CREDENTIALS` are moto's default account, `ACCOUNT`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import ToolchainError
from ..terraform.run import die_with_parent

__all__ = ["AwsDouble", "DoubleStopped", "CREDENTIALS", "ACCOUNT", "die_with_parent"]

CREDENTIALS = {"aws_access_key_id": "tfgen-sandbox", "aws_secret_access_key": "tfgen-sandbox"}
# moto's default account: requests with credentials it did not hand out act in it.
ACCOUNT = "123456789012"
_ROLE = "tfgen-sandbox"  # the role whose assumption switches accounts
_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


class DoubleStopped(ToolchainError):
    """The double died during a run (the reason names the terraform it stopped)."""


class AwsDouble:
    """A moto_server child process serving every AWS region at one local endpoint."""

    def __init__(self, workdir: str | Path, *, port: int = 0, start_timeout: float = 30.0):
        self.workdir = Path(workdir)
        self.requested_port = port
        self.start_timeout = start_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.log = self.workdir / "moto_server.log"
        self._clients: dict[tuple[str, str, str], object] = {}
        self._clients_lock = threading.Lock()  # boto3 makes clients unsafely from several threads at once
        self._credentials: dict[str, dict[str, str]] = {ACCOUNT: dict(CREDENTIALS)}

    @property
    def endpoint(self) -> str:
        """The URL every provider and boto3 client talks to."""
        if self.port is None:
            raise ToolchainError("the AWS double is not running; start it first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        """True while the process started here is running."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> "AwsDouble":
        """Start moto_server and wait until it answers; raises ToolchainError when it cannot."""
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
            raise ToolchainError("the local AWS double needs moto[server]; install tfgen-fleet[sandbox]")
        if self.requested_port and not _port_free(self.requested_port):
            raise ToolchainError(
                f"port {self.requested_port} on 127.0.0.1 is already in use; "
                "choose another port or leave it out to take a free one"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        # moto 5 leaves out AWS-managed IAM policies unless asked; EKS roles attach them.
        env.update(MOTO_IAM_LOAD_MANAGED_POLICIES="true", PYTHONUNBUFFERED="1")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tfgen.sandbox.moto_boot", "-H", "127.0.0.1", "-p", str(self.requested_port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=die_with_parent,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ToolchainError(
                    f"the local AWS double (moto_server) exited at start-up:\n{self._log_tail()}\n"
                    "  fix: check that tfgen-fleet[sandbox] is installed completely"
                )
            if self.port is None:
                match = _LISTENING.search(self.log.read_text(errors="replace"))
                self.port = int(match.group(1)) if match else None
            if self.port is not None and self._answers():
                return
            time.sleep(0.05)
        raise ToolchainError(
            f"the local AWS double did not answer within {self.start_timeout:.0f} s:\n{self._log_tail()}"
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "  (no log)"
        return "\n".join(f"  | {line}" for line in text[-lines:]) or "  (empty log)"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL); safe to call twice."""
        process, self.process = self.process, None
        self._clients.clear()
        self._credentials = {ACCOUNT: dict(CREDENTIALS)}
        if process is None:
            return
        if process.poll() is None:
            try:
                process.terminate()
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            except ProcessLookupError:
                pass

    def reset(self) -> None:
        """Forget every resource the double holds (back to default VPCs), and the credentials it handed out."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        with self._clients_lock:
            self._clients.clear()
            self._credentials = {ACCOUNT: dict(CREDENTIALS)}

    def credentials(self, account: str = ACCOUNT) -> dict[str, str]:
        """boto3's credentials (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`) that act in
        `account`, asked of the double's STS once."""
        with self._clients_lock:
            known = self._credentials.get(account)
        if known is None:
            answer = self.client("sts", "us-east-1").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{_ROLE}", RoleSessionName=_ROLE)["Credentials"]
            known = {"aws_access_key_id": answer["AccessKeyId"], "aws_secret_access_key": answer["SecretAccessKey"],
                     "aws_session_token": answer["SessionToken"]}
            with self._clients_lock:
                known = self._credentials.setdefault(account, known)
        return known

    def client(self, service: str, region: str, account: str = ACCOUNT):
        """A boto3 client for `service` in `region` of `account`, bound to the double."""
        credentials = self.credentials(account)
        key = (service, region, account)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(service, region, credentials)
            return self._clients[key]

    def _new_client(self, service: str, region: str, credentials: dict[str, str]):
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, region_name=region, endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=60),
            **credentials,
        )

    def __enter__(self) -> "AwsDouble":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def describe(self) -> str:
        """`moto <version> at <endpoint> (pid N)`."""
        from importlib.metadata import version

        return f"moto {version('moto')} at {self.endpoint} (pid {self.pid})"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
