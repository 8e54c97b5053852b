"""``deploy_to_aws`` and ``verify_aws`` against moto's server on a free loopback port (S3, CloudFormation, Lambda,
IAM, STS): artifacts uploaded once, change set created and executed, outputs read, a no-op deploy detected.

moto's CloudFormation departs from AWS (reference lambda.md 12.6): it skips AWS::Lambda::Alias, records no physical
id for AWS::Lambda::Version, drops all outputs when one cannot be resolved, and quietly "succeeds" where AWS fails a
Version that publishes nothing; it never fills a stack's outputs when a change set is executed (the output map is
built when the stack object is created, before any resource exists, and ``ChangeSet.apply`` does not rebuild it);
and a CREATE change set on a stack in REVIEW_IN_PROGRESS makes a second stack of the same name. So the apps here avoid
aliases where the test depends on them, and the behaviour that needs real CloudFormation semantics (the
failed-Version-publish path, change set contents, adoption, repair) is covered with botocore's Stubber in
tests/unit/aws/.
"""
from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server")

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: Hello
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      Timeout: 5
      Environment:
        Variables:
          GREETING: !Ref Greeting
Outputs:
  HelloArn:
    Value: !GetAtt HelloFunction.Arn
"""

# With AutoPublishAlias: moto skips the alias (and its GetAtt Version), so such a stack is deployed without verify.
ALIAS_TEMPLATE = TEMPLATE.replace("      Timeout: 5\n", "      Timeout: 5\n      AutoPublishAlias: live\n").split(
    "Outputs:")[0]


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


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch, tmp_path):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))


@pytest.fixture
def names(endpoint):
    """A fresh bucket (created) and stack name per test: moto's state is shared by the module's tests."""
    import boto3

    suffix = uuid.uuid4().hex[:10]
    bucket = f"strata-test-{suffix}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {"bucket": bucket, "stack": f"strata-{suffix}"}


def _project(root: Path, template: str = TEMPLATE, body: str = "return 'hello'") -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app.py").write_text(f"def handler(event, context):\n    {body}\n")
    (root / "template.yaml").write_text(template)
    return root / "template.yaml"


def _config(template: Path, names: dict, endpoint: str, **extra):
    from strata.model.deploy import DeploySettings

    return DeploySettings(template_path=template, stack_name=names["stack"], target="aws", s3_bucket=names["bucket"],
                          s3_prefix="app", region="us-east-1", endpoint_url=endpoint, **extra)


def _deploy(config, endpoint):
    from strata.aws.deploy import deploy_to_aws
    from strata.aws.session import AwsSession

    lines: list[str] = []
    result = deploy_to_aws(config, session=AwsSession("us-east-1", None, endpoint), out=lines.append,
                           sleep=lambda _s: None)
    return result, "\n".join(lines)


def test_deploy_uploads_once_executes_reads_outputs_and_detects_no_op(tmp_path, names, endpoint):
    template = _project(tmp_path / "app")
    config = _config(template, names, endpoint)

    first, text = _deploy(config, endpoint)
    assert first.outcome == "deployed" and first.status == "CREATE_COMPLETE"
    assert first.change_set.change_set_type == "CREATE"
    assert len(first.uploads.uploaded) == 1 and first.uploads.present == []
    assert first.uploads.uploaded[0].startswith("app/") and first.uploads.uploaded[0].endswith(".zip")
    assert {(c.action, c.logical_id) for c in first.change_set.changes} >= {("Add", "HelloFunction"),
                                                                           ("Add", "HelloFunctionRole")}
    # moto never fills outputs for change-set stacks (module docstring): reading them is covered with the Stubber.
    assert first.outputs == {}
    assert first.verify is not None and first.verify.ok, first.verify.findings
    assert "Verified: every function" in text

    second, text = _deploy(config, endpoint)
    assert second.outcome == "no-changes" and second.uploads.uploaded == []
    assert len(second.uploads.present) == 1
    assert "No changes: stack" in text

    import boto3
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    listed = {c["ChangeSetName"] for c in cfn.list_change_sets(StackName=names["stack"])["Summaries"]}
    assert second.change_set.name not in listed            # the empty change set was deleted

    _project(tmp_path / "app", body="return 'hello again'")
    third, text = _deploy(config, endpoint)
    assert third.outcome == "deployed" and third.status == "UPDATE_COMPLETE"
    assert third.change_set.change_set_type == "UPDATE"
    assert len(third.uploads.uploaded) == 1 and len(third.uploads.present) == 0
    assert ("Modify", "HelloFunction") in {(c.action, c.logical_id) for c in third.change_set.changes}
    assert third.verify.ok, third.verify.findings


def test_fingerprints_are_recorded_and_explain_the_next_version(tmp_path, names, endpoint):
    template = _project(tmp_path / "app", ALIAS_TEMPLATE)
    config = _config(template, names, endpoint, verify=False)
    first, text = _deploy(config, endpoint)
    assert "publish a new version" in text and "first deploy of the stack" in text

    import boto3
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    body = cfn.get_template(StackName=names["stack"], TemplateStage="Processed")["TemplateBody"]
    recorded = body["Metadata"]["strata"]["fingerprints"]["HelloFunction"]
    assert recorded["version"].startswith("HelloFunctionVersion") and "Code" in recorded["inputs"]

    second, text = _deploy(_config(template, names, endpoint, verify=False,
                                   parameter_overrides={"Greeting": "Hi"}), endpoint)
    assert second.outcome == "deployed"
    assert "Environment.Variables.GREETING changed (Hello -> Hi)" in text
    # moto applies the Version replacement without publishing version 2 (reference 12.6); on AWS the alias
    # would now serve version 2. Not asserted here: see tests/unit/aws for the AWS-shaped path.


def test_no_execute_changeset_leaves_the_change_set(tmp_path, names, endpoint):
    template = _project(tmp_path / "app")
    result, text = _deploy(_config(template, names, endpoint, execute=False), endpoint)
    assert result.outcome == "change-set-created"
    assert "aws cloudformation execute-change-set" in text

    import boto3
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    assert cfn.describe_stacks(StackName=names["stack"])["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    # Deploying again must send a CREATE change set (the stack holds nothing yet); moto then makes a second stack
    # of the same name, so that step is covered with the Stubber (tests/unit/aws/test_deploy_stubbed.py).


def test_missing_bucket_is_reported_with_what_to_do(tmp_path, names, endpoint):
    from strata.aws.errors import BucketNotFoundError

    template = _project(tmp_path / "app")
    with pytest.raises(BucketNotFoundError) as info:
        _deploy(_config(template, {**names, "bucket": "strata-no-such-bucket"}, endpoint), endpoint)
    assert "S3 bucket strata-no-such-bucket does not exist" in info.value.message
    assert "aws s3 mb s3://strata-no-such-bucket" in info.value.hint


def test_verify_aws_finds_and_repairs_latest_drift(tmp_path, names, endpoint):
    import boto3

    from strata.aws.session import AwsSession
    from strata.aws.verify import verify_aws

    template = _project(tmp_path / "app")
    result, _ = _deploy(_config(template, names, endpoint), endpoint)
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    name = cfn.describe_stack_resource(StackName=names["stack"], LogicalResourceId="HelloFunction")[
        "StackResourceDetail"]["PhysicalResourceId"]
    lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    lam.update_function_configuration(FunctionName=name, Timeout=30, Environment={"Variables": {"GREETING": "Yo"}})

    session = AwsSession("us-east-1", None, endpoint)
    report = verify_aws(session, names["stack"], sleep=lambda _s: None)
    assert sorted(f.message for f in report.findings) == [
        "$LATEST has Timeout 30; the deployed configuration has Timeout 5",
        "$LATEST has environment variable GREETING=Yo; the deployed configuration has GREETING=Hello"]

    repaired = verify_aws(session, names["stack"], repair=True, sleep=lambda _s: None)
    assert repaired.ok and repaired.repairs == ["HelloFunction: restored $LATEST Environment, Timeout"]
    assert lam.get_function_configuration(FunctionName=name)["Timeout"] == 5


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from strata.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_cli_deploy_target_aws_reads_samconfig_and_verify_target_aws(tmp_path, names, endpoint, capsys):
    template = _project(tmp_path / "app")
    (tmp_path / "app" / "samconfig.toml").write_text(
        "version = 0.1\n[default.deploy.parameters]\n"
        f'stack_name = "{names["stack"]}"\ns3_bucket = "{names["bucket"]}"\ns3_prefix = "cli"\n'
        'region = "us-east-1"\ncapabilities = "CAPABILITY_IAM"\nparameter_overrides = "Greeting=Howdy"\n'
        'tags = "team=web"\n')
    code, out, err = _cli(["deploy", "-t", str(template), "--target", "aws", "--endpoint-url", endpoint], capsys)
    assert code == 0, out + err
    assert "Artifacts: 1 uploaded" in out and "  Add     HelloFunction" in out
    assert "Verified: every function" in out
    assert "CREATE_COMPLETE" in err                       # progress (events) goes to stderr

    code, out, err = _cli(["deploy", "-t", str(template), "--target", "aws", "--endpoint-url", endpoint,
                           "--output", "json"], capsys)
    assert code == 0, err
    import json
    report = json.loads(out)
    assert report["outcome"] == "no-changes" and report["uploaded"] == [] and report["verify"]["ok"]

    code, out, err = _cli(["verify", "-t", str(template), "--target", "aws", "--endpoint-url", endpoint], capsys)
    assert code == 0, out + err
    assert f"Stack {names['stack']} (aws):" in out and "OK: every function serves what was deployed." in out

    import boto3
    lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    name = cfn.describe_stack_resource(StackName=names["stack"], LogicalResourceId="HelloFunction")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"] == {"GREETING": "Howdy"}
    lam.update_function_configuration(FunctionName=name, MemorySize=512)
    code, out, err = _cli(["verify", "-t", str(template), "--target", "aws", "--endpoint-url", endpoint], capsys)
    assert code == 1
    assert "HelloFunction: $LATEST has MemorySize 512; the deployed configuration has MemorySize 128" in out


def test_cli_deploy_target_aws_without_bucket_is_a_usage_error(tmp_path, endpoint, capsys, monkeypatch):
    template = _project(tmp_path / "app")
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(["deploy", "-t", str(template), "--target", "aws", "--stack-name", "s",
                           "--endpoint-url", endpoint], capsys)
    assert code == 2 and "no S3 bucket for the code artifacts" in err and "--s3-bucket" in err


def test_version_description_only_edit_changes_no_version(tmp_path, names, endpoint):
    described = ALIAS_TEMPLATE.replace("      AutoPublishAlias: live\n",
                                       "      AutoPublishAlias: live\n      VersionDescription: \"1\"\n")
    template = _project(tmp_path / "app", described)
    config = _config(template, names, endpoint, verify=False)
    first, _ = _deploy(config, endpoint)
    assert first.outcome == "deployed"
    (version_id,) = [v.version_id for v in first.versions]

    _project(tmp_path / "app", described.replace('VersionDescription: "1"', 'VersionDescription: "2"'))
    second, text = _deploy(config, endpoint)
    # the change set would replace the Version (Description is a replacement property), and that publish fails on
    # AWS: the deployed Version keeps the description it was published with, so there is nothing to change
    assert second.outcome == "no-changes", text
    assert f"note: {version_id}: VersionDescription change takes effect at the next publish" in text

    import boto3
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    body = cfn.get_template(StackName=names["stack"], TemplateStage="Processed")["TemplateBody"]
    assert body["Resources"][version_id]["Properties"]["Description"] == "1"

    _project(tmp_path / "app", described.replace('VersionDescription: "1"', 'VersionDescription: "2"'),
             body="return 'hello again'")
    third, text = _deploy(config, endpoint)
    assert third.outcome == "deployed"
    (new_id,) = [v.version_id for v in third.versions]
    assert new_id != version_id
    body = cfn.get_template(StackName=names["stack"], TemplateStage="Processed")["TemplateBody"]
    assert body["Resources"][new_id]["Properties"]["Description"] == "2"
