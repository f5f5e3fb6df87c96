"""First-run set-up for `make run`: the admin account and a default workspace (idempotent)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from studio import services
from studio.models import Membership, Workspace


class Command(BaseCommand):
    help = "Create the admin user (password from STUDIO_ADMIN_PASSWORD or generated) and the default workspace."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--workspace", default=None)

    @transaction.atomic
    def handle(self, *args, username: str, workspace: str | None, **options):
        from django.conf import settings

        User = get_user_model()
        password = os.environ.get("STUDIO_ADMIN_PASSWORD", "")
        admin = User.objects.filter(username=username).first()
        if admin is None:
            generated = not password
            password = password or secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(username=username, email="", password=password)
            if generated:
                self.stdout.write(
                    self.style.WARNING(
                        f"\n  Created the admin account.  username: {username}   password: {password}\n"
                        "  (shown once; set STUDIO_ADMIN_PASSWORD to choose it yourself)\n"
                    )
                )
            else:
                self.stdout.write(f"Created the admin account '{username}' with STUDIO_ADMIN_PASSWORD.")
        elif password and not admin.check_password(password):
            admin.set_password(password)
            admin.save(update_fields=["password"])
            self.stdout.write(f"Updated the password of '{username}' from STUDIO_ADMIN_PASSWORD.")
        name = workspace or settings.STUDIO_DEFAULT_WORKSPACE
        ws = Workspace.objects.filter(name=name).first()
        if ws is None:
            ws = services.do_create_workspace(name=name, actor=admin, description="Created by Studio on first start.")
            self.stdout.write(f"Created the workspace '{ws.name}' with {username} as Owner.")
        elif not Membership.objects.filter(workspace=ws, user=admin).exists():
            self.stdout.write(f"The workspace '{ws.name}' exists; {username} is not a member of it.")
