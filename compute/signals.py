"""Signals other apps listen to.

`node_lost` is sent by the reaper (compute.services.reap_nodes, run by `manage.py studio_reaper`) once
for each node it marks Unreachable, with `node` (a compute.models.Node: `worker_name` equals the
`self.request.hostname` of the tasks it ran) and `target` (its ComputeTarget, None for the shared
local queue). The jobs app connects a receiver that fails that node's unfinished jobs with the
reason "node lost". Receivers run in the reaper task, outside any transaction.
"""

from django.dispatch import Signal

node_lost = Signal()
