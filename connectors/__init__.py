"""Connectors: each returns tools for the registry; imports only framework.tools and framework.errors."""
