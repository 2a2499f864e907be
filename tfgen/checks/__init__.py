"""Rules on the model, run before anything is emitted; and rules on what was emitted.

One function per rule; each returns findings and never raises. `check_fleet`
runs the model rules in `RULES` so a user sees every problem at once; they read
the model and what `tfgen.derive` makes of it, never Terraform JSON.

Modules, one per subject: `types` (VAL100, Python-built fleets), `fleet`
(project, state, environments, regions, AWS names), `clusters` (clusters, node
groups, networks), `aws_names` (every AWS name tfgen derives, against AWS's rules),
`tags`, `secrets` (the one secret detector, shared with the policies), `platform` (what runs on the clusters: EKS
calendar, access, add-ons, identity, bastion), `argocd` (who runs Argo CD, its
bootstrap; run with the platform rules), `topology` (the network as a
networkx graph: overlaps, links, reachability, quotas),
`compat` (the provider and Terraform ranges against the emitted documents),
`gitops_output` (the GitOps path as a graph of the emitted documents,
NET300-NET307; `gitops_documents` reads them), `ssm` (the bootstrap's SSM
document against SSM's 64 KB, VAL444), `layout` (a build that would switch an
environment's layout against the previous build's roots, VAL137).
`support` holds what they share; `model` is the index: `RULES`, and
`check_model`, every rule on the model, which a build runs before it emits.
Import the rules from their modules (`tfgen.checks.model`): this package
imports none of them, so reading one rule does not load the others (the
network rules load networkx).
"""
