"""`python -m infra.local`: the whole product on one machine, built from template.yaml.

moto (server mode, in this process) hosts the stack's AWS resources; the handlers run in this
process with the environment Lambda would give them; a gateway, a scheduler on the business
clock and queue consumers stand in for API Gateway, EventBridge Scheduler and Lambda's pollers.
Every start is fresh: moto keeps nothing between runs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from infra import aws
from infra.local import console
from infra.template import REPO_ROOT

LOCAL_EMAIL_SENDER = "service@avtocentr-sever.example"

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import BaseWSGIServer

    from infra.deploy import DeployedStack
    from infra.local import demo
    from infra.local.control import Control
    from infra.local.gateway import Traffic

HOST = "127.0.0.1"
TICK_SECONDS = 0.25
STOP_POLL_SECONDS = 0.1
SWITCH_INTERVAL_SECONDS = 0.001
SHUTDOWN_WAIT_SECONDS = 5.0
MAX_GIVE_WAY_SECONDS = 30.0  # consumers wait for webhooks at most this long in a row


def step(message: str) -> None:
    console.say(f"==> {message}")


def detail(message: str) -> None:
    console.say(f"    {message}")


def quiet_emulator_logs() -> None:
    # moto logs every request it serves and every resource type its CloudFormation skips
    # (the HTTP API, schedules, alarms: the local stack reads those from the template).
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)


def lambda_like_environment(endpoint_url: str) -> dict[str, str]:
    """What every handler's process sees on Lambda, pointed at the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": aws.REGION,
        "AWS_DEFAULT_REGION": aws.REGION,
        "AWS_ACCESS_KEY_ID": aws.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": aws.SECRET_ACCESS_KEY,
        # No X-Ray daemon and no CloudWatch here: keep Powertools from trying.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        # Connector outbound URLs may be http and on 127.0.0.1 here (never on AWS).
        "TRIGLY_OUTBOUND_ALLOW_PRIVATE": "true",
    }


def prepare_environment(endpoint_url: str) -> None:
    for name in list(os.environ):
        # A developer's own AWS settings must never redirect or authenticate these calls.
        if name.startswith("AWS_ENDPOINT_URL_") or name in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}:
            del os.environ[name]
    os.environ.update(lambda_like_environment(endpoint_url))


def event_rule_target_queues(endpoint_url: str, bus: str) -> list[str]:
    """Names of the SQS queues the bus's rules deliver to (the emulator forwards events)."""
    events = aws.session().client("events", endpoint_url=endpoint_url)
    names = []
    for rule in events.list_rules(EventBusName=bus).get("Rules", []):
        for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]:
            if target["Arn"].startswith("arn:aws:sqs:"):
                names.append(target["Arn"].rsplit(":", 1)[-1])
    return names


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


@dataclass
class Running:
    moto: ThreadedMotoServer
    stack: DeployedStack
    control: Control
    gateway: BaseWSGIServer
    traffic: Traffic
    api_url: str


def start_emulator() -> tuple[ThreadedMotoServer, str]:
    """moto in server mode, in this process; the environment pointed at it."""
    from moto.server import ThreadedMotoServer

    from infra.local import emulator

    step("starting AWS emulator (moto, server mode)")
    emulator.install()
    # Handlers, the emulator and the consumers share this interpreter: a thread waiting on a
    # reply from moto gets the GIL back within 1 ms instead of Python's default 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()
    endpoint = f"http://{moto_host}:{moto_port}"
    prepare_environment(endpoint)
    detail(f"AWS_ENDPOINT_URL={endpoint}")
    return moto, endpoint


def start(port: int) -> Running:
    """Emulator, deployment, clock, handlers, gateway: everything but demo data."""
    from werkzeug.serving import make_server

    from infra.deploy import deploy
    from infra.local.control import Control
    from infra.local.gateway import AccessLog, Gateway
    from infra.local.outbox import outbox
    from infra.local.queues import SENDS, QueueConsumer
    from infra.local.runtime import FunctionHost
    from infra.local.scheduler import Scheduler, async_configs

    moto, endpoint = start_emulator()

    step("deploying template.yaml (SAM translate, CloudFormation in moto)")
    started = time.monotonic()
    # Email goes through moto's SES from a verified sender, as on AWS (CONTRACT §5).
    # Customer links (/l/{token}) point at this gateway.
    parameters = {"EmailSender": LOCAL_EMAIL_SENDER, "PublicBaseUrl": f"http://127.0.0.1:{port}"}
    stack = deploy(endpoint, parameters=parameters)
    ses = aws.session().client("ses", endpoint_url=endpoint)
    ses.verify_email_identity(EmailAddress=LOCAL_EMAIL_SENDER)
    # The union of the functions' variables, before any handler module is imported.
    os.environ.update(stack.environment())
    detail(
        f"{len(stack.functions)} functions, {len(stack.routes)} routes, "
        f"{len(stack.schedules)} schedules, {len(stack.queue_mappings)} queue consumers "
        f"in {time.monotonic() - started:.1f} s"
    )

    from infra.local.control import starting_clock
    from trigly.platform import clock

    business_clock = starting_clock()
    clock.use(business_clock)

    step("loading handlers")
    # Before any handler creates its SQS client: lets drains skip queues nothing was sent to.
    SENDS.install(event_rule_target_queues(endpoint, os.environ["TRIGLY_EVENT_BUS"]))
    host = FunctionHost(stack.functions)
    for logical_id, reason in host.warm_up().items():
        detail(f"!! {logical_id} ({stack.functions[logical_id].handler}) did not import: {reason}")
    sqs = aws.session().client("sqs", endpoint_url=endpoint)
    consumers = [QueueConsumer(m, host, sqs, stack.region) for m in stack.queue_mappings]
    scheduler = Scheduler(
        stack.schedules,
        host,
        anchor=business_clock.now(),
        account_id=stack.account_id,
        region=stack.region,
        sqs=sqs,
        async_config=async_configs(stack),
    )
    mail = outbox()
    mail.clear()

    from infra.local.ses_events import SesEventPublisher

    ses_events = SesEventPublisher(
        aws.session().client("sns", endpoint_url=endpoint),
        stack.physical_ids["EmailEventsTopic"],
        stack.account_id,
        stack.region,
    )

    def collect_mail() -> int:
        collected = mail.collect_ses(stack.account_id, stack.region)
        ses_events.publish_new()  # SES's Delivery events, which moto does not publish
        return collected

    control = Control(business_clock, scheduler, consumers, mail, collect_mail)
    host.after_invoke.append(collect_mail)

    step(f"starting the HTTP API on http://{HOST}:{port}")
    app = Gateway(stack.routes, host, account_id=stack.account_id, local_routes=control.routes)
    app.on_webhook = say_webhook
    gateway = make_server(HOST, port, app, threaded=True, request_handler=AccessLog)
    threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True).start()
    return Running(moto, stack, control, gateway, app.traffic, f"http://{HOST}:{port}")


def say_webhook(result: Any, seconds: float) -> None:
    """The terminal's line for one webhook batch (its JSON log line goes to the stack log)."""
    status = result.get("statusCode") if isinstance(result, dict) else None
    try:
        receipt = json.loads(result.get("body") or "{}") if status == 202 else {}
    except (TypeError, ValueError):
        receipt = {}
    if not isinstance(receipt, dict) or "accepted" not in receipt:
        console.say(f"    webhook: answered {status} in {seconds:.1f} s")
        return
    console.say(
        f"    webhook: {receipt['accepted']} accepted, {receipt.get('duplicates', 0)} duplicates,"
        f" {len(receipt.get('rejected', []))} rejected in {seconds:.1f} s"
    )


def one_round() -> Callable[[], bool]:
    """A `give_way` that lets a drain take one round of batches, then stops it."""
    asked = iter((False,))
    return lambda: next(asked, True)


def background(control: Control, traffic: Traffic) -> None:
    """Schedules on wall time and queue consumers, every quarter second, until the stack stops;
    giving way to requests the gateway serves."""
    from infra.local.runtime import report_failure

    waiting_since: float | None = None
    while not control.stopping.wait(TICK_SECONDS):
        give_way: Callable[[], bool] = traffic.busy
        if traffic.busy():
            waiting_since = waiting_since or time.monotonic()
            if time.monotonic() - waiting_since < MAX_GIVE_WAY_SECONDS:
                continue
            # A DMS that never pauses still lets the backlog move: one round of batches.
            give_way = one_round()
        waiting_since = None
        try:
            control.tick(give_way=give_way)
        except Exception:  # keep consuming; the traceback says what broke
            if not control.stopping.is_set():
                report_failure("background tick failed")


def seed_demo(running: Running) -> dict[str, object]:
    from infra.local import demo
    from trigly.platform import clock

    step("creating demo tenants")
    dealer = demo.create_tenant("Автоцентр Север (демо)")
    other = demo.create_tenant("Другой дилер (пусто)")
    demo.create_locations(dealer)
    step("sending demo customers, cars and visits through the webhook")
    events = demo.demo_customers(clock.now()) + demo.demo_history(clock.now())
    receipt = demo.send_events(running.api_url, dealer, events)
    processed = running.control.drain()
    detail(
        f"accepted {receipt.get('accepted')}, rejected {len(receipt.get('rejected', []))}, "
        f"applied {processed}"
    )
    step("saving example segments")
    demo.create_segments(running.api_url, dealer)
    step("sending an example campaign")
    send_demo_campaign(running, dealer)
    return {
        "api_url": running.api_url,
        **dealer.as_json(),
        "other_tenant": other.as_json(),
        # Beyond the contract: the emulator, for the AWS CLI or SDKs (dummy credentials).
        "aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"],
    }


def send_demo_campaign(running: Running, dealer: demo.DemoTenant) -> None:
    """One finished campaign to look at, whatever hour the stack starts: outside the demo
    recipients' sending window (Moscow, 09:00–21:00) the stack's clock first moves forward to the
    next noon in Moscow, as `POST /_local/clock` would (the clock never goes back), so its SMS are
    not held until the morning and the campaign ends `sent`."""
    from infra.local import demo
    from trigly.platform import clock

    now = running.control.clock.now()
    send_at = demo.next_sending_moment(now)
    if send_at > now:
        detail(f"moving the clock to {clock.isoformat(send_at)} (noon in Moscow) to send it")
        running.control.move({"to": clock.isoformat(send_at)})
    demo.create_campaign(running.api_url, dealer)
    running.control.drain()


def write_local_json(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # readers never see half a file


class StopRequest:
    """SIGINT/SIGTERM's handler: notes that a stop was asked for, and nothing else.

    A handler runs on the main thread between two bytecodes, possibly inside an earlier handler
    or inside a lock-holding call (`make` forwards its SIGTERM, a terminal sends SIGINT to the
    whole group, people press Ctrl-C twice): taking a lock there, even `Event.set()`'s, can
    deadlock the process on itself. So the handler only flips a flag, and the main thread
    polls it. While the stack is still starting, the first signal abandons the start.
    """

    def __init__(self) -> None:
        self.requested = False
        self.starting = True

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        first = not self.requested
        self.requested = True
        if first and self.starting:
            raise KeyboardInterrupt

    def wait(self) -> None:
        while not self.requested:
            time.sleep(STOP_POLL_SECONDS)


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    local_dir = Path(os.environ.get("TRIGLY_LOCAL_DIR") or REPO_ROOT / ".trigly")
    local_json = local_dir / "local.json"
    local_json.unlink(missing_ok=True)  # fresh state: an old file names tenants that are gone
    if not port_is_free(port):
        print(f"port {port} is taken: stop what uses it or run with PORT=<another port>")
        return 1

    if not console.verbose():
        console.send_output_to(local_dir / "stack.log")
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    quiet_emulator_logs()
    started = time.monotonic()
    running: Running | None = None
    try:
        running = start(port)
        threading.Thread(
            target=background,
            args=(running.control, running.traffic),
            name="ticker",
            daemon=True,
        ).start()
        content = seed_demo(running)
        stop.starting = False  # from here a signal stops the stack cleanly
        if stop.requested:  # asked between the demo and here
            raise KeyboardInterrupt
        write_local_json(local_json, content)
        print_ready(running, content, local_json, time.monotonic() - started)
        stop.wait()
        step("stopping")
        return 0
    except KeyboardInterrupt:
        step("interrupted while starting")
        return 130
    finally:
        # Further signals must neither interrupt the shutdown nor, once Python restores the
        # default handlers on exit, kill the process at the last moment.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        local_json.unlink(missing_ok=True)
        if running is not None:
            shut_down(running)


def shut_down(running: Running) -> None:
    """Consumers first (they finish the batch in hand), then the gateway, then the emulator."""
    running.control.stopping.set()
    # A drain or clock move in progress ends after the batch in hand; a stuck one is left.
    if running.control.lock.acquire(timeout=SHUTDOWN_WAIT_SECONDS):
        running.control.lock.release()
    running.gateway.shutdown()
    running.gateway.server_close()
    running.moto.stop()


def print_ready(
    running: Running, content: dict[str, object], local_json: Path, took: float
) -> None:
    url = running.api_url
    log = console.log_path()
    console.say(
        f"""
Trigly is running locally (started in {took:.1f} s). Ctrl-C stops it.

  API            {url}/v1/
  Swagger UI     {url}/docs
  OpenAPI        {url}/openapi.json
  Demo API key   {content["api_key"]}
  Connector id   {content["connector_id"]}
  local.json     {local_json}

  Move business time:  curl -X POST {url}/_local/clock -d '{{"advance": "P1D"}}'
  Sent messages:       curl {url}/_local/outbox
"""
        + (
            f"""
  Here: a line per webhook batch and per clock move. Every handler's log: {log}
"""
            if log
            else ""
        )
    )
