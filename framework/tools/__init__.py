"""Tools (connectors register here)."""
