"""Event handlers: each decides whether an event needs work and describes the job; the web
layer records and enqueues it. No handler talks to GitHub or git."""

from bot.handlers import check_run, comments, forks, pulls, push, workflow_run
from bot.routing import Router

router = Router()
for module in (forks, push, check_run, comments, pulls, workflow_run):
    module.register(router)

__all__ = ["router"]
