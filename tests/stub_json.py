"""JSON for the stub executables (tests/orchestrate_stub/terraform, tests/bootstrap_stubs.py), through json's C
half: `import json` imports re, which costs a stub run as much as all its own work, and the fast tier starts the
stubs about two thousand times. The stubs' launchers run this module's code before the stub's. Writes the text
json.dumps writes; reads what the stubs and the tests write (valid JSON; nothing after the value is checked)."""

import _json

_encode = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)


class _Reading:
    """The settings json.JSONDecoder hands the C scanner."""

    strict, object_hook, object_pairs_hook, parse_float, parse_int, parse_constant = True, None, None, float, int, float


_scan = _json.make_scanner(_Reading())


def dumps(value) -> str:
    return "".join(_encode(value, 0))


def loads(text: str):
    try:
        return _scan(text.strip(), 0)[0]
    except StopIteration:
        raise ValueError(f"not JSON: {text[:80]!r}") from None


def load(path: str):
    with open(path) as file:
        return loads(file.read())


def dump(value, path: str) -> None:
    with open(path, "w") as file:
        file.write(dumps(value))
