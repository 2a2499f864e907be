"""Input built to hurt: alias bombs, deep nesting, endless files, FIFOs, NUL bytes. Each
ends in a SPEC finding with file:line, never a hang, a traceback or a write.
Also YAML merge keys (`<<`), which real specs use to share settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import yaml

import tfgen
from tfgen.cli import main
from tfgen.errors import SpecError
from tfgen.spec import loader
from tfgen.spec.loader import MAX_DEPTH, MAX_SPEC_BYTES, MAX_VALUES
from tests.conftest import ROOT, write_spec

GOOD = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: {cidr: 10.11.0.0/16}
"""


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _rejected(tmp_path, capsys, spec, code: str, line: int | None):
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    where = f"{spec}:{line}:" if line else f"{spec}"
    assert code in err and where in err and "fix:" in err and "Traceback" not in err, err
    assert not out.exists(), "something was written"
    assert main(["validate", str(spec)]) == 1
    assert code in capsys.readouterr().out
    return err


def test_an_alias_bomb_is_a_finding_not_a_hang(tmp_path, capsys):
    assert len(_alias_bomb()) < 1000
    spec = write_spec(tmp_path, _alias_bomb())
    err = _rejected(tmp_path, capsys, spec, "SPEC008", 6)
    assert f"{MAX_VALUES:,}" in err


def test_an_alias_that_contains_itself_is_a_finding(tmp_path, capsys):
    spec = write_spec(tmp_path, "project: demo\nenvironments: &e {dev: *e}\n")
    _rejected(tmp_path, capsys, spec, "SPEC008", 2)


def test_a_kilobyte_of_brackets_is_a_finding_not_a_recursion_error(tmp_path, capsys):
    spec = write_spec(tmp_path, "project: demo\nenvironments: " + "[" * 1000 + "]" * 1000 + "\n")
    err = _rejected(tmp_path, capsys, spec, "SPEC007", 2)
    assert f"deeper than {MAX_DEPTH}" in err


def test_deep_nesting_through_aliases_is_a_finding(tmp_path, capsys):
    nested = "[" * 40 + "x" + "]" * 40
    spec = write_spec(tmp_path, f"project: demo\nx: &x {nested}\nenvironments: {{a: [[[[[[[[[[[[*x]]]]]]]]]]]]}}\n")
    _rejected(tmp_path, capsys, spec, "SPEC007", None)


def test_an_endless_file_is_a_finding(tmp_path, capsys):
    _rejected(tmp_path, capsys, "/dev/zero", "SPEC006", 1)


def test_a_spec_over_the_size_limit_is_a_finding_at_the_line_where_the_limit_falls(tmp_path, capsys):
    spec = write_spec(tmp_path, GOOD + "# padding\n" * (MAX_SPEC_BYTES // 10 + 1))
    _rejected(tmp_path, capsys, spec, "SPEC006", None)
    with pytest.raises(SpecError) as caught:
        tfgen.loads("x" * (MAX_SPEC_BYTES + 1), filename="big.yaml")
    assert [f.code for f in caught.value.findings] == ["SPEC006"]


def test_a_nul_byte_is_reported_at_its_line(tmp_path, capsys):
    spec = tmp_path / "fleet.yaml"
    spec.write_bytes(GOOD.replace("us-east-2: {", "us-east-2: {\0").encode())
    err = _rejected(tmp_path, capsys, spec, "SPEC001", 7)
    assert "NUL byte" in err


def test_bad_utf8_names_its_line(tmp_path, capsys):
    spec = tmp_path / "fleet.yaml"
    spec.write_bytes(GOOD.encode().replace(b"dev:", b"d\xffv:"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:3:" in err and "UTF-8" in err and "Traceback" not in err


MERGED = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    defaults:
      node_groups:
        workers: &workers {instance_types: [t3.medium], min: 1, max: 3, desired: 1}
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: &edge {cidr: 10.11.0.0/16, az_count: 2, nat: per_az}
      us-west-2:
        <<: *edge
        cidr: 10.12.0.0/16
      eu-west-1:
        <<: [{cidr: 10.13.0.0/16, az_count: 1}, *edge]
        node_groups:
          big: {<<: *workers, max: 9}
"""


def test_merge_keys_merge_with_explicit_keys_winning():
    fleet = tfgen.loads(MERGED, filename="fleet.yaml")
    dev = fleet.environment("dev")
    west = dev.region("us-west-2").cluster("edge").network
    assert (west.cidr, west.az_count, west.nat) == ("10.12.0.0/16", 2, "per_az")
    eu = dev.region("eu-west-1").cluster("edge")
    assert (eu.network.cidr, eu.network.az_count, eu.network.nat) == ("10.13.0.0/16", 1, "per_az")
    big = eu.node_groups["big"]
    assert (big.min_size, big.max_size, big.instance_types) == (1, 9, ["t3.medium"])


def test_merged_values_keep_the_line_they_were_written_on():
    bad = MERGED.replace("nat: per_az}", "nat: bogus}")
    findings = tfgen.validate(tfgen.loads(bad, filename="fleet.yaml"))
    # one finding for the three edges that merged the value (errors.condense groups repeats)
    lines = [(f.origin.line, f.count) for f in findings if f.code == "VAL161"]
    assert lines == [(10, 3)], [f.format() for f in findings]


def test_merging_a_non_mapping_names_the_merge(tmp_path, capsys):
    spec = write_spec(tmp_path, GOOD.replace("us-east-2: {", "us-east-2: {<<: [1, 2], "))
    err = _rejected(tmp_path, capsys, spec, "SPEC009", 7)
    assert "merges mappings" in err


def test_a_key_given_twice_beside_a_merge_is_still_a_duplicate():
    with pytest.raises(SpecError) as caught:
        tfgen.loads(MERGED.replace("cidr: 10.12.0.0/16", "cidr: 10.12.0.0/16\n        cidr: 10.14.0.0/16"))
    assert [(f.code, f.origin.line) for f in caught.value.findings] == [("SPEC004", 14)]


def test_a_fifo_nobody_writes_to_is_an_error_not_a_hang(tmp_path, capsys):
    fifo = tmp_path / "fleet.yaml"
    os.mkfifo(fifo)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("reading the FIFO blocked"))
    signal.alarm(20)
    try:
        assert main(["validate", str(fifo)]) == 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert f"{fifo}: the spec is a pipe (FIFO) that nothing was written to" in err and "fix:" in err, err


def test_a_directory_as_spec_is_a_usage_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: the spec is a directory" in err and "fix:" in err and "Traceback" not in err, err


def test_a_spec_read_from_a_pipe_is_read(capsys):
    read, write = os.pipe()
    os.write(write, GOOD.encode())
    os.close(write)
    assert main(["validate", f"/dev/fd/{read}"]) == 0, capsys.readouterr()


def _graph(node):
    """A composed node as plain data: kind, tag, value, style and the line it starts at (tfgen reads lines only;
    libyaml puts an empty value's column elsewhere)."""
    start = node.start_mark.line
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value, node.style, start)
    if isinstance(node, yaml.SequenceNode):
        return ("sequence", node.tag, [_graph(n) for n in node.value], start)
    return ("mapping", node.tag, [(_graph(k), _graph(v)) for k, v in node.value], start)


SPECS = sorted([*(ROOT / "examples").glob("*.yaml"), *(ROOT / "tests" / "good_specs").glob("*.yaml"),
                *(ROOT / "tests" / "bad_specs").glob("*.yaml")])


@pytest.mark.skipif(loader._LibyamlLoader is None, reason="PyYAML here is built without libyaml")
@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_libyaml_and_pure_pyyaml_compose_the_same_nodes(path):
    text = path.read_text()
    try:
        pure = loader._Loader(text).get_single_node()
    except (yaml.YAMLError, loader._LimitExceeded):
        pytest.skip("PyYAML refuses it: the refusal is the pure loader's (test_bad_specs)")
    if pure is not None and loader._expansion_problem(pure) is not None:
        pytest.skip("its aliases expand past the limits: compared by the findings (above)")
    fast = loader._LibyamlLoader(text).get_single_node()
    assert (pure is None) == (fast is None)
    if pure is not None:
        assert _graph(fast) == _graph(pure)


def test_without_libyaml_the_pure_loader_reads_the_spec(tmp_path):
    spec = write_spec(tmp_path, GOOD)
    code = ("import sys; sys.modules['yaml._yaml'] = sys.modules['_yaml'] = None\n"  # PyYAML as built without it
            "import yaml; assert not yaml.__with_libyaml__\n"
            "from tfgen.spec import load\n"
            f"print(sorted(load({str(spec)!r}).environments))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "['dev']\n", "")


def test_a_megabyte_of_brackets_stops_at_the_depth_limit_not_in_libyaml(tmp_path, capsys):
    depth = 400_000
    spec = write_spec(tmp_path, "project: demo\nenvironments: " + "[" * depth + "]" * depth + "\n")
    err = _rejected(tmp_path, capsys, spec, "SPEC007", 2)
    assert f"deeper than {MAX_DEPTH}" in err
