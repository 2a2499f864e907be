"""Shell completion for bash, zsh and fish, generated from the CLI's argparse parser.

`tfgen completion SHELL` prints a script; a verb or option added to the parser
is completed without touching this module. The parser is read once into a tree
of `Command`s (verbs, their options and positionals); each shell's script is that
tree written in the shell's own completion language. What a value completes to
is read from the action: its choices, a directory (`DIR`, an output or work
directory), nothing (numbers, names, versions), else a file.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

__all__ = ["SHELLS", "Command", "Option", "tree", "render"]

SHELLS = ("bash", "zsh", "fish")
_NO_VALUE_METAVARS = {"N", "NAME", "VERSION", "REQUIREMENT", "CODE"}
_DIR_DESTS = {"out", "workdir", "root"}


@dataclass(frozen=True)
class Option:
    """One option: its spellings, help, and what its value completes to (`values` "" when it takes none)."""

    flags: tuple[str, ...]
    help: str
    values: str = ""  # "", "file", "dir", "none" or "choices"
    choices: tuple[str, ...] = ()


@dataclass
class Command:
    """A verb (or the program): its options, what its positionals complete to, and its verbs."""

    path: tuple[str, ...]
    help: str = ""
    options: list[Option] = field(default_factory=list)
    positional: str = "none"  # "file", "dir", "none" or "choices"
    choices: tuple[str, ...] = ()
    verbs: dict[str, Command] = field(default_factory=dict)


def _value(action: argparse.Action) -> tuple[str, tuple[str, ...]]:
    if action.choices:
        return "choices", tuple(str(c) for c in action.choices)
    if action.type is int or action.metavar in _NO_VALUE_METAVARS:
        return "none", ()
    if action.metavar == "DIR" or action.dest in _DIR_DESTS or str(action.metavar).startswith("OUT"):
        return "dir", ()
    return "file", ()


def tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("tfgen",), help: str = "") -> Command:
    """The completion tree of `parser`."""
    command = Command(path, help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                command.verbs[name] = tree(sub, path + (name,), helps.get(name, ""))
        elif action.option_strings:
            takes = action.nargs != 0
            kind, choices = _value(action) if takes else ("", ())
            command.options.append(Option(tuple(action.option_strings), _one_line(action.help), kind, choices))
        elif action.dest != argparse.SUPPRESS:
            command.positional, command.choices = _value(action)
    return command


def _one_line(text: str | None) -> str:
    return " ".join((text or "").replace("%(default)s", "").split())


def _walk(command: Command):
    yield command
    for verb in command.verbs.values():
        yield from _walk(verb)


def render(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script of `shell` for `parser`."""
    root = tree(parser)
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](root)


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _name(command: Command) -> str:
    return " ".join(command.path)


# -- bash ----------------------------------------------------------------------

def _bash_values(kind: str, choices: tuple[str, ...]) -> str:
    return {
        "choices": f'COMPREPLY=($(compgen -W {_sh_quote(" ".join(choices))} -- "$cur"))',
        "dir": 'COMPREPLY=($(compgen -d -- "$cur"))',
        "file": 'COMPREPLY=($(compgen -f -- "$cur"))',
    }.get(kind, "COMPREPLY=()")


def _bash(root: Command) -> str:
    commands = list(_walk(root))
    descend = [f'            {_sh_quote(_name(c))}) cmd={_sh_quote(_name(c))} ;;' for c in commands[1:]]
    values = [f"        {_sh_quote(_name(c) + ' ' + flag)}) {_bash_values(o.values, o.choices)}; return ;;"
              for c in commands for o in c.options if o.values for flag in o.flags]
    options = [f"        {_sh_quote(_name(c))}) words={_sh_quote(' '.join(f for o in c.options for f in o.flags))} ;;"
               for c in commands]
    rest = []
    for c in commands:
        action = (f'COMPREPLY=($(compgen -W {_sh_quote(" ".join(c.verbs))} -- "$cur"))' if c.verbs
                  else _bash_values(c.positional, c.choices))
        rest.append(f"        {_sh_quote(_name(c))}) {action} ;;")
    return "\n".join([
        "# bash completion for tfgen: `source <(tfgen completion bash)`, or save it as",
        "# ~/.local/share/bash-completion/completions/tfgen",
        "_tfgen() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd=tfgen words i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "$cmd ${COMP_WORDS[i]}" in',
        *descend,
        "        esac",
        "    done",
        '    case "$cmd $prev" in',
        *values,
        "    esac",
        '    if [[ "$cur" == -* ]]; then',
        '        case "$cmd" in',
        *["    " + line for line in options],
        "        esac",
        '        COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$cmd" in',
        *rest,
        "    esac",
        "}",
        "complete -o filenames -F _tfgen tfgen",
        "",
    ])


# -- zsh -----------------------------------------------------------------------

def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


def _zsh_values(kind: str, choices: tuple[str, ...]) -> str:
    return {
        "choices": f"compadd -- {' '.join(_sh_quote(c) for c in choices)}",
        "dir": "_files -/",
        "file": "_files",
    }.get(kind, "_message value")


def _zsh(root: Command) -> str:
    commands = list(_walk(root))
    descend = [f"      {_sh_quote(_name(c))}) cmd={_sh_quote(_name(c))} ;;" for c in commands[1:]]
    values = [f"    {_sh_quote(_name(c) + ' ' + flag)}) {_zsh_values(o.values, o.choices)}; return ;;"
              for c in commands for o in c.options if o.values for flag in o.flags]
    options = []
    for c in commands:
        described = " ".join(_sh_quote(f"{_zsh_escape(flag)}:{_zsh_escape(o.help)}") for o in c.options
                             for flag in o.flags)
        options.append(f"      {_sh_quote(_name(c))}) described=({described}) ;;")
    rest = []
    for c in commands:
        if c.verbs:
            described = " ".join(_sh_quote(f"{_zsh_escape(name)}:{_zsh_escape(_one_line(v.help))}")
                                 for name, v in c.verbs.items())
            rest.append(f"    {_sh_quote(_name(c))}) described=({described}); _describe command described ;;")
        else:
            rest.append(f"    {_sh_quote(_name(c))}) {_zsh_values(c.positional, c.choices)} ;;")
    return "\n".join([
        "#compdef tfgen",
        "# zsh completion for tfgen: save it as _tfgen in a directory of $fpath, or `source <(tfgen completion zsh)`",
        "_tfgen() {",
        "  local cmd=tfgen cur=${words[CURRENT]} prev=${words[CURRENT-1]} i",
        "  local -a described",
        "  for ((i = 2; i < CURRENT; i++)); do",
        '    case "$cmd ${words[i]}" in',
        *descend,
        "    esac",
        "  done",
        '  case "$cmd $prev" in',
        *values,
        "  esac",
        '  if [[ "$cur" == -* ]]; then',
        '    case "$cmd" in',
        *options,
        "    esac",
        "    _describe option described",
        "    return",
        "  fi",
        '  case "$cmd" in',
        *rest,
        "  esac",
        "}",
        'if [[ "$funcstack[1]" == _tfgen ]]; then _tfgen "$@"; else compdef _tfgen tfgen; fi',
        "",
    ])


# -- fish ----------------------------------------------------------------------

def _fish_condition(command: Command) -> str:
    if len(command.path) == 1:
        return "__fish_use_subcommand"
    seen = [f"__fish_seen_subcommand_from {word}" for word in command.path[1:]]
    if command.verbs:
        seen.append("not __fish_seen_subcommand_from " + " ".join(command.verbs))
    return "; and ".join(seen)


def _fish(root: Command) -> str:
    lines = ["# fish completion for tfgen: save it as ~/.config/fish/completions/tfgen.fish,",
             "# or `tfgen completion fish | source`", "complete -c tfgen -f"]
    for command in _walk(root):
        condition = _sh_quote(_fish_condition(command))
        for name, verb in command.verbs.items():
            lines.append(f"complete -c tfgen -n {condition} -a {_sh_quote(name)} -d {_sh_quote(_one_line(verb.help))}")
        for option in command.options:
            spelled = []
            for flag in option.flags:
                if flag.startswith("--"):
                    spelled.append(f"-l {flag[2:]}")
                elif len(flag) == 2:
                    spelled.append(f"-s {flag[1:]}")
                else:
                    spelled.append(f"-o {flag[1:]}")
            value = {"choices": f"-x -a {_sh_quote(' '.join(option.choices))}", "file": "-r -F",
                     "dir": "-x -a '(__fish_complete_directories)'", "none": "-x"}.get(option.values, "")
            lines.append(f"complete -c tfgen -n {condition} {' '.join(spelled)} {value} "
                         f"-d {_sh_quote(option.help)}".replace("  ", " "))
        if not command.verbs and len(command.path) > 1:
            value = {"choices": f"-a {_sh_quote(' '.join(command.choices))}", "file": "-F",
                     "dir": "-a '(__fish_complete_directories)'"}.get(command.positional)
            if value:
                lines.append(f"complete -c tfgen -n {condition} {value}")
    return "\n".join(lines) + "\n"
