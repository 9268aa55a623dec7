"""Every domain's models, imported for Alembic and for ``Base.metadata``."""

from prakerja.audit import models as audit_models  # noqa: F401
from prakerja.auth import models as auth_models  # noqa: F401
from prakerja.catalog import models as catalog_models  # noqa: F401
from prakerja.certificates import models as certificates_models  # noqa: F401
from prakerja.eligibility import models as eligibility_models  # noqa: F401
from prakerja.idempotency import models as idempotency_models  # noqa: F401
from prakerja.kit.orm import Base
from prakerja.ledger import models as ledger_models  # noqa: F401
from prakerja.notifications import models as notifications_models  # noqa: F401
from prakerja.partners import models as partners_models  # noqa: F401
from prakerja.payouts import models as payouts_models  # noqa: F401
from prakerja.recipients import models as recipients_models  # noqa: F401
from prakerja.registration import models as registration_models  # noqa: F401
from prakerja.selection import models as selection_models  # noqa: F401
from prakerja.training import models as training_models  # noqa: F401
from prakerja.waves import models as waves_models  # noqa: F401

__all__ = ["Base"]
