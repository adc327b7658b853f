"""The operator CLI creates a working tenant in a deployed stack."""

import json
import os

import pytest

from infra.deploy import DeployedStack
from tests.support import reset_process_caches
from trigly.cli import STACK_OUTPUTS, main
from trigly.messaging.settings import messaging_settings
from trigly.platform import tenancy


def test_tenant_create_reads_the_stack_outputs_and_issues_working_credentials(
    stack: DeployedStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell that knows only the stack's name
    for variable in STACK_OUTPUTS.values():
        monkeypatch.delenv(variable)
    reset_process_caches()
    # When an operator creates a tenant
    assert (
        main(
            [
                "--stack",
                stack.stack_name,
                "tenant",
                "create",
                "Автомир Юг",
                "--timezone",
                "Asia/Yekaterinburg",
            ]
        )
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    # Then its key authenticates as that tenant and its connector exists with the secret shown
    assert os.environ["TRIGLY_MAIN_TABLE"] == stack.outputs["MainTableName"]
    assert tenancy.authenticate(f"Bearer {created['api_key']}").tenant_id == created["tenant_id"]
    connector = tenancy.get_connector(created["tenant_id"], created["connector_id"])
    assert connector.signing_secrets(connector.created_at) == [created["webhook_secret"]]
    assert tenancy.get_tenant(created["tenant_id"]).timezone == "Asia/Yekaterinburg"
    # A deployed tenant is not in sandbox mode unless the operator says so
    assert messaging_settings(created["tenant_id"]).sandbox is False
    assert main(["--stack", stack.stack_name, "tenant", "create", "Проба", "--sandbox"]) == 0
    trial = json.loads(capsys.readouterr().out)
    assert messaging_settings(trial["tenant_id"]).sandbox is True
