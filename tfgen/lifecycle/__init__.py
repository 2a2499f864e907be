"""Living with a fleet: the previous build as the baseline, the diff against it, guards, retirement."""
