"""Strike Atlas core library: event model, store, filters, import/export, map builders.

Nothing here imports Streamlit, so every piece can be used from the CLI, a notebook or a test.
"""

__version__ = "0.1.0"
