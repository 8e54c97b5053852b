"""SAM deploy parity against moto's server, through the real ``strata`` executable: a project with the
samconfig.toml ``sam deploy --guided`` writes (tests/data/sam-guided) deploys unchanged with ``--target aws``
(resolve_s3: SAM's managed bucket stack; confirm_changeset: the question on stdin; region, s3_prefix, capabilities,
parameter_overrides), parameters not passed again keep their deployed values (UsePreviousValue), a NoEcho value is
never printed, ``--fail-on-empty-changeset`` makes "no changes" an error, and ``strata delete --target aws`` deletes
the stack. Only ``--endpoint-url`` is added on the command line (it points at moto)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server")
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")   # moto has no AWS::S3::BucketPolicy

DATA = Path(__file__).resolve().parents[1] / "data" / "sam-guided"
STRATA = str(Path(sys.executable).parent / "strata")
SECRET = "t0ken-Secret-42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _run(app: Path, endpoint: str, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATA_", "AWS_"))}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": str(app / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(app / "none"),
                "STRATA_HOME": str(app.parent / "home")})
    done = subprocess.run([STRATA, *args, "--endpoint-url", endpoint], cwd=app, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)
    if check and done.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def _parameters(endpoint: str) -> dict[str, str]:
    import boto3

    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    stack = cfn.describe_stacks(StackName="sam-app")["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []}


def test_a_guided_samconfig_deploys_unchanged_and_delete_removes_the_stack(tmp_path, endpoint):
    app = tmp_path / "sam-app"
    shutil.copytree(DATA, app)
    before = (app / "samconfig.toml").read_bytes()
    printed: list[str] = []

    declined = _run(app, endpoint, "deploy", "--target", "aws", stdin="n\n")     # confirm_changeset = true
    printed += [declined.stdout, declined.stderr]
    assert "aws-sam-cli-managed-default" in declined.stderr                     # resolve_s3 = true
    assert "Deploy this changeset?" in declined.stderr
    assert "not executed (not confirmed)" in declined.stdout

    import boto3
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    cfn.delete_stack(StackName="sam-app")   # moto: a second CREATE change set would make a second stack

    done = _run(app, endpoint, "deploy", "--target", "aws", "--parameter-overrides", f"ApiToken={SECRET}",
                "Stage=prod", stdin="y\n")
    printed += [done.stdout, done.stderr]
    assert "Verified: every function of sam-app serves what was deployed." in done.stdout
    managed = cfn.describe_stacks(StackName="aws-sam-cli-managed-default")["Stacks"][0]
    bucket = next(o["OutputValue"] for o in managed["Outputs"] if o["OutputKey"] == "SourceBucket")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys and all(k.startswith("sam-app/") for k in keys)                # s3_prefix
    assert _parameters(endpoint)["Stage"] == "prod"
    import json
    body = cfn.get_template(StackName="sam-app", TemplateStage="Processed")["TemplateBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    assert "TOKEN" in text and SECRET not in text      # the fingerprint metadata CloudFormation stores is masked

    # a parameter not given again keeps the deployed value (samconfig's Stage="dev" is an override: it wins)
    done = _run(app, endpoint, "deploy", "--target", "aws", "--no-confirm-changeset")
    printed += [done.stdout, done.stderr]
    assert _parameters(endpoint)["Stage"] == "dev"
    assert _parameters(endpoint)["ApiToken"] in ("****", SECRET)                 # kept (UsePreviousValue)

    empty = _run(app, endpoint, "deploy", "--target", "aws", "--fail-on-empty-changeset", check=False)
    printed += [empty.stdout, empty.stderr]
    assert empty.returncode == 1 and "no changes to deploy" in empty.stderr

    gone = _run(app, endpoint, "delete", "--target", "aws", "--no-prompts")
    assert "Stack sam-app deleted." in gone.stdout
    assert not [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == "sam-app" and s["StackStatus"] != "DELETE_COMPLETE"]
    assert (app / "samconfig.toml").read_bytes() == before
    assert SECRET not in "\n".join(printed)
