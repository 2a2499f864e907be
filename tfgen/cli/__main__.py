"""`python -m tfgen.cli`: the `tfgen` command."""

from . import run

if __name__ == "__main__":
    run()
