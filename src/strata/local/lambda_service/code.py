"""Turning ``Code`` / ``Content`` into a stored artifact: inline zip bytes, or a content-addressed S3 key.

strata's local stack engine points code at keys whose basename is ``<sha256 hex>.zip``; such a key is served from the
local artifact store, any other key is S3's NoSuchKey. Zip checks and size limits as in reference 4.3; every zip
passes ``strata.artifacts.archive_check`` here, so a hostile or damaged one is refused by CreateFunction /
UpdateFunctionCode / PublishLayerVersion, not at its first invoke.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strata.artifacts.archive_check import NOT_A_ZIP, TOO_LARGE, ArchiveError, ArchiveSummary, check_archive
from strata.artifacts.limits import UNZIPPED_MAX, UNZIPPED_MESSAGE
from strata.artifacts.store import ArtifactStore
from strata.local.lambda_service import validation as v
from strata.model.lambda_errors import InvalidParameterValueException, RequestEntityTooLargeException
from strata.model.naming import artifact_sha256_of_key

NO_SOURCE = "Please provide a source for function code."  # UNVERIFIED exact wording
NOT_A_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."
NO_SUCH_KEY = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
               "The specified key does not exist.")


@dataclass(frozen=True)
class StoredCode:
    sha256_hex: str
    size: int
    unzipped_size: int
    path: str


def store_code(artifacts: ArtifactStore, *, zip_file: bytes | None, s3_bucket: str | None, s3_key: str | None,
               image_uri: str | None = None) -> StoredCode:
    """Store or find the zip and measure it; raises Lambda's errors for missing, oversized or broken code."""
    if image_uri is not None and zip_file is None and s3_key is None:
        raise InvalidParameterValueException(
            "strata's local Lambda runs zip packages only; container images (ImageUri) are not supported.")
    if zip_file is not None:
        if len(zip_file) > v.ZIPPED_MAX:
            raise RequestEntityTooLargeException(f"Zipped size must be smaller than {v.ZIPPED_MAX} bytes")
        unzipped = _checked(zip_file, verify_data=True).total_size
        artifact = artifacts.put_bytes(zip_file)
        return StoredCode(artifact.sha256, artifact.size, unzipped, str(artifact.path))
    if s3_bucket is not None and s3_key is not None:
        sha256 = artifact_sha256_of_key(s3_key)
        found = artifacts.get(sha256) if sha256 else None
        if found is None:
            raise InvalidParameterValueException(NO_SUCH_KEY)
        # Already in the store, so fully checked when it entered it (here or at build): structure and links only.
        unzipped = _checked(found.path, verify_data=False).total_size
        return StoredCode(found.sha256, found.size, unzipped, str(found.path))
    raise InvalidParameterValueException(NO_SOURCE)


def _checked(source: bytes | Path, *, verify_data: bool) -> ArchiveSummary:
    """The archive checker's verdict in Lambda's words: its own messages for a non-zip and for the size limit, and
    the entry named for anything else (UNVERIFIED: AWS's wording for a hostile entry)."""
    try:
        return check_archive(source, verify_data=verify_data, label="the zip")
    except ArchiveError as exc:
        if exc.kind == TOO_LARGE:
            raise InvalidParameterValueException(UNZIPPED_MESSAGE) from None
        if exc.kind == NOT_A_ZIP:
            raise InvalidParameterValueException(NOT_A_ZIP_MESSAGE) from None
        raise InvalidParameterValueException(f"Could not unzip uploaded file: the zip {exc.reason}. "
                                             "Please check your file, then try to upload again.") from None


def check_unzipped_total(total: int) -> None:
    if total > UNZIPPED_MAX:
        raise InvalidParameterValueException(UNZIPPED_MESSAGE)
