"""Living with a fleet: the previous build as the baseline, what a build changes against it (diff, guards,
retirement), and whether EKS accepts the step (versions)."""
