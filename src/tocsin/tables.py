"""Imports every feature's models so `Base.metadata` knows all tables (and the ORM can
resolve relationships between features).

One explicit list (no import side effects elsewhere): add a line when a feature adds models.
"""

from tocsin.accounts import models as accounts_models
from tocsin.alerts import models as alerts_models
from tocsin.analytics import models as analytics_models
from tocsin.api import models as api_models
from tocsin.audit import models as audit_models
from tocsin.catalog import models as catalog_models
from tocsin.chatops import models as chatops_models
from tocsin.checks import models as checks_models
from tocsin.configcode import models as configcode_models
from tocsin.db import config_cache
from tocsin.db.base import Base
from tocsin.drills import models as drills_models
from tocsin.engine import models as engine_models
from tocsin.escalation import models as escalation_models
from tocsin.heartbeats import models as heartbeats_models
from tocsin.importers import models as importers_models
from tocsin.incidents import models as incidents_models
from tocsin.intake import models as intake_models
from tocsin.knownerrors import models as knownerrors_models
from tocsin.notify import models as notify_models
from tocsin.postmortems import models as postmortems_models
from tocsin.respond import models as respond_models
from tocsin.runbooks import models as runbooks_models
from tocsin.schedules import models as schedules_models
from tocsin.security import models as security_models
from tocsin.setup import models as setup_models
from tocsin.sso import models as sso_models
from tocsin.stakeholders import models as stakeholders_models
from tocsin.statuspages import models as statuspages_models
from tocsin.web import models as web_models
from tocsin.webhooks import models as webhooks_models

FEATURE_MODELS = [accounts_models, api_models, catalog_models, engine_models, incidents_models]
FEATURE_MODELS += [schedules_models, escalation_models, notify_models]
FEATURE_MODELS += [checks_models, heartbeats_models]
FEATURE_MODELS += [web_models]
FEATURE_MODELS.append(alerts_models)
FEATURE_MODELS.append(intake_models)
FEATURE_MODELS.append(config_cache)
FEATURE_MODELS.append(setup_models)
FEATURE_MODELS.append(respond_models)
FEATURE_MODELS.append(webhooks_models)
FEATURE_MODELS.append(analytics_models)
FEATURE_MODELS.append(postmortems_models)
FEATURE_MODELS.append(knownerrors_models)
FEATURE_MODELS.append(drills_models)
FEATURE_MODELS.append(runbooks_models)
FEATURE_MODELS.append(statuspages_models)
FEATURE_MODELS.append(stakeholders_models)
FEATURE_MODELS.append(chatops_models)
FEATURE_MODELS.append(audit_models)
FEATURE_MODELS.append(sso_models)
FEATURE_MODELS.append(security_models)
FEATURE_MODELS.append(importers_models)
FEATURE_MODELS.append(configcode_models)

metadata = Base.metadata
