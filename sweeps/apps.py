from django.apps import AppConfig


class SweepsConfig(AppConfig):
    name = "sweeps"
    verbose_name = "Sweeps"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from jobs import children
        from jobs.models import JobType
        from studio.activity import register_messages
        from sweeps import services
        from sweeps.models import Sweep
        from sweeps.spec import SweepJobSpec

        children.register(
            JobType.SWEEP,
            children.TypeHandler(
                submit=services.do_submit_sweep,
                child_ended=services.on_trial_ended,
                child_started=services.on_trial_started,
                cancel=services.do_cancel_sweep,
                page="sweeps:sweep_detail",
                validate=services.validate_sweep,
                create=("Create sweep", "sweeps:sweep_create"),
                schema=SweepJobSpec,
            ),
        )
        post_delete.connect(services.drop_journal, sender=Sweep, dispatch_uid="sweeps.drop_journal")
        register_messages(
            {
                "sweep.submitted": "submitted the sweep {target} ({experiment}, on {compute})",
                "sweep.canceled": "canceled the sweep {target}",
                "sweep.ended": "the sweep {target} ended: {status}",
            }
        )
