"""Living with a fleet: what a build changes against the previous one, and whether EKS accepts the step."""
