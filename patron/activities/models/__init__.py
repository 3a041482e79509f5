"""The activities' tables, one module per part (each part owns its module and migration)."""

from patron.activities.models.checkin import *  # noqa: F403
from patron.activities.models.events import *  # noqa: F403
from patron.activities.models.lottery import *  # noqa: F403
from patron.activities.models.mall import *  # noqa: F403
