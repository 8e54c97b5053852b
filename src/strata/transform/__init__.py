"""Transform: SAM -> plain CloudFormation (aws-sam-translator), then the versions post-pass that gives every
``AWS::Lambda::Version`` a logical id derived from the function's version fingerprint. Changes nothing anywhere."""
