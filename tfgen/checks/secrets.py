"""The one secret detector: what reads as a credential, for `validate` and for the policy gate.

`validate` (VAL110, the spec's tags) and the policies (CKV_TFGEN_8 user data and
tags, CKV_TFGEN_12 default_tags, TFGEN_9 outputs) ask these two functions, so a
value that fails one passes neither. A `${...}` reference is never a secret: it
points at a secret store or a generated value (read by the one reference grammar,
`tfgen.terraform.references`), nor is a Secrets Manager secret's ARN.
"""

from __future__ import annotations

import re

from ..terraform.references import parse

__all__ = ["looks_secret", "secret_tag", "SECRET_NAME"]

# Credentials recognisable by their shape wherever they appear: AWS access key ids, PEM private
# keys, GitHub tokens (classic and fine-grained) and Slack tokens.
_CREDENTIAL = (
    r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"
    r"|\bxox[abeprs]-[A-Za-z0-9-]{10,}"
)
# A name that says its value is a secret.
SECRET_NAME = re.compile(r"pass(?:word|wd|phrase)|\bpwd\b|secret|token|private[_ -]?key|api[_ -]?key|credential",
                         re.IGNORECASE)
# A secret-named thing assigned a literal (not a reference) in free text: `password = hunter2hunter2`.
_ASSIGNMENT = (
    r"(?i:pass(?:word|wd|phrase)|pwd|secret(?:[_-]?(?:access[_-]?)?key)?|(?:access|auth|session)?[_-]?token"
    r"|api[_-]?key|credentials?)[\"']?\s*[:=]\s*[\"']?(?!\$\{)[^\s\"'$]{8,}"
)
_SECRET = re.compile(f"{_CREDENTIAL}|{_ASSIGNMENT}")


# A secret store's address, like a `${...}` reference: `arn:aws:secretsmanager:<region>:<account>:secret:<name>`.
_SECRET_STORE = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]*:[0-9]*:secret:[A-Za-z0-9/_+=.@-]+")


def looks_secret(text: str) -> bool:
    """Whether `text` holds something that reads as a credential (a key id, a private key, a token,
    a literal assigned to a secret-named key); a Secrets Manager secret's ARN names a store, not a secret."""
    return isinstance(text, str) and bool(_SECRET.search(_SECRET_STORE.sub("", text)))


def secret_tag(key, value) -> bool:
    """Whether a tag (or label) `key: value` holds a secret: either looks like one, or the key says
    it is a secret and the value is a literal."""
    key, value = str(key), "" if value is None else str(value)
    if looks_secret(key) or looks_secret(value):
        return True
    return bool(SECRET_NAME.search(key)) and not parse(value.strip()).is_interpolation
