"""Upload built artifacts to S3 under content-addressed keys (``<prefix><sha256>.zip``), each at most once.

The key is the zip's sha256, so an object that exists already holds these bytes: HeadObject decides, and a second
deploy of the same code uploads nothing. The bucket is checked once up front, so a missing bucket or a missing
permission is reported as such instead of as a 404 on some key.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.aws.errors import aws_errors, error_code
from strata.model.naming import artifact_key


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)    # keys written
    present: list[str] = field(default_factory=list)     # keys that already existed
    bytes_uploaded: int = 0


def normalise_prefix(prefix: str | None) -> str:
    """SAM's ``s3_prefix`` is a folder: ``app`` and ``app/`` both mean keys under ``app/``."""
    prefix = (prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


def check_bucket(s3: Any, bucket: str) -> None:
    """HeadBucket: fail early, in words, when the bucket is missing, elsewhere or not ours."""
    with aws_errors(f"checking S3 bucket {bucket}", bucket=bucket):
        s3.head_bucket(Bucket=bucket)


def upload_artifacts(s3: Any, artifacts: Iterable[Any], bucket: str, prefix: str, *,
                     progress: Callable[[str], None] | None = None, kms_key_id: str | None = None) -> UploadReport:
    """Put every distinct artifact (``.artifact.path``, ``.artifact.sha256``) that is not in the bucket yet
    (encrypted with ``kms_key_id`` when given, as ``sam deploy --kms-key-id`` does)."""
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}

    report = UploadReport()
    seen: set[str] = set()
    for built in artifacts:
        artifact = getattr(built, "artifact", built)
        sha = str(artifact.sha256)
        if sha in seen:
            continue
        seen.add(sha)
        key = artifact_key(prefix, sha)
        if _already_there(s3, bucket, key, report):
            continue
        path = Path(artifact.path)
        size = path.stat().st_size
        if progress:
            progress(f"Uploading {path.name} ({_size(size)}) to s3://{bucket}/{key}")
        with (aws_errors(f"uploading {path.name} to s3://{bucket}/{key}", bucket=bucket, key=key),
              path.open("rb") as body):
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/zip",
                          Metadata={"strata-sha256": sha}, **encryption)
        report.uploaded.append(key)
        report.bytes_uploaded += size
    return report


def upload_files(s3: Any, uploads: Iterable[Any], bucket: str, report: UploadReport, *,
                 progress: Callable[[str], None] | None = None, kms_key_id: str | None = None) -> UploadReport:
    """Put the packaged local files (``strata.transform.package.Upload``: definitions, includes, nested templates
    and their code) that the bucket does not hold yet; their keys are content-addressed too, so HeadObject decides."""

    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    seen: set[str] = set(report.uploaded) | set(report.present)
    for upload in uploads:
        key = str(upload.key)
        if key in seen:
            continue
        seen.add(key)
        if _already_there(s3, bucket, key, report):
            continue
        body = upload.body if upload.body is not None else Path(upload.path).read_bytes()
        if progress:
            progress(f"Uploading {Path(upload.path).name if upload.path else 'a nested template'} "
                     f"({_size(len(body))}) to s3://{bucket}/{key}")
        with aws_errors(f"uploading to s3://{bucket}/{key}", bucket=bucket, key=key):
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=upload.content_type, **encryption)
        report.uploaded.append(key)
        report.bytes_uploaded += len(body)
    return report


def upload_template(s3: Any, body: str, bucket: str, prefix: str, *, region: str, endpoint_url: str | None) -> str:
    """Templates over CloudFormation's 51,200-byte TemplateBody limit go through S3; returns the TemplateURL."""
    import hashlib

    key = f"{prefix}{hashlib.sha256(body.encode()).hexdigest()}.template"
    with aws_errors(f"uploading the stack template to s3://{bucket}/{key}", bucket=bucket, key=key):
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{key}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def _already_there(s3: Any, bucket: str, key: str, report: UploadReport) -> bool:
    """Does the bucket hold ``key`` (content-addressed: then it holds these bytes)? Recorded in ``report`` if so."""
    from botocore.exceptions import ClientError

    with aws_errors(f"checking s3://{bucket}/{key}", bucket=bucket, key=key):
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise
            return False
    report.present.append(key)
    return True
