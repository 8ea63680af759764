"""The builder's services: everything the pages do, with no Streamlit (unit-tested alone).

Pages call these and never open files, SQLite or models themselves. Each service takes the apps
folder and the data folder (``home``) so tests run on temporary folders.
"""

from framework.builder.services.apps import (
    AppsService,
    AppSummary,
    LoadedApp,
    Template,
    validate_spec,
    yaml_text,
)

__all__ = ["AppSummary", "AppsService", "LoadedApp", "Template", "validate_spec", "yaml_text"]
