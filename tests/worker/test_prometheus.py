"""The worker's own /metrics port, scraped while it runs a real task from the real API."""

from __future__ import annotations

import asyncio

import httpx

from graph.context import AppState
from tests.factories import Api
from tests.fakes.ollama import FakeOllama, Script
from tests.graph.support import Samples, scrape, value
from tests.graph.tasks.support import insight_reaching, request_insight
from tests.worker import worker_settings
from worker.client import Worker, build_runner
from worker.llm import OllamaLLM


async def test_the_worker_serves_its_task_and_connection_metrics(
    api: Api, app_state: AppState
) -> None:
    account = await api.sign_up()
    with FakeOllama() as fake:
        fake.script = Script(reply="A fine week of work.")
        settings = worker_settings(fake.url).model_copy(
            update={"api_grpc_address": f"127.0.0.1:{app_state.grpc_port}", "metrics_port": 0}
        )
        async with OllamaLLM(settings) as llm:
            worker = Worker(
                settings, build_runner(llm), capabilities=("generate_insight",), model="m"
            )
            stop = asyncio.Event()
            running = asyncio.create_task(worker.run(stop))
            try:
                await asyncio.wait_for(worker.connected.wait(), 10)
                assert worker.metrics_port is not None
                url = f"http://127.0.0.1:{worker.metrics_port}"
                async with httpx.AsyncClient(base_url=url) as client:
                    before = await scrape(client)
                    insight_id = await request_insight(api, account)
                    await insight_reaching(api, account, insight_id)
                    # The worker counts the task done once its report call has returned,
                    # which may be a moment after the API stored the insight.
                    after: Samples = await scrape(client)
                    for _ in range(100):
                        if value(after, "englog_worker_running_tasks") == 0:
                            break
                        await asyncio.sleep(0.05)
                        after = await scrape(client)
            finally:
                stop.set()
                await asyncio.wait_for(running, 20)

    assert value(before, "englog_worker_connected") == 1
    assert value(after, "englog_worker_running_tasks") == 0
    assert (
        value(after, "englog_worker_tasks_total", kind="generate_insight", outcome="succeeded") == 1
    )
    assert value(after, "englog_worker_task_duration_seconds_count", kind="generate_insight") == 1
    assert value(after, "englog_worker_llm_tokens_per_second_count") == 1
