"""The backup file: an uncompressed tar of `manifest.json` and the database copy, written atomically.

The manifest cannot hold the SHA-256 of the file it lives in, so it holds the SHA-256 of the
database copy (as stored, encrypted or not), and a `<file>.sha256` beside the backup holds the
SHA-256 of the whole file in `sha256sum -c` format.

Encryption (a passphrase in KINWARD_BACKUP_PASSPHRASE) uses AES-256-GCM from `cryptography`
with a key derived by scrypt. A database copy can be larger than memory, so it is sealed in
1 MiB chunks: each chunk's nonce carries its number and whether it is the last one, so a
reordered, dropped or cut-off chunk fails authentication instead of decrypting to less data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import tarfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "kinward-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
TAG = 16
# scrypt at N=2**15, r=8 holds 32 MiB for about a tenth of a second: cheap once per backup,
# costly for someone guessing passphrases.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class BackupError(Exception):
    """A backup that cannot be made, read or trusted; the message says why, for the person at the terminal."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def file_encrypt(*, source: Path, target: Path, passphrase: str) -> dict[str, Any]:
    """Seal `source` into `target`; returns what the manifest records to open it again (never the key)."""
    salt, prefix = secrets.token_bytes(16), secrets.token_bytes(7)
    cipher = AESGCM(_key(passphrase, salt))
    with source.open("rb") as plain, target.open("wb") as sealed:
        index, chunk = 0, plain.read(CHUNK)
        while True:
            following = plain.read(CHUNK)
            last = not following
            sealed.write(cipher.encrypt(_nonce(prefix, index, last), chunk, FORMAT.encode()))
            if last:
                break
            index, chunk = index + 1, following
    return {"cipher": "AES-256-GCM", "chunk": CHUNK, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
            "salt": salt.hex(), "nonce_prefix": prefix.hex()}


def file_decrypt(*, source: Path, target: Path, passphrase: str, params: dict[str, Any]) -> None:
    try:
        cipher = AESGCM(_key(passphrase, bytes.fromhex(params["salt"]), params["n"], params["r"], params["p"]))
        prefix, size = bytes.fromhex(params["nonce_prefix"]), params["chunk"] + TAG
    except (KeyError, TypeError, ValueError) as error:
        raise BackupError(f"the backup's encryption details are unreadable ({error})") from None
    with source.open("rb") as sealed, target.open("wb") as plain:
        index, chunk = 0, sealed.read(size)
        while True:
            following = sealed.read(size)
            last = not following
            try:
                plain.write(cipher.decrypt(_nonce(prefix, index, last), chunk, FORMAT.encode()))
            except InvalidTag:
                raise BackupError("the backup cannot be decrypted: the passphrase is wrong, "
                                  "or the file was damaged or cut short") from None
            if last:
                return
            index, chunk = index + 1, following


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def archive_write(*, path: Path, manifest: dict[str, Any], payload: Path) -> str:
    """Write the backup to a temporary file beside `path`, fsync it, then rename it into place.

    A crash at any moment leaves either no backup at `path` or a complete one. Returns the
    SHA-256 of the whole file (also written to `<path>.sha256`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        # Care records: readable by the account Kinward runs as, nobody else.
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as output:
            with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
                encoded = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(encoded), int(manifest.get("created_at_epoch", 0))
                archive.addfile(info, io.BytesIO(encoded))
                archive.add(payload, arcname=manifest["payload"]["name"], recursive=False)
            output.flush()
            os.fsync(output.fileno())
        file_sha = sha256_file(temporary)
        os.replace(temporary, path)
        checksum = path.with_name(path.name + ".sha256")
        checksum.write_text(f"{file_sha}  {path.name}\n")
        _fsync_directory(path.parent)
        return file_sha
    finally:
        temporary.unlink(missing_ok=True)


def archive_read(*, path: Path, workdir: Path, passphrase: str = "") -> tuple[dict[str, Any], Path]:
    """Open a backup: its manifest, and its database copy checked against the manifest's SHA-256
    (and decrypted) into `workdir`. Every way the file can be wrong ends in a BackupError."""
    if not path.is_file():
        raise BackupError(f"there is no file at {path}")
    checksum = path.with_name(path.name + ".sha256")
    if checksum.is_file():
        expected = checksum.read_text().split()[0] if checksum.read_text().split() else ""
        if expected != sha256_file(path):
            raise BackupError(f"{path.name} does not match the SHA-256 in {checksum.name}: "
                              "the file was changed or cut short after it was written")
    try:
        with tarfile.open(path, mode="r:") as archive:
            try:
                manifest = json.loads(archive.extractfile(MANIFEST).read())  # type: ignore[union-attr]
            except KeyError:
                raise BackupError(f"{path.name} is not a Kinward backup: it has no manifest") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{path.name} is not a Kinward backup this version can read "
                                  f"(format {manifest.get('format')!r})")
            member_name = manifest["payload"]["name"]
            stored = workdir / Path(member_name).name
            member = archive.getmember(member_name)
            source = archive.extractfile(member)
            if source is None:
                raise BackupError(f"{path.name} is damaged: its database copy is not a file")
            with stored.open("wb") as output:
                for block in iter(lambda: source.read(CHUNK), b""):
                    output.write(block)
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError) as error:
        raise BackupError(f"{path.name} is damaged or truncated: it cannot be read as a Kinward backup "
                          f"({type(error).__name__}: {error})") from None
    if sha256_file(stored) != manifest["payload"]["sha256"]:
        raise BackupError(f"{path.name} is damaged: its database copy does not match the SHA-256 in its manifest")
    encryption = manifest["payload"].get("encryption")
    if not encryption:
        return manifest, stored
    if not passphrase:
        raise BackupError(f"{path.name} is encrypted: set KINWARD_BACKUP_PASSPHRASE to the passphrase it was made with")
    plain = workdir / "database.plain"
    file_decrypt(source=stored, target=plain, passphrase=passphrase, params=encryption)
    stored.unlink()
    return manifest, plain
