from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "schedules"
    verbose_name = "Schedules"

    def ready(self) -> None:
        from schedules import deletion
        from schedules import search as schedule_search
        from studio import deletion as studio_deletion
        from studio import search
        from studio.activity import register_messages

        search.register("schedules", "Schedules", 25, schedule_search.schedules)

        studio_deletion.register(deletion.PART)
        register_messages(
            {
                "schedule.created": "created the schedule {target}",
                "schedule.updated": "changed the schedule {target}",
                "schedule.enabled": "resumed the schedule {target}",
                "schedule.disabled": "paused the schedule {target}",
                "schedule.deleted": "deleted the schedule {target}",
                "schedule.fired": "the schedule {target} submitted the job {job}",
                "schedule.refused": "the schedule {target} submitted nothing: {reason}",
            }
        )
