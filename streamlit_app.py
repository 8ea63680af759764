"""OpenBuilder's no-code builder: ``streamlit run streamlit_app.py`` (or ``openbuilder ui``)."""

from framework.builder.app import main

main()
