"""How the bootstrap writes data into its script and its registration object: JSON no template can read.

`encode` writes deterministic one-line JSON (keys sorted) with `{` and `}` inside
strings as `\\u007b`/`\\u007d`, so no value can form `${`, `%{` (Terraform) or `{{`
(SSM parameters); `json_list` makes a v1 List of manifests, one per line;
`heredoc` writes data into a file of the script's work directory with a quoted
heredoc (`<<'TFGEN_DATA'`), in which the shell expands nothing.
"""

from __future__ import annotations

import json

from .errors import BootstrapError

__all__ = ["encode", "json_list", "heredoc", "DELIMITER"]

DELIMITER = "TFGEN_DATA"
# What `json.dumps(text, ensure_ascii=True)` calls for a str, without the encoder object it makes per call.
_ascii = json.encoder.encode_basestring_ascii


def encode(value) -> str:
    """Deterministic one-line JSON; `{`/`}` inside strings as \\u escapes (no `${`, `%{`, `{{` can form)."""
    if isinstance(value, str):
        return _ascii(value).replace("{", "\\u007b").replace("}", "\\u007d")
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise BootstrapError(f"mapping keys must be strings: {sorted(map(repr, value))[:3]}")
        return "{" + ", ".join(f"{encode(k)}: {encode(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(encode(item) for item in value) + "]"
    if value is None or isinstance(value, (bool, int, float)):
        try:
            return json.dumps(value, allow_nan=False)
        except ValueError:
            raise BootstrapError(f"value {value!r} is not a finite number; JSON has no NaN or infinity") from None
    raise BootstrapError(f"value {value!r} of type {type(value).__name__} cannot be written as JSON")


def json_list(manifests: list[dict]) -> str:
    """A v1 List, one manifest per line (kubectl applies a List as its items)."""
    items = ",\n".join(encode(m) for m in manifests)
    return '{"apiVersion": "v1", "kind": "List", "items": [\n' + items + "\n]}"


def heredoc(path: str, body: str) -> str:
    """Shell that writes `body` to `${WORK}/<path>`, expanding nothing in it."""
    lines = body.splitlines()
    if DELIMITER in lines:
        raise BootstrapError(f"data for {path} contains the line {DELIMITER}")
    return f"cat > \"${{WORK}}/{path}\" <<'{DELIMITER}'\n" + "".join(line + "\n" for line in lines) + DELIMITER
