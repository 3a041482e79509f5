"""What the history part of insight (past sales in, facets, preferences, due to buy again)
registers with the apps below and the refresh."""

from patron.core.commands import register_import
from patron.insight import history_command, history_facets, history_panel
from patron.insight.refresh import add_step
from patron.members import hooks, profile


def register() -> None:
    """Called once from InsightConfig.ready()."""
    register_import("sales", history_command.add_arguments, history_command.run)
    add_step("facets", 15, history_facets.refresh_step)
    hooks.add_activity_handler(history_facets.on_activity)
    profile.add_panel(profile.Panel("main", history_panel.preferences_panel, order=20))
