"""Small Streamlit pieces every page uses: the header and readable errors."""

from framework.builder.widgets.errors import field_errors, show_error, show_field_errors
from framework.builder.widgets.header import header

__all__ = ["field_errors", "header", "show_error", "show_field_errors"]
