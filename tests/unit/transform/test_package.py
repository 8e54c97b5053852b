"""Packageable local paths in the transform (``strata.transform.package``): rewritten as ``sam package`` does for
``--target aws``, inlined for the local target, refused where the local engine cannot follow."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from strata.errors import TemplateError
from strata.transform.package import S3Packaging, package_paths
from strata.transform.pipeline import transform

AWS = S3Packaging("deploy-bucket", "app/", "https://s3.eu-west-1.amazonaws.com")

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: flow.asl.yaml
      Role: arn:aws:iam::123456789012:role/sfn
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: rest.yaml
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: http.json
  Schema:
    Type: AWS::AppSync::GraphQLSchema
    Properties:
      ApiId: abc
      DefinitionS3Location: schema.graphql
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: 5
      Fn::Transform:
        Name: AWS::Include
        Parameters:
          Location: queue.yaml
"""

FILES = {"flow.asl.yaml": "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n",
         "rest.yaml": "openapi: 3.0.1\ninfo: {title: r, version: '1'}\npaths: {}\n",
         "http.json": '{"openapi": "3.0.1", "info": {"title": "h", "version": "1"}, "paths": {}}',
         "schema.graphql": "type Query { hi: String }\n", "queue.yaml": "VisibilityTimeout: 60\n"}


def _project(root: Path, template: str = TEMPLATE, files: dict[str, str] = FILES) -> Path:
    for rel, text in {**files, "template.yaml": template}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "template.yaml"


def test_local_target_inlines_each_file_where_the_resource_reads_it(tmp_path):
    result = transform(_project(tmp_path / "app"), home=tmp_path / "home")
    res = result.template["Resources"]
    assert res["Machine"]["Properties"]["Definition"] == {"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                                         "End": True}}}
    assert "DefinitionS3Location" not in res["Machine"]["Properties"]
    assert res["Rest"]["Properties"]["Body"]["info"]["title"] == "r"
    assert res["Http"]["Properties"]["Body"]["info"]["title"] == "h"
    assert res["Schema"]["Properties"] == {"ApiId": "abc", "Definition": "type Query { hi: String }\n"}
    assert res["Queue"]["Properties"] == {"DelaySeconds": 5, "VisibilityTimeout": 60}
    assert [f.source.name for f in result.files] == ["flow.asl.yaml", "rest.yaml", "http.json", "schema.graphql",
                                                     "queue.yaml"]
    assert result.uploads == []


def test_an_edited_definition_file_reaches_the_template_through_the_translator_cache(tmp_path):
    template, home = _project(tmp_path / "app"), tmp_path / "home"
    first = transform(template, home=home)
    deployments = {k for k in first.template["Resources"] if k.startswith("RestDeployment")}
    (tmp_path / "app/rest.yaml").write_text(FILES["rest.yaml"].replace("title: r", "title: r2"))
    (tmp_path / "app/flow.asl.yaml").write_text(FILES["flow.asl.yaml"].replace("Pass", "Succeed").replace(
        ", End: true", ""))
    again = transform(template, home=home)
    assert not again.translated_from_cache
    assert again.template["Resources"]["Rest"]["Properties"]["Body"]["info"]["title"] == "r2"
    assert again.template["Resources"]["Machine"]["Properties"]["Definition"]["States"]["A"] == {"Type": "Succeed"}
    assert deployments.isdisjoint(k for k in again.template["Resources"] if k.startswith("RestDeployment"))
    assert transform(template, home=home).translated_from_cache


def test_aws_target_rewrites_each_path_as_sam_package_does(tmp_path):
    result = transform(_project(tmp_path / "app"), home=tmp_path / "home", code_bucket=AWS.bucket,
                       code_prefix=AWS.prefix, packaging=AWS)
    res = result.template["Resources"]
    keys = {u.key for u in result.uploads}
    machine = res["Machine"]["Properties"]["DefinitionS3Location"]
    assert machine["Bucket"] == "deploy-bucket" and machine["Key"] in keys and machine["Key"].endswith(".yaml")
    assert res["Rest"]["Properties"]["BodyS3Location"]["Key"] in keys
    assert res["Http"]["Properties"]["BodyS3Location"]["Key"] in keys
    assert res["Schema"]["Properties"]["DefinitionS3Location"].startswith("s3://deploy-bucket/app/")
    include = res["Queue"]["Properties"]["Fn::Transform"]["Parameters"]["Location"]
    assert include.startswith("s3://deploy-bucket/app/") and include.split("/", 3)[3] in keys
    assert {u.path.name for u in result.uploads} == set(FILES)
    assert all(k.startswith("app/") for k in keys)


def test_every_sam_package_form(tmp_path):
    (tmp_path / "f.zip").write_bytes(b"PK")
    (tmp_path / "s.py").write_text("x\n")
    data = {"Resources": {
        "Bean": {"Type": "AWS::ElasticBeanstalk::ApplicationVersion", "Properties": {"SourceBundle": "f.zip"}},
        "Glue": {"Type": "AWS::Glue::Job", "Properties": {"Command": {"Name": "glueetl", "ScriptLocation": "s.py"}}},
        "Sfn": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionS3Location": "s.py"}}}}
    packaged = package_paths(data, tmp_path, packaging=AWS)
    res = packaged.data["Resources"]
    assert set(res["Bean"]["Properties"]["SourceBundle"]) == {"S3Bucket", "S3Key"}
    assert res["Glue"]["Properties"]["Command"] == {"Name": "glueetl",
                                                    "ScriptLocation": f"s3://deploy-bucket/{packaged.uploads[1].key}"}
    assert set(res["Sfn"]["Properties"]["DefinitionS3Location"]) == {"Bucket", "Key"}
    assert data["Resources"]["Bean"]["Properties"]["SourceBundle"] == "f.zip"   # the caller's data is untouched


def test_a_nested_template_is_packaged_with_its_code_then_uploaded(tmp_path):
    files = {"nested/child.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                                  "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.h\n"
                                  "      Runtime: python3.12\n      Layers: [!Ref L]\n  L:\n"
                                  "    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: lib\n",
             "nested/a.py": "def h(e, c):\n    return 1\n", "nested/lib/util.py": "X = 1\n"}
    template = _project(tmp_path / "app", "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n"
                                          "    Properties:\n      TemplateURL: nested/child.yaml\n", files)
    result = transform(template, home=tmp_path / "home", code_bucket=AWS.bucket, code_prefix=AWS.prefix,
                       packaging=AWS)
    url = result.template["Resources"]["Child"]["Properties"]["TemplateURL"]
    assert url.startswith("https://s3.eu-west-1.amazonaws.com/deploy-bucket/app/") and url.endswith(".template")
    (body,) = [u.body for u in result.uploads if u.body is not None]
    child = json.loads(body)["Resources"]
    assert child["Fn"]["Properties"]["CodeUri"].startswith("s3://deploy-bucket/app/")
    assert child["L"]["Properties"]["ContentUri"].startswith("s3://deploy-bucket/app/")
    assert child["Fn"]["Properties"]["Layers"] == [{"Ref": "L"}]
    assert len([u for u in result.uploads if u.content_type == "application/zip"]) == 2


def test_a_nested_template_is_refused_locally_at_its_property(tmp_path):
    template = _project(tmp_path / "app", "Resources:\n  Child:\n    Type: AWS::Serverless::Application\n"
                                          "    Properties:\n      Location: child.yaml\n", {"child.yaml": "{}"})
    with pytest.raises(TemplateError) as info:
        transform(template, home=tmp_path / "home")
    (problem,) = info.value.problems
    assert problem.message.startswith("Child.Location: a nested stack from the local template 'child.yaml' cannot "
                                      "be deployed by the local target")
    assert (problem.location.line, problem.location.column) == (5, 7)
    assert "--target aws" in (info.value.hint or "")
