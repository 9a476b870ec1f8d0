"""The WSGI entry point for gunicorn in production: `gunicorn 'lti_tool.web.wsgi:app'`.

Settings come from PLC_* variables (and PLC_CONFIG_FILE). The schema is not migrated here: run
`plc-bridge db upgrade` once per release, before or while the old processes still serve (migrations are additive).
"""

from lti_tool.settings import load_settings
from lti_tool.web.app import create_app, settle_heap
from lti_tool.web.observability import configure_logging
from lti_tool.workers.in_process import start_in_process

settings = load_settings()
configure_logging(settings.log_level, settings.log_format)
app = create_app(settings)
# Production sets PLC_WORKER_THREAD=false and runs `plc-bridge worker`; otherwise each process delivers too.
workers = start_in_process(app.extensions["plc_db"], settings, app.extensions["plc_services"])
settle_heap()  # last: what the lines above loaded is there for the process's life
