"""Streamlit entry point inside the package (``openbuilder ui`` runs this file)."""

from framework.builder.chat import main

main()
