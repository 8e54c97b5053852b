"""The AWS target: S3 uploads, CloudFormation change sets, Lambda reads for verify. boto3 is imported lazily."""
