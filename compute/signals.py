"""Signals other apps listen to.

`node_lost` is sent by the reaper (compute.services.reap_nodes, run by `manage.py studio_reaper`) once
for each node it marks Unreachable, with `node` (a compute.models.Node: `worker_name` equals the
`self.request.hostname` of the tasks it ran) and `target` (its ComputeTarget, None for the shared
local queue). The jobs app connects a receiver that fails that node's unfinished jobs with the
reason "node lost". Receivers run in the reaper task, outside any transaction.

`node_agent_started` is sent in a worker process once its node agent (compute.node) has registered
its nodes, with `node_ids` ({queue: Node pk}); `node_agent_stopping` when that worker shuts down,
before its nodes are marked Stopped. Higher apps hang per-node work on them (the endpoints app
keeps the deployment instances assigned to these nodes). Sent robustly: a failing receiver is
logged and never stops the node.
"""

from django.dispatch import Signal

node_lost = Signal()
node_agent_started = Signal()
node_agent_stopping = Signal()
