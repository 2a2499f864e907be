"""Facts derived from the model, computed once and read by the checks, the emitters, `tfgen gitops` and the sandbox.

`naming` (every Terraform and AWS name), `allocation` (pool CIDRs, kept stable
by the allocations record), `layout` (zones, subnets, NAT, route tables),
`connectivity` (which VPCs are linked, and how), `gitops_path` (who manages
which edge, and who may reach each control plane), `context` (each cluster
with its key, AWS name and layout, as the emitters read it), `waves` (the
rollout as waves of roots, which a build records for `tfgen apply --waves` and
the CI configs).
"""
