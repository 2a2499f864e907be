"""THE reference grammar: Terraform JSON string templates and the references in them.

In Terraform JSON a string in an argument is a template: literal text,
`${ expression }` interpolations and `%{ ... }` directives; `$${` and `%%{` are
a literal `${` and `%{` (a shell script's own `${HOME}` is written `$${HOME}`).
An expression names objects by *references*: `aws_vpc.hub.id`, `data.x.y.z`,
`module.m.out`, `var.x`, `local.x`, `each.key`, `count.index`, `path.module`,
`terraform.workspace`, `self.x`, each followed by an attribute path of names,
indexes (`[0]`, `["k"]`) and splats (`[*]`, `.*`):
`aws_eks_cluster.x.identity[0].oidc[0].issuer`. A name followed by `(` is a
function call (`jsonencode(...)`, `provider::aws::arn_parse(...)`), not a
reference; the names a `for` binds are not references either.

`parse(text)` gives a `Template` (cached: a root repeats a few thousand
strings); `references(value)` every reference in any JSON value; `rewrite`
replaces references where they are written, leaving everything else as it is.
Nothing here raises on malformed text: an interpolation that never closes is
literal text and the template says it is `malformed`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, NamedTuple

__all__ = ["SPLAT", "Key", "Reference", "Interpolation", "Template", "parse", "parse_expression", "references",
           "rewrite", "provider_alias"]

SPLAT = "*"
# Roots whose first attribute is part of what is referred to (`var.x`, `each.value`).
NAMED_ROOTS = frozenset({"var", "local", "module", "each", "count", "path", "terraform"})
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if", "else", "endif", "endfor"})
# A traversal and nothing else (`aws_eks_cluster.x.identity[0].oidc`), most of what roots hold: read at once.
_TRAVERSAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\.[0-9]+|\[[0-9]+\])+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*|[0-9]+")
_DELIMITER = re.compile(r'["{}]')
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<punct>\.\.\.|::|=>|==|!=|<=|>=|&&|\|\||[^\sA-Za-z0-9_"])
""", re.VERBOSE)


class Key(str):
    """A string index in an attribute path (`["k"]`), told apart from an attribute name."""

    __slots__ = ()


class Reference(NamedTuple):
    """One reference as written in a template.

    `kind` is `resource`, `data`, `module`, `var`, `local`, `each`, `count`,
    `path`, `terraform` or `self`; `address` what it names (`aws_vpc.hub`,
    `data.aws_x.y`, `module.m`, `var.x`, `each.key`, `self`); `path` the steps
    after it (names, int indexes, `Key` indexes, `SPLAT`); `text` the reference
    as written, at `start:end` of the template.
    """

    kind: str
    address: str
    path: tuple[str | int, ...]
    text: str
    start: int
    end: int

    @property
    def type(self) -> str:
        """The resource or data source type (`aws_vpc`), else ""."""
        if self.kind == "data":
            return self.address.split(".")[1]
        return self.address.split(".")[0] if self.kind == "resource" else ""

    @property
    def path_text(self) -> str:
        """The path written canonically: `.identity[0].oidc[0].issuer`."""
        return "".join(f"[{step}]" if isinstance(step, int) or step == SPLAT else
                       f'["{step}"]' if isinstance(step, Key) else f".{step}" for step in self.path)


class Interpolation(NamedTuple):
    """A `${...}` interpolation (or a `%{...}` directive) at `start:end` of its template."""

    start: int
    end: int
    expression: str
    references: tuple[Reference, ...]
    functions: tuple[str, ...]
    directive: bool = False


class Template(NamedTuple):
    """A string read as a Terraform template: literal parts (escapes resolved) and interpolations, in order."""

    text: str
    parts: tuple[str | Interpolation, ...]
    malformed: bool = False

    @property
    def interpolations(self) -> tuple[Interpolation, ...]:
        return tuple(p for p in self.parts if isinstance(p, Interpolation))

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(r for p in self.interpolations for r in p.references)

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(f for p in self.interpolations for f in p.functions)

    @property
    def literal(self) -> str:
        """The text the template keeps as written (interpolations and directives left out, escapes resolved)."""
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def is_literal(self) -> bool:
        """Whether the string is plain text (no interpolation or directive)."""
        return not self.interpolations

    @property
    def is_interpolation(self) -> bool:
        """Whether the whole string is one `${...}` (whitespace around it aside)."""
        inner = [p for p in self.parts if not (isinstance(p, str) and not p.strip())]
        return len(inner) == 1 and isinstance(inner[0], Interpolation) and not inner[0].directive

    @property
    def sole_reference(self) -> Reference | None:
        """The reference when the whole string is `${<one reference>}` and nothing else."""
        if len(self.parts) != 1 or not self.is_interpolation:
            return None
        (part,) = self.parts
        if len(part.references) == 1 and part.expression.strip().strip("~").strip() == part.references[0].text:
            return part.references[0]
        return None


# -- scanning --------------------------------------------------------------------------------


def _string_end(text: str, i: int) -> int:
    """The index after the closing quote of a quoted string whose content starts at `i`, or -1."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c in "$%" and text.startswith(c + c + "{", i):
            i += 3
        elif c in "$%" and text.startswith("{", i + 1):
            close = _close(text, i + 2)
            if close < 0:
                return -1
            i = close + 1
        else:
            i += 1
    return -1


def _close(text: str, i: int) -> int:
    """The index of the `}` that closes an interpolation whose expression starts at `i`, or -1."""
    depth = 0
    while True:
        found = _DELIMITER.search(text, i)
        if found is None:
            return -1
        i, c = found.start(), found.group()
        if c == '"':
            i = _string_end(text, i + 1)
            if i < 0:
                return -1
            continue
        if c == "{":
            depth += 1
        elif depth == 0:
            return i
        else:
            depth -= 1
        i += 1


class _Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int


def _tokens(expression: str) -> list[_Token]:
    found, i, n = [], 0, len(expression)
    while i < n:
        if expression[i] == '"':
            end = _string_end(expression, i + 1)
            end = n if end < 0 else end
            found.append(_Token("string", expression[i:end], i, end))
            i = end
            continue
        match = _TOKEN.match(expression, i)
        kind = match.lastgroup if match else "punct"
        end = match.end() if match else i + 1
        if kind != "space":
            found.append(_Token(kind, expression[i:end], i, end))
        i = end
    return found


def _steps(tokens: list[_Token], i: int) -> tuple[list[str | int], int]:
    """The attribute path starting at token `i`: its steps and the index of the first token after it."""
    steps: list[str | int] = []
    while i < len(tokens):
        token = tokens[i]
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.text == "." and after is not None:
            if after.kind == "name":
                steps.append(after.text)
            elif after.kind == "number" and after.text.isdigit():
                steps.append(int(after.text))
            elif after.text == "*":
                steps.append(SPLAT)
            else:
                break
            i += 2
        elif token.text == "[" and after is not None and i + 2 < len(tokens) and tokens[i + 2].text == "]":
            if after.kind == "number" and after.text.isdigit():
                steps.append(int(after.text))
            elif after.text == "*":
                steps.append(SPLAT)
            elif after.kind == "string" and "${" not in after.text and "%{" not in after.text:
                steps.append(Key(after.text[1:-1]))
            else:
                break
            i += 3
        else:
            break
    return steps, i


def _classify(root: str, steps: list[str | int]) -> tuple[str, str, int] | None:
    """(kind, address, how many steps the address takes) of a traversal from `root`, or None."""
    names = 0
    for step in steps:
        if not isinstance(step, str) or isinstance(step, Key) or step == SPLAT:
            break
        names += 1
    if root == "self":
        return "self", "self", 0
    if root == "data":
        return ("data", f"data.{steps[0]}.{steps[1]}", 2) if names >= 2 else None
    if root in NAMED_ROOTS:
        return (root, f"{root}.{steps[0]}", 1) if names >= 1 else None
    return ("resource", f"{root}.{steps[0]}", 1) if names >= 1 else None


def _expression(expression: str, offset: int, bound: set[str]) -> tuple[list[Reference], list[str]]:
    """References and function names in one expression; `bound` collects (and skips) the names `for` binds."""
    if _TRAVERSAL.fullmatch(expression):
        words = _WORD.findall(expression)
        steps: list[str | int] = [int(w) if w.isdigit() else w for w in words[1:]]
        classified = None if words[0] in _KEYWORDS or words[0] in bound else _classify(words[0], steps)
        if classified is None:
            return [], []
        kind, address, taken = classified
        return [Reference(kind, address, tuple(steps[taken:]), expression, offset, offset + len(expression))], []
    tokens = _tokens(expression)
    found: list[Reference] = []
    functions: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "string":
            inner = _parse(token.text[1:-1] if token.text.endswith('"') and len(token.text) > 1 else token.text[1:],
                           offset + token.start + 1, bound)
            found.extend(r for p in inner[0] if isinstance(p, Interpolation) for r in p.references)
            functions.extend(f for p in inner[0] if isinstance(p, Interpolation) for f in p.functions)
            i += 1
            continue
        if token.kind != "name" or (i and tokens[i - 1].text in (".", "::")):
            i += 1
            continue
        after = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if after in ("(", "::"):
            j = i
            while j + 2 < len(tokens) and tokens[j + 1].text == "::" and tokens[j + 2].kind == "name":
                j += 2
            if j + 1 < len(tokens) and tokens[j + 1].text == "(":
                functions.append(expression[token.start:tokens[j].end])
            i = j + 1
            continue
        if token.text == "for":
            j = i + 1
            while j < len(tokens) and tokens[j].text != "in":
                if tokens[j].kind == "name":
                    bound.add(tokens[j].text)
                j += 1
            i = j + 1
            continue
        if token.text in _KEYWORDS or token.text in bound:
            i += 1
            continue
        steps, j = _steps(tokens, i + 1)
        classified = _classify(token.text, steps)
        if classified is None:
            i += 1
            continue
        kind, address, taken = classified
        # A step that did not parse stops the path: tokens up to it belong to the reference.
        end = tokens[j - 1].end if j > i + 1 else token.end
        found.append(Reference(kind, address, tuple(steps[taken:]), expression[token.start:end],
                               offset + token.start, offset + end))
        i = j
    return found, functions


def _parse(text: str, offset: int, bound: set[str]) -> tuple[tuple[str | Interpolation, ...], bool]:
    parts: list[str | Interpolation] = []
    literal: list[str] = []
    i, n, malformed = 0, len(text), False
    while i < n:
        dollar, percent = text.find("${", i), text.find("%{", i)
        found = [k for k in (dollar, percent) if k >= 0]
        if not found:
            literal.append(text[i:])
            break
        k = min(found)
        if k > i and text[k - 1] == text[k]:  # `$${` or `%%{`: the sequence itself, once
            literal.append(text[i:k - 1] + text[k:k + 2])
            i = k + 2
            continue
        literal.append(text[i:k])
        close = _close(text, k + 2)
        if close < 0:
            malformed = True
            literal.append(text[k:])
            break
        if "".join(literal):
            parts.append("".join(literal))
        literal = []
        inner = text[k + 2:close]
        references, functions = _expression(inner, offset + k + 2, bound)
        parts.append(Interpolation(offset + k, offset + close + 1, inner, tuple(references), tuple(functions),
                                   directive=text[k] == "%"))
        i = close + 1
    if literal and "".join(literal):
        parts.append("".join(literal))
    return tuple(parts), malformed


@lru_cache(maxsize=1 << 16)
def parse(text: str) -> Template:
    """`text` read as a Terraform template; never raises."""
    if "${" not in text and "%{" not in text:
        return Template(text, (text,) if text else ())
    if text.startswith("${") and text.endswith("}") and _TRAVERSAL.fullmatch(text, 2, len(text) - 1):
        found, _ = _expression(text[2:-1], 2, set())
        return Template(text, (Interpolation(0, len(text), text[2:-1], tuple(found), ()),))
    parts, malformed = _parse(text, 0, set())
    return Template(text, parts, malformed)


@lru_cache(maxsize=1 << 12)
def parse_expression(text: str) -> tuple[Reference, ...]:
    """The references of a bare expression (a `depends_on` entry: `aws_vpc.hub`, `module.m`)."""
    return tuple(_expression(text, 0, set())[0])


def references(value: Any) -> list[Reference]:
    """Every reference in a JSON value (strings inside lists and objects, object keys too), in order."""
    found: list[Reference] = []
    _collect(value, found)
    return found


@lru_cache(maxsize=1 << 16)
def _of_text(text: str) -> tuple[Reference, ...]:
    return parse(text).references


def _collect(value: Any, found: list[Reference]) -> None:
    if isinstance(value, str):
        if "{" in value:
            found.extend(_of_text(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "{" in key:
                found.extend(_of_text(key))
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def rewrite(text: str, replace: Callable[[Reference], str | None], *, expression: bool = False) -> str:
    """`text` with each reference replaced, where it is written, by `replace(reference)` (None: kept).
    With `expression`, `text` is a bare expression (a `depends_on` entry), not a template."""
    found = parse_expression(text) if expression else parse(text).references
    pieces, at = [], 0
    for reference in found:
        new = replace(reference)
        if new is not None:
            pieces += [text[at:reference.start], new]
            at = reference.end
    return "".join(pieces) + text[at:] if pieces else text


def provider_alias(value: Any) -> tuple[str, str] | None:
    """`(provider, alias)` of a `provider` meta-argument (`aws.us_east_1`), or None when it is not one."""
    if not isinstance(value, str):
        return None
    tokens = _tokens(value)
    if len(tokens) == 3 and tokens[0].kind == tokens[2].kind == "name" and tokens[1].text == "." \
            and (tokens[0].start, tokens[1].start, tokens[2].start, tokens[2].end) == (
                0, tokens[0].end, tokens[1].end, len(value)):
        return tokens[0].text, tokens[2].text
    return None
