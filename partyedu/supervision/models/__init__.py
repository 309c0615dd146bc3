"""The supervision models, one module per area; every model is imported here so that Django
finds it. Migrations: 0002 reports, 0003 assessment, 0004 dispatch, 0005 guidance."""

from .assessment import *  # noqa: F403
from .dispatch import *  # noqa: F403
from .guidance import *  # noqa: F403
from .reports import *  # noqa: F403
