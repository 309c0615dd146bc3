"""The Celery application for production: the broker comes from CELERY_BROKER_URL or REDIS_URL.

Processes: ``celery -A config worker`` runs jobs; ``celery -A config beat`` runs the schedule in
``CELERY_BEAT_SCHEDULE`` (settings). The embedded default never imports this module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("partyedu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["partyedu.core"])
