"""ID Chat's HTTP service: the ID Contact comm-plugin API, token checking, the session store and pages."""

__version__ = "0.1.0"
