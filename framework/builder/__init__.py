"""The no-code builder (Streamlit pages and widgets; UI only)."""
