"""Streamlit entry point inside the package (``openbuilder ui`` runs this file)."""

from framework.builder.app import main

main()
