"""Terraform itself: the reader of roots, the offline toolchain and real plans of generated roots.

`roots` is the one reader of a root's `*.tf.json` (bounded, regular files only,
every Terraform JSON shape normalised once); `toolchain` finds a terraform binary, lays out a verified provider mirror and
writes the override files that let a root plan (or apply against the local
AWS double) with no credentials and no network; `plan` copies a root (lowered
to the offline provider), runs `terraform init` and `plan` through tftest and
answers questions about the plan.
"""
