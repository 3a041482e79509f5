"""The network's tables, one module per part (each part owns its module and migration)."""

from patron.network.models.alliances import *  # noqa: F403
from patron.network.models.commissions import *  # noqa: F403
from patron.network.models.settlement import *  # noqa: F403
