from django.core.management.base import BaseCommand

from environments import curated


class Command(BaseCommand):
    help = "Load environments/curated/*.yml into the database (new versions for changed files). Idempotent."

    def handle(self, *args, **options):
        changes = curated.sync()
        for change in changes:
            self.stdout.write(f"Curated environments: {change}")
        if not changes:
            self.stdout.write("Curated environments are up to date.")
