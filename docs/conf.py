"""Sphinx configuration of the neuncut user guide and API reference.

Build with ``make docs`` (``sphinx-build -W -b html docs docs/_build/html``).
"""

from __future__ import annotations

import neuncut

project = "neuncut"
author = "the neuncut developers"
copyright = "2025, the neuncut developers"
version = release = neuncut.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

# numpydoc-style docstrings through napoleon (bundled with Sphinx)
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the docstrings state the types
autodoc_default_options = {"members": False}

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {"description": "Neural Normalized Cut clustering", "page_width": "1100px"}
