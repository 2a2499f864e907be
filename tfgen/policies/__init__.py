"""tfgen's checkov policies: custom checks loaded with `--external-checks-dir`.

Installed as the package `tfgen.policies`; `tfgen check` always loads them.
The Python checks read one block at a time; the YAML checks (`CKV2_TFGEN_*`)
follow references across blocks. `suppressions.toml` lists every checkov check
tfgen's output does not pass, with the reason and the resources it covers.
"""
