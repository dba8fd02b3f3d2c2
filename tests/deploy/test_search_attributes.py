"""The session search attributes are registered wherever a Temporal server runs: an unknown one fails
every SessionWorkflow task that upserts it (therapybridge/search_attributes.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from tests.support.harness import temporal_cli
from therapybridge import search_attributes as sa
from therapybridge.settings import Settings
from therapybridge.temporal import dev_server_command, ensure_search_attributes


def test_the_supervisors_dev_server_registers_them(tmp_path: Path) -> None:
    cmd = dev_server_command(Settings(data_dir=tmp_path), "temporal")
    pairs = {cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--search-attribute"}
    assert pairs == {"SessionStage=Keyword", "SessionStatus=Keyword"}


async def test_the_io_worker_registers_them_on_a_bare_server_and_again_is_a_no_op() -> None:
    """What the io worker does at start (ensure_search_attributes): on a server nobody set up."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), dev_server_startup_timeout=timedelta(seconds=180)
    ) as env:
        request = ListSearchAttributesRequest(namespace=env.client.namespace)

        async def listed() -> dict[str, int]:
            return dict((await env.client.operator_service.list_search_attributes(request)).custom_attributes)

        assert not {k.name for k in sa.KEYS} & set(await listed())
        await ensure_search_attributes(env.client, env.client.namespace)
        keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        assert {k.name: keyword for k in sa.KEYS}.items() <= (await listed()).items()
        await ensure_search_attributes(env.client, env.client.namespace)  # idempotent
