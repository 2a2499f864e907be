"""The document renderer writes exactly what the stdlib's json.dumps would, only faster."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tfgen
import tfgen.pipeline
from tfgen.emit import emit_documents
from tfgen.emit.document import render
from tests.conftest import EXAMPLES


def _stdlib(document) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


@pytest.mark.parametrize("spec", sorted(EXAMPLES), ids=lambda p: p.stem)
def test_every_example_document_renders_as_json_dumps_would(spec):
    prepared = tfgen.pipeline.prepare(tfgen.load(spec))
    documents = emit_documents(prepared.fleet)
    for root, files in documents.items():
        for name, document in files.items():
            assert render(document) == _stdlib(document), f"{root}/{name}"


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                            max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_value_renders_byte_for_byte_like_json_dumps(value):
    assert render(value) == _stdlib(value)


@pytest.mark.parametrize("bad", [{"a": float("nan")}, {"a": float("inf")}, {1: "x"}, {"a": object()}])
def test_a_value_json_cannot_hold_is_refused_not_written(bad):
    with pytest.raises(TypeError, match="please report this"):
        render(bad)
