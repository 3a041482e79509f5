"""The sales program (tests/sales/conftest.py) and the console's logged-in clients."""

from tests.console.conftest import logged_in, manager  # noqa: F401
from tests.sales.conftest import gold, program  # noqa: F401
