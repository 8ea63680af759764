"""Evaluate an app on one or more models: datasets, metrics, runs, reports and the publish gate.

Nothing here is imported by ``import framework``; the CLI (``openbuilder eval``), the server's
publish gate and the builder's Eval page import the modules they need.
"""
