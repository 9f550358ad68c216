"""The whole schema: imports every domain's tables, so Alembic and the tests see them all.

A composition module like ``tongban.app``: it may import any domain, and ``core`` never imports it."""

from tongban.accounts import models as _accounts  # noqa: F401
from tongban.cases import models as _cases  # noqa: F401
from tongban.catalog import models as _catalog  # noqa: F401
from tongban.core import audit as _audit  # noqa: F401
from tongban.core import events as _events  # noqa: F401
from tongban.core import sessions as _sessions  # noqa: F401
from tongban.core import throttle as _throttle  # noqa: F401
from tongban.core import workdays as _workdays  # noqa: F401
from tongban.core.db import cache as _reference_generation  # noqa: F401
from tongban.core.db.base import Base
from tongban.disclosure import models as _disclosure  # noqa: F401
from tongban.disclosure import search_models as _disclosure_search  # noqa: F401
from tongban.disclosure.requests import models as _disclosure_requests  # noqa: F401
from tongban.exchange import models as _exchange  # noqa: F401
from tongban.grid import models as _grid  # noqa: F401
from tongban.hotline import models as _hotline  # noqa: F401
from tongban.hotline import mailbox_models as _mailbox  # noqa: F401
from tongban.items import models as _items  # noqa: F401
from tongban.notifications import models as _notifications  # noqa: F401
from tongban.org import models as _org  # noqa: F401
from tongban.participation import models as _participation  # noqa: F401
from tongban.policies import models as _policies  # noqa: F401
from tongban.registry import models as _registry  # noqa: F401
from tongban.sharing import models as _sharing  # noqa: F401
from tongban.supervision import models as _supervision  # noqa: F401

metadata = Base.metadata
