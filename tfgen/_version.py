"""tfgen's version, in a module of its own so that no module inside tfgen imports the package face for it."""

__all__ = ["__version__"]

__version__ = "0.1.0"
