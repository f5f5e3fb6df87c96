"""Compute sizes fit the machines Studio sees: a new target's default is no bigger than the host,
and the form offers the sizes that fit (bigger ones once a node reports a bigger machine)."""

from __future__ import annotations

import os

import pytest

from compute import services, sizes
from compute.capabilities import largest_machine, memory_mb
from tests.compute.conftest import make_target

pytestmark = pytest.mark.django_db


def test_the_default_size_is_the_biggest_that_fits_a_small_machine():
    assert sizes.default_for(sizes.Machine(16, 65536))["size"] == sizes.DEFAULT_SIZE
    assert sizes.default_for(sizes.Machine(2, 8192))["size"] == "Standard_D2s_v3"
    assert sizes.default_for(sizes.Machine(2, 4096))["size"] == "Standard_DS1_v2"
    tiny = sizes.default_for(sizes.Machine(1, 2048))
    assert tiny == {"size": "", "cpu_cores": 1, "memory_mb": 1536, "gpus": 0}


def test_a_new_docker_target_is_no_bigger_than_this_host(workspace, owner):
    target = make_target(workspace, owner, name="dock", type="docker")
    assert float(target.cpu_cores) <= (os.cpu_count() or 1)
    assert target.memory_mb <= memory_mb()


def test_the_form_offers_sizes_that_fit_and_more_once_a_bigger_node_reports(client, workspace, owner):
    client.force_login(owner)
    here = largest_machine()
    form = client.get("/w/ws-main/compute/new/?type=cluster").content.decode()
    too_big = [s for s in sizes.SIZES if not sizes.fits(s, here)]
    for size in too_big:
        assert f'value="{size.name}"' not in form
    assert 'value="Standard_DS1_v2"' in form or here.memory_mb < 3584
    target = make_target(workspace, owner, name="big", size="Standard_DS1_v2")
    services.do_register_node(
        queue=target.queue_name,
        worker_name="big@box",
        hostname="box",
        pid=1,
        capacity=1,
        report={"cpu_count": 64, "memory_mb": 262144, "gpus": 0, "backends": {}, "pythons": []},
    )
    form = client.get("/w/ws-main/compute/new/?type=cluster").content.decode()
    assert 'value="Standard_D16s_v3"' in form
