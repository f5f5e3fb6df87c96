"""State changes of compute targets (targets.py) and of their nodes (nodes.py): one function each.
Pages, the API, the CLI, the node agent and the reaper call these; import them from here."""

from compute.services.nodes import (  # noqa: F401
    KEEP_NODE_HISTORY,
    KEEP_PROBES,
    Directive,
    NodeRefused,
    check_room,
    do_record_heartbeat,
    do_register_node,
    lost_nodes,
    mark_node_stopped,
    reap_nodes,
    target_for_queue,
)
from compute.services.targets import (  # noqa: F401
    LOCAL_DEFAULTS,
    MACHINE_FIELDS,
    check_assignee,
    check_can_accept,
    check_can_operate,
    create_local_target,
    do_create_compute,
    do_delete_compute,
    do_record_scaler_call,
    do_request_drain,
    do_request_node,
    do_send_probe,
    do_start_compute,
    do_stop_compute,
    do_update_compute,
    refusal_to_run,
)
