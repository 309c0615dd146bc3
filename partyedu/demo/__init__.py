"""Demo data: a fictional city (泉城市) with its party organisations, members, demo accounts and a
year of study, lectures and a lecture competition, so the product can be shown and measured.

This app is the top layer: it may import every other app and no app imports it. It has no models;
it writes through the other apps' services (and, for the many rows, ``bulk_create`` with the
services' own helpers), deterministically for a given seed.

- ``seed``: the plan of the city (``DemoPlan``), ``build_demo`` that writes it, the demo accounts
  and their shared authenticator, and the printed summary;
- ``study``: the second half, a year of organisational life and study with its learning-hour ledger;
- ``lectures``: the 「我来讲党课」 half, a finished competition, lecturer pools, lectures and the library;
- ``management/commands``: ``seed_demo`` (refused unless ``ALLOW_DEMO_SEED``) and ``demo_accounts``.

The bench scripts (``bench/``) seed their databases with the same code.
"""
