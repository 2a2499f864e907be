"""Terraform JSON roots and Terraform itself: the one index of a root, what is done with it, real plans.

Reading, bottom up: `references` is the one reference grammar (Terraform JSON
string templates: `${...}`, `$${` escapes, `data.` addresses, attribute
paths, function calls); `statements` the one IAM policy statement normaliser;
`index` the one index of a root (blocks by address with their file, providers
by alias with their region, outputs, references computed once); `roots` reads
a root into it, from a directory within bounds or from documents in memory.
Every reader of Terraform JSON in tfgen asks these.

With a root: `lowering` rewrites a copy for the one provider that runs offline
(3.39), `schema_check` holds it to the committed provider schemas (both by the
facts of `tfgen.providers`); `toolchain` finds a terraform binary, lays out a
verified provider mirror and writes the overrides that let a root plan (or
apply against the local AWS double) with no credentials and no network; `run`
runs one terraform command under watch; `outputs` reads an applied root's
`terraform output -json`; `plan` plans a lowered copy through tftest and
answers questions about the plan.
"""
