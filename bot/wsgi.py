"""WSGI entry point for gunicorn: `gunicorn bot.wsgi:app`."""

from bot.logs import configure
from bot.settings import Settings
from bot.web import create_app

configure()
app = create_app(Settings.from_env())
