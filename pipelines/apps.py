from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "pipelines"
    verbose_name = "Pipelines"

    def ready(self) -> None:
        from jobs import children
        from jobs.models import JobType
        from pipelines import deletion
        from pipelines.schema import PipelineJobSpec
        from pipelines.services import pipelines
        from studio import deletion as workspace_deletion
        from studio.activity import register_messages

        children.register(
            JobType.PIPELINE,
            children.TypeHandler(
                submit=pipelines.do_submit_pipeline,
                child_ended=pipelines.on_step_ended,
                cancel=pipelines.do_cancel_pipeline,
                page="pipelines:pipeline_detail",
                validate=pipelines.validate_pipeline,
                create=("Submit pipeline", "pipelines:pipeline_create"),
                schema=PipelineJobSpec,
            ),
        )
        workspace_deletion.register(deletion.PART)
        register_messages(
            {
                "component.created": "created the component {target}",
                "component.archived": "archived the component {target}",
                "component.restored": "restored the component {target}",
                "pipeline.submitted": "submitted the pipeline {target} ({experiment}, {steps} steps)",
                "pipeline.canceled": "canceled the pipeline {target}",
                "pipeline.ended": "the pipeline {target} ended: {status}",
            }
        )
