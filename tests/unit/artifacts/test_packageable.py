"""The packageable-path table and the discovery of local files in it (``strata.artifacts.packageable``)."""
from __future__ import annotations

import hashlib

import pytest
from build_helpers import write_tree

from strata.artifacts.packageable import (
    CODE_PACKAGEABLE,
    INCLUDE,
    PACKAGEABLE,
    find_local_files,
)
from strata.errors import BuildError

# SAM CLI's RESOURCES_WITH_LOCAL_PATHS (samcli/lib/utils/resources.py), with ApiGatewayV2 from its export list.
SAM_CLI = {
    "AWS::Serverless::Function": ["CodeUri"], "AWS::Serverless::Api": ["DefinitionUri"],
    "AWS::Serverless::HttpApi": ["DefinitionUri"], "AWS::Serverless::StateMachine": ["DefinitionUri"],
    "AWS::AppSync::GraphQLSchema": ["DefinitionS3Location"],
    "AWS::AppSync::Resolver": ["RequestMappingTemplateS3Location", "ResponseMappingTemplateS3Location"],
    "AWS::AppSync::FunctionConfiguration": ["RequestMappingTemplateS3Location", "ResponseMappingTemplateS3Location"],
    "AWS::Lambda::Function": ["Code"], "AWS::ApiGateway::RestApi": ["BodyS3Location"],
    "AWS::ApiGatewayV2::Api": ["BodyS3Location"],
    "AWS::ElasticBeanstalk::ApplicationVersion": ["SourceBundle"],
    "AWS::CloudFormation::ModuleVersion": ["ModulePackage"],
    "AWS::CloudFormation::ResourceVersion": ["SchemaHandlerPackage"], "AWS::CloudFormation::Stack": ["TemplateURL"],
    "AWS::Serverless::Application": ["Location"], "AWS::Lambda::LayerVersion": ["Content"],
    "AWS::Serverless::LayerVersion": ["ContentUri"], "AWS::Glue::Job": ["Command.ScriptLocation"],
    "AWS::StepFunctions::StateMachine": ["DefinitionS3Location"],
}


def test_the_table_is_sam_clis_whole_list():
    ours = {(e.resource_type, e.property) for e in PACKAGEABLE}
    ours |= {tuple(entry.split(" ")) for entry in CODE_PACKAGEABLE}
    assert ours == {(rtype, prop) for rtype, props in SAM_CLI.items() for prop in props}


def test_local_files_are_found_hashed_and_keyed_by_content(tmp_path):
    write_tree(tmp_path, {"sm/flow.asl.json": "{}", "api.yaml": "openapi: 3.0.1\n", "glue/job.py": "print(1)\n",
                          "inc.yaml": "A: 1\n", "LICENSE.txt": "MIT\n"})
    data = {
        "Metadata": {"AWS::ServerlessRepo::Application": {"LicenseUrl": "LICENSE.txt", "ReadmeUrl": "s3://b/r"}},
        "Resources": {
            "M": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "sm/flow.asl.json"}},
            "Remote": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": {"Bucket": "b"}}},
            "A": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "./api.yaml"}},
            "Url": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "s3://b/api.yaml"}},
            "G": {"Type": "AWS::Glue::Job", "Properties": {"Command": {"ScriptLocation": "glue/job.py"}}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {
                "Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "inc.yaml"}}}},
        }}
    found = find_local_files(data, tmp_path)
    assert [(f.logical_id, f.entry.property, f.source.name) for f in found] == [
        ("M", "DefinitionUri", "flow.asl.json"), ("A", "DefinitionUri", "api.yaml"),
        ("G", "Command.ScriptLocation", "job.py"), ("Metadata", "LicenseUrl", "LICENSE.txt"),
        ("AWS::Include", "Location", "inc.yaml")]
    assert found[0].sha256 == hashlib.sha256(b"{}").hexdigest()
    assert found[0].key_name == found[0].sha256 + ".json"
    assert found[-1].entry is INCLUDE
    assert found[-1].path == ("Resources", "Q", "Properties", "Fn::Transform", "Parameters", "Location")


@pytest.mark.parametrize("value, message", [("missing.json", "does not exist"), ("folder", "is not a regular file")])
def test_a_bad_local_path_is_an_error_naming_the_resource_and_property(tmp_path, value, message):
    (tmp_path / "folder").mkdir()
    data = {"Resources": {"M": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": value}}}}
    with pytest.raises(BuildError) as info:
        find_local_files(data, tmp_path)
    assert info.value.message.startswith(f"M: DefinitionUri {value!r} {message}")
