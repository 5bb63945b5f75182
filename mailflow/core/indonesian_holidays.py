"""Indonesia's holidays from the `holidays` package, without its other 250 countries.

`holidays.country_holidays("ID")`, like `holidays.ID` and `import holidays.countries.indonesia`,
first imports the package `holidays.countries`, whose __init__ imports every country the
library knows: about 300 modules, 8 MB of memory in every mailflow process (a tenth of what
the daemon holds; issue 10) and 60 ms, for a calendar that needs one country. So the module
of Indonesia is loaded from its own file; it imports only the library's shared parts
(calendars, groups, the base class). It is kept under a name of mailflow's, not the library's:
`holidays.countries.indonesia` in sys.modules without its package would make a later
`import holidays.countries.indonesia` elsewhere in the process skip the package and leave
`holidays.countries` unbound. Should a later `holidays` move or rename the file, the ordinary
import is taken instead: larger and slower, never a different calendar.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from functools import cache
from pathlib import Path

from holidays import HolidayBase

_PACKAGE = "holidays.countries"
_MODULE = f"{_PACKAGE}.indonesia"
#: Where the module loaded alone is kept (pickle finds its classes there).
_ALONE = f"{__name__}._library_indonesia"

log = logging.getLogger(__name__)


@cache
def indonesia() -> type[HolidayBase]:
    """The `holidays` class of Indonesia (country code ID)."""
    loaded = sys.modules.get(_MODULE)
    found = getattr(loaded, "Indonesia", None) if loaded is not None else _load_alone()
    if isinstance(found, type) and issubclass(found, HolidayBase):
        return found
    log.debug("holidays: %s not loadable alone; importing every country", _MODULE)
    from holidays.countries.indonesia import Indonesia

    return Indonesia


def _load_alone() -> object:
    """`Indonesia` from holidays/countries/indonesia.py, executed without its package's
    __init__; None when the file is not where it was."""
    package = importlib.util.find_spec(_PACKAGE)  # finds, does not execute, the package
    locations = package.submodule_search_locations if package is not None else None
    path = Path(next(iter(locations or ()), "")) / "indonesia.py"
    spec = importlib.util.spec_from_file_location(_ALONE, path) if path.is_file() else None
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_ALONE] = module  # as an import would, so that pickle finds its classes
    try:
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - a changed library: the ordinary import decides
        del sys.modules[_ALONE]
        return None
    return getattr(module, "Indonesia", None)
