import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# get_asgi_application() sets Django up: the apps' ready() register their mounts first.
django_application = get_asgi_application()

from studio import asgi_mounts  # noqa: E402

application = asgi_mounts.dispatcher(django_application)
