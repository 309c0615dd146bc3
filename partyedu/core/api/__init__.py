"""The REST framework plumbing every app's ``api/`` package builds on: the scoped viewset base, the
permission classes, pagination, the error shape and its handler, the JSON parser with a depth
limit, shared serializer fields and the OpenAPI post-processing hook. It imports nothing above core,
so every app may use it; the ``/api/v1/`` router that includes every app's routes is the top-level
``partyedu.api`` package, and token authentication lives with the tokens in ``partyedu.accounts.api``."""
