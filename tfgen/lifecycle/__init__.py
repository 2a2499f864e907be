"""Living with a fleet: the previous build as the baseline, the diff against it, guards, retirement, and
whether EKS accepts the step."""
