"""Test support for every app: factories of the named test tree, users and members
(``factories``) and an API client signed in with a token (``api``).

This package sits at the top of the layers, beside ``demo``: it builds its objects through the
services of every app, so no app's code imports it — only tests, the top-level ``conftest.py``
(whose fixtures hand the tree and users to the generic mixins in ``partyedu.core.testing``),
``e2e/`` and ``bench/``.
"""
