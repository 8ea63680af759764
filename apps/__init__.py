"""Ready-made apps (each folder holds an app.yaml)."""
