"""The WSGI app for any WSGI server: `gunicorn 'presszero.wsgi:app'` (set REDIS_URL)."""

from __future__ import annotations

from presszero import create_app

app = create_app()
