"""`tfgen.__all__` is the public namespace: every name exists and is documented."""

import tfgen
import tfgen.testing


def test_all_names_exist_and_have_docstrings():
    for module in (tfgen, tfgen.testing):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
            obj = getattr(module, name)
            if callable(obj):
                assert obj.__doc__ and obj.__doc__.strip(), f"{module.__name__}.{name} has no docstring"


def test_public_classes_are_not_left_out():
    public = {n for n, v in vars(tfgen).items() if isinstance(v, type) and not n.startswith("_")}
    assert public <= set(tfgen.__all__), sorted(public - set(tfgen.__all__))


def test_python_call_site_is_remembered_for_findings():
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-easr-2", cidr="10.11.0.0/16")
    findings = tfgen.validate(fleet)
    bad = [f for f in findings if f.code == "VAL131"]
    assert bad and bad[0].origin.file == __file__, findings
    assert "did you mean us-east-2" in bad[0].hint
