"""The topology as a picture: Mermaid and Graphviz DOT text, SVG through Graphviz.

Reads the graphs `tfgen.checks.topology.build_graph` makes (plain node and edge
attributes), so it needs no networkx of its own. Names come from the user, and
a diagram is often rendered where links run (a README, a wiki), so every name
is escaped for the format: no name can end a label and add a `click` link.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from .errors import ToolchainError

__all__ = ["to_mermaid", "to_dot", "to_svg"]

_EDGE_LABEL = {"peering": "peering", "attachment": "attachment", "tgw-peering": "TGW peering"}


def _id(node: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", node)


_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 ._/:()-]")


def _lines(data: dict) -> list[str]:
    if data["kind"] == "tgw":
        return [f"TGW {data['region']}"]
    cidr = data["cidr"] or "no cidr"
    name = data["cluster"] if data["cluster"] == data["role"] else f"{data['cluster']} ({data['role']})"
    return [str(name), str(cidr)]


def _mermaid_text(text: object) -> str:
    """`text` as Mermaid label text: anything but plain characters becomes an entity code, so a
    name can close no quote or bracket and start no directive (`click`, `%%{init}`, HTML)."""
    return "".join(c if _MERMAID_PLAIN.fullmatch(c) else f"#{ord(c)};" for c in str(text))


def _dot_text(text: object) -> str:
    """`text` inside a DOT double-quoted string."""
    return (str(text).replace("\\", "\\\\").replace('"', '\\"')
            .replace("\r", "").replace("\n", "\\n"))


def _mermaid_label(data: dict) -> str:
    return "<br/>".join(_mermaid_text(line) for line in _lines(data))


def _dot_label(data: dict) -> str:
    return "\\n".join(_dot_text(line) for line in _lines(data))


def _regions(graph) -> dict[str, list[tuple[str, dict]]]:
    regions: dict[str, list[tuple[str, dict]]] = {}
    for node, data in sorted(graph.nodes(data=True)):
        regions.setdefault(data["region"], []).append((node, data))
    return dict(sorted(regions.items()))


def _edges(graph):
    return sorted((min(a, b), max(a, b), d) if d["kind"] != "peering" else (d["requester"], d["accepter"], d)
                  for a, b, d in graph.edges(data=True))


def to_mermaid(graphs: list) -> str:
    """A Mermaid flowchart of one or more environments' topologies."""
    lines = ["flowchart LR"]
    for graph in graphs:
        env = graph.graph["environment"]
        title = _mermaid_text(f'{env} ({graph.graph["connectivity"]})')
        lines.append(f'  subgraph {_id(env)}["{title}"]')
        for region, nodes in _regions(graph).items():
            lines.append(f'    subgraph {_id(env + "/" + region)}["{_mermaid_text(region)}"]')
            for node, data in nodes:
                label = _mermaid_label(data)
                if data["kind"] == "tgw":
                    lines.append(f'      {_id(node)}{{{{"{label}"}}}}')
                elif data["role"] == "hub":
                    lines.append(f'      {_id(node)}(["{label}"])')
                else:
                    lines.append(f'      {_id(node)}["{label}"]')
            lines.append("    end")
        lines.append("  end")
        for a, b, data in _edges(graph):
            arrow = {"peering": "<-->", "attachment": "---", "tgw-peering": "<==>"}[data["kind"]]
            lines.append(f"  {_id(a)} {arrow}|{_EDGE_LABEL[data['kind']]}| {_id(b)}")
    return "\n".join(lines) + "\n"


def to_dot(graphs: list) -> str:
    """A Graphviz DOT graph of one or more environments' topologies."""
    lines = ["graph tfgen {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for graph in graphs:
        env = graph.graph["environment"]
        lines.append(f'  subgraph "cluster_{_dot_text(env)}" {{')
        lines.append(f'    label="{_dot_text(env)} ({_dot_text(graph.graph["connectivity"])})";')
        for region, nodes in _regions(graph).items():
            lines.append(f'    subgraph "cluster_{_dot_text(env)}/{_dot_text(region)}" {{')
            lines.append(f'      label="{_dot_text(region)}"; style=rounded;')
            for node, data in nodes:
                shape = "hexagon" if data["kind"] == "tgw" else ("doubleoctagon" if data["role"] == "hub" else "box")
                lines.append(f'      "{_dot_text(node)}" [label="{_dot_label(data)}", shape={shape}];')
            lines.append("    }")
        lines.append("  }")
        for a, b, data in _edges(graph):
            style = {"peering": "solid", "attachment": "dashed", "tgw-peering": "bold"}[data["kind"]]
            lines.append(f'  "{_dot_text(a)}" -- "{_dot_text(b)}" [label="{_EDGE_LABEL[data["kind"]]}", style={style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(graphs: list) -> str:
    """SVG rendered by Graphviz's `dot` (Debian package `graphviz`)."""
    dot = shutil.which("dot")
    if dot is None:
        raise ToolchainError("SVG needs Graphviz's `dot`: install it (apt-get install graphviz), "
                             "or use --format mermaid or dot")
    result = subprocess.run([dot, "-Tsvg"], input=to_dot(graphs), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise ToolchainError(f"dot failed: {result.stderr.strip()}")
    return result.stdout
