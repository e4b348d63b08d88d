"""Encrypted backup copies (issue 16): what goes to a USB disk, a NAS folder or the standby's
share is encrypted with a key the owner keeps, so that a lost USB stick tells nothing.

The format is **age** (age-encryption.org/v1: X25519 recipients, scrypt passphrases,
ChaCha20-Poly1305 in authenticated 64 KiB chunks), through ``pyrage`` (Python bindings of the
Rust ``age`` crate). ``pyrage.encrypt_io`` / ``decrypt_io`` stream between file objects (a
300 MB dump encrypts in about 1 s with 16 MB of memory), so dumps of any size are fine, and
every copy can also be opened by hand with the ``age`` command-line tool.

The key (``<data_dir>``, beside ``lanpos.toml``):

    backup-key.json   plain: the recipient (public key ``age1…``), when it was set up/changed
    backup-key.age    the X25519 identity (``AGE-SECRET-KEY-1…``), encrypted with the owner's
                      passphrase (age scrypt), mode 0600 — never stored in the clear

Encrypting needs only the recipient, so scheduled, unattended copies work without the
passphrase. Decrypting needs the passphrase (which opens ``backup-key.age``) or the recovery
sheet's secret key (printed once at setup; it opens every copy even without the key file).
Changing the passphrase re-wraps the same identity: every older copy stays readable.

A copy in a destination folder:

    lanpos-….sql.gz.age        the dump, encrypted
    lanpos-….json.age          the manifest (rows per table, host, ...), encrypted
    lanpos-….verify.json.age   the last test restore, encrypted
    lanpos-….index.json        plain: id, times, recipient and the SHA-256 and size of each
                               ciphertext — retention and the copy check need no key, and
                               nothing in it is about members or sales
    backup-key.age             the wrapped key again (USB + passphrase = enough on a new machine)

Opening a copy (:func:`open_copy`) checks the ciphertexts against the index, decrypts every
file *completely* into ``.….partial`` names in the local backup folder (age authenticates each
chunk; a wrong key or one flipped byte fails there), checks the dump's SHA-256 against its
manifest, and only then renames them into a normal local backup. A failure removes the partial
files: no database is touched before a copy has been fully decrypted and checked.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

from common.schemas.backups import BACKUP_PASSPHRASE_MIN

from .catalogue import (
    DATA_SUFFIX,
    ID_RE,
    MANIFEST_SUFFIX,
    VERIFY_SUFFIX,
    BackupInfo,
    manifest_from_file,
    read_backup,
)
from .dumpfile import (
    CHUNK,
    PARTIAL_SUFFIX,
    BackupError,
    _copy_atomic,
    _disk_error,
    _fsync_dir,
    _iso,
    _write_json_atomic,
    file_sha256,
    utcnow,
)

AGE_SUFFIX = ".age"
INDEX_SUFFIX = ".index.json"
KEY_FILE = "backup-key.age"
KEY_INFO_FILE = "backup-key.json"
README_FILE = "README-lanpos-backup.txt"
COPY_FORMAT = 1
SECRET_PREFIX = "AGE-SECRET-KEY-1"
#: what a destination holds per backup (all but the index are ciphertext)
COPY_SUFFIXES = (DATA_SUFFIX + AGE_SUFFIX, MANIFEST_SUFFIX + AGE_SUFFIX,
                 VERIFY_SUFFIX + AGE_SUFFIX, INDEX_SUFFIX)

COPY_README = """lanpos 加密备份 / lanpos encrypted backups

这个文件夹里的备份已加密（age 格式），没有店主的备份口令或恢复单上的密钥就无法读取。
The backups in this folder are encrypted (age format); they cannot be read without the owner's
backup passphrase or the secret key on the recovery sheet.

在新电脑上还原 / restore on a new machine:
  lanpos-server restore --data-dir NEW --verify 这个文件夹/lanpos-….sql.gz.age
      (asks for the passphrase; or --passphrase-file FILE, or --key-file RECOVERY-SHEET.txt)
"""


@dataclass(frozen=True)
class Unlock:
    """What opens an encrypted copy: the owner's passphrase (it opens ``backup-key.age``) or
    the recovery sheet's secret key (text containing ``AGE-SECRET-KEY-1…``)."""

    passphrase: str | None = None
    secret_key: str | None = None


def _key_wrong() -> BackupError:
    return BackupError("backup_key_wrong", status=400)


def _parse_secret(text: str) -> pyrage.x25519.Identity:
    """The identity in a recovery sheet (the line starting ``AGE-SECRET-KEY-1``; spaces and
    line breaks inside a copied-down key are forgiven)."""
    compact = "".join(text.split()).upper()
    start = compact.find(SECRET_PREFIX)
    if start < 0:
        raise _key_wrong()
    candidate = compact[start:]
    # a Bech32 secret key is 74 characters; whatever follows on the sheet is not part of it
    for end in (74, len(candidate)):
        with contextlib.suppress(Exception):
            return pyrage.x25519.Identity.from_str(candidate[:end])
    raise _key_wrong()


def recipient_of(identity: pyrage.x25519.Identity) -> str:
    return str(identity.to_public())


class BackupKey:
    """The owner's backup key of one data directory (see the module docstring)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    @property
    def wrapped_path(self) -> Path:
        return self.data_dir / KEY_FILE

    @property
    def info_path(self) -> Path:
        return self.data_dir / KEY_INFO_FILE

    def info(self) -> dict[str, Any] | None:
        """``{"recipient", "created_at", "changed_at"}``, or None when no key is set up."""
        if not self.wrapped_path.is_file():
            return None
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("recipient") else None

    @property
    def configured(self) -> bool:
        return self.info() is not None

    def recipient(self) -> pyrage.x25519.Recipient | None:
        info = self.info()
        return None if info is None else pyrage.x25519.Recipient.from_str(info["recipient"])

    # -- setting up, changing ---------------------------------------------------------------
    @staticmethod
    def check_passphrase(passphrase: str) -> None:
        if len(passphrase or "") < BACKUP_PASSPHRASE_MIN:
            raise BackupError("backup_passphrase_short", status=400, min=BACKUP_PASSPHRASE_MIN)

    def setup(self, passphrase: str) -> str:
        """A new identity, wrapped with ``passphrase``. Returns its secret key (the recovery
        sheet's, shown once and never stored in the clear). Refused when a key exists: a new
        key could not open the copies made with the old one."""
        self.check_passphrase(passphrase)
        if self.wrapped_path.exists():
            raise BackupError("backup_key_exists", status=409)
        identity = pyrage.x25519.Identity.generate()
        now = _iso(utcnow())
        self._store(identity, passphrase, {"format": COPY_FORMAT,
                                           "recipient": recipient_of(identity),
                                           "created_at": now, "changed_at": now})
        return str(identity)

    def change(self, new_passphrase: str, unlock: Unlock) -> dict[str, Any]:
        """Re-wrap the same identity with ``new_passphrase`` (opened with the old passphrase
        or the recovery key): every older copy stays readable."""
        self.check_passphrase(new_passphrase)
        info = self.info()
        if info is None:
            raise BackupError("backup_key_missing", status=409)
        identity = self.identity(unlock)
        self._store(identity, new_passphrase, {**info, "changed_at": _iso(utcnow())})
        return self.info() or {}

    def _store(self, identity: pyrage.x25519.Identity, passphrase: str,
               info: dict[str, Any]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        wrapped = pyrage.passphrase.encrypt(str(identity).encode("ascii"), passphrase)
        tmp = self.wrapped_path.with_name(f".{KEY_FILE}{PARTIAL_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(wrapped)
                f.flush()
                os.fsync(f.fileno())
            if os.name == "posix":
                os.chmod(tmp, 0o600)
            os.replace(tmp, self.wrapped_path)
            _write_json_atomic(self.info_path, info)
            _fsync_dir(self.data_dir)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise _disk_error(e, self.data_dir) from e

    # -- opening ----------------------------------------------------------------------------
    def identity(self, unlock: Unlock, wrapped: Path | None = None) -> pyrage.x25519.Identity:
        """The identity from the recovery key, or from ``wrapped`` (default: this data
        directory's ``backup-key.age``) opened with the passphrase."""
        if unlock.secret_key:
            return _parse_secret(unlock.secret_key)
        if not unlock.passphrase:
            raise BackupError("backup_key_needed", status=400)
        path = wrapped if wrapped is not None else self.wrapped_path
        try:
            data = path.read_bytes()
        except OSError as e:
            raise BackupError("backup_key_missing", status=409) from e
        try:
            secret = pyrage.passphrase.decrypt(data, unlock.passphrase)
        except Exception as e:  # pyrage.DecryptError: wrong passphrase (or a damaged file)
            raise _key_wrong() from e
        return _parse_secret(secret.decode("ascii", "replace"))


# -- streaming encryption -----------------------------------------------------------------------
class _HashingWriter(io.RawIOBase):
    """A file object that hashes and counts what passes through to ``f``."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.f.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)


def encrypt_file(src: Path, dst: Path, recipient: pyrage.x25519.Recipient) -> dict[str, Any]:
    """Encrypt ``src`` to ``dst`` (via a ``.….partial`` name), then read the written file back
    and compare its SHA-256 with what was written (a failing USB stick shows here).
    Returns ``{"sha256", "size"}`` of the ciphertext."""
    tmp = dst.with_name(f".{dst.name}{PARTIAL_SUFFIX}")
    try:
        with src.open("rb", buffering=CHUNK) as fi, tmp.open("wb") as fo:
            w = _HashingWriter(fo)
            pyrage.encrypt_io(fi, w, [recipient])
            fo.flush()
            os.fsync(fo.fileno())
        written = w.sha.hexdigest()
        if file_sha256(tmp) != written or tmp.stat().st_size != w.size:
            raise OSError(errno.EIO, "the copy reads back differently (disk failing?)",
                          str(dst))
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return {"sha256": written, "size": w.size}


def decrypt_file(src: Path, dst: Path, identity: pyrage.x25519.Identity, name: str) -> None:
    """Decrypt ``src`` completely into ``dst``. A wrong key → ``backup_key_wrong``; a damaged
    ciphertext (age's authentication fails) → ``backup_copy_corrupt``. Plaintext written before
    a failure stays in ``dst`` — the caller removes it (a partial name)."""
    try:
        with src.open("rb", buffering=CHUNK) as fi, dst.open("wb", buffering=CHUNK) as fo:
            pyrage.decrypt_io(fi, fo, [identity])
            fo.flush()
            os.fsync(fo.fileno())
    except pyrage.DecryptError as e:
        if "no matching keys" in str(e).lower():
            raise _key_wrong() from e
        raise BackupError("backup_copy_corrupt", backup=name) from e
    except OSError as e:
        if e.errno is None:  # pyrage: "decryption error" (a chunk failed authentication)
            raise BackupError("backup_copy_corrupt", backup=name) from e
        raise _disk_error(e, dst) from e


# -- a copy in a destination folder -----------------------------------------------------------
def copy_ref(ref: str | Path) -> tuple[Path, str] | None:
    """``(folder, name)`` when ``ref`` names a file of an encrypted copy, else None."""
    p = Path(str(ref)).expanduser()
    for suffix in (VERIFY_SUFFIX + AGE_SUFFIX, MANIFEST_SUFFIX + AGE_SUFFIX,
                   DATA_SUFFIX + AGE_SUFFIX, INDEX_SUFFIX):
        if p.name.endswith(suffix) and len(p.name) > len(suffix):
            return p.parent, p.name[: -len(suffix)]
    return None


def is_encrypted_ref(ref: str | Path) -> bool:
    return copy_ref(ref) is not None


def read_index(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_copy(info: BackupInfo, dest: Path, key: BackupKey) -> dict[str, Any]:
    """Write the encrypted copy of ``info`` into ``dest`` (+ the wrapped key, + a README);
    the index last. A dump already there whose ciphertext still matches the index is kept (a
    backup's dump never changes; the manifest and verification are re-encrypted). The plain
    twin of this backup (a copy from before encryption) is removed. Returns the index."""
    recipient = key.recipient()
    if recipient is None:
        raise BackupError("backup_key_missing", status=409)
    index_path = dest / (info.id + INDEX_SUFFIX)
    old = read_index(index_path) or {}
    old_files = old.get("files") if old.get("recipient") == str(recipient) else None
    files: dict[str, Any] = {}
    for src in (info.path, info.manifest_path, info.verify_path):
        if not src.exists():
            continue
        name = src.name + AGE_SUFFIX
        dst = dest / name
        prev = (old_files or {}).get(name)
        if (src == info.path and prev and dst.is_file()
                and dst.stat().st_size == prev.get("size")
                and file_sha256(dst) == prev.get("sha256")):
            files[name] = prev
            continue
        files[name] = encrypt_file(src, dst, recipient)
    if not (dest / KEY_FILE).is_file() or \
            (dest / KEY_FILE).read_bytes() != key.wrapped_path.read_bytes():
        _copy_atomic(key.wrapped_path, dest / KEY_FILE)
    if not (dest / README_FILE).is_file():
        (dest / README_FILE).write_text(COPY_README, encoding="utf-8")
    m = info.manifest
    index = {"format": COPY_FORMAT, "id": info.id, "encryption": "age",
             "recipient": str(recipient), "started_at": m.get("started_at"),
             "ended_at": m.get("ended_at"), "written_at": _iso(utcnow()), "files": files}
    _write_json_atomic(index_path, index)
    for suffix in (DATA_SUFFIX, MANIFEST_SUFFIX, VERIFY_SUFFIX):
        with contextlib.suppress(OSError):
            (dest / (info.id + suffix)).unlink()
    with contextlib.suppress(OSError):
        _fsync_dir(dest)
    return index


def plain_copies(dest: Path) -> list[str]:
    """Unencrypted lanpos dumps left in a destination (copies from before encryption)."""
    with contextlib.suppress(OSError):
        return sorted(p.name for p in dest.glob("lanpos-*" + DATA_SUFFIX)
                      if ID_RE.match(p.name[: -len(DATA_SUFFIX)]))
    return []


def _copy_identity(unlock: Unlock, key: BackupKey, beside: Path) -> pyrage.x25519.Identity:
    """The identity for a copy: the key file beside it opened with the passphrase, else this
    machine's own key file (the one beside the copy may predate a passphrase change)."""
    if unlock.secret_key or not beside.is_file():
        return key.identity(unlock)
    try:
        return key.identity(unlock, beside)
    except BackupError:
        if not key.wrapped_path.is_file():
            raise
        return key.identity(unlock)


def refresh_key_file(dest: Path, key: BackupKey) -> None:
    """Put the current wrapped key into a destination that holds copies (after a passphrase
    change: the new passphrase opens the copies there at once)."""
    if (dest / KEY_FILE).is_file() and \
            (dest / KEY_FILE).read_bytes() != key.wrapped_path.read_bytes():
        _copy_atomic(key.wrapped_path, dest / KEY_FILE)


def open_copy(ref: str | Path, unlock: Unlock, key: BackupKey, folder: Path) -> BackupInfo:
    """Decrypt the encrypted copy ``ref`` into the local backup ``folder`` and return it as a
    local backup (see the module docstring: nothing is renamed into place before every file
    decrypted completely and the dump matched its manifest)."""
    where = copy_ref(ref)
    if where is None:
        raise BackupError("backup_not_found", status=404, backup=str(ref))
    src_dir, name = where
    data_ct = src_dir / (name + DATA_SUFFIX + AGE_SUFFIX)
    if not data_ct.is_file():
        raise BackupError("backup_not_found", status=404, backup=str(data_ct))
    index = read_index(src_dir / (name + INDEX_SUFFIX))
    # the copy check needs no key: the ciphertexts as written
    for fname, meta in ((index or {}).get("files") or {}).items():
        p = src_dir / fname
        if p.is_file() and (p.stat().st_size != meta.get("size")
                            or file_sha256(p) != meta.get("sha256")):
            raise BackupError("backup_copy_corrupt", backup=fname)
    identity = _copy_identity(unlock, key, src_dir / KEY_FILE)
    if index and index.get("recipient") and index["recipient"] != recipient_of(identity):
        raise _key_wrong()

    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    parts = {suffix: folder / f".{name}{suffix}{PARTIAL_SUFFIX}"
             for suffix in (DATA_SUFFIX, MANIFEST_SUFFIX, VERIFY_SUFFIX)}
    try:
        decrypt_file(data_ct, parts[DATA_SUFFIX], identity, data_ct.name)
        for suffix in (MANIFEST_SUFFIX, VERIFY_SUFFIX):
            ct = src_dir / (name + suffix + AGE_SUFFIX)
            if ct.is_file():
                decrypt_file(ct, parts[suffix], identity, ct.name)
        if parts[MANIFEST_SUFFIX].exists():
            try:
                manifest = json.loads(parts[MANIFEST_SUFFIX].read_text(encoding="utf-8"))
            except ValueError as e:
                raise BackupError("backup_copy_corrupt", backup=name) from e
        else:  # only the dump was kept: the manifest is rebuilt from it (unverified)
            manifest = manifest_from_file(parts[DATA_SUFFIX])
            parts[VERIFY_SUFFIX].unlink(missing_ok=True)
        if file_sha256(parts[DATA_SUFFIX]) != manifest.get("sha256"):
            raise BackupError("backup_copy_corrupt", backup=name)
        bid = manifest.get("id") if ID_RE.match(str(manifest.get("id"))) else name
        manifest = {**manifest, "id": bid, "file": bid + DATA_SUFFIX}
        local = folder / (bid + MANIFEST_SUFFIX)
        if local.exists():
            existing = read_backup(local)
            if existing.manifest.get("sha256") != manifest["sha256"]:
                raise BackupError("backup_copy_conflict", backup=bid)
            return existing  # the same backup is here already (partials removed below)
        _write_json_atomic(parts[MANIFEST_SUFFIX], manifest)
        os.replace(parts[DATA_SUFFIX], folder / (bid + DATA_SUFFIX))
        if parts[VERIFY_SUFFIX].exists():
            os.replace(parts[VERIFY_SUFFIX], folder / (bid + VERIFY_SUFFIX))
        os.replace(parts[MANIFEST_SUFFIX], local)  # last: only complete pairs are listed
        _fsync_dir(folder)
        return read_backup(local)
    except OSError as e:
        raise _disk_error(e, folder) from e
    finally:
        for p in parts.values():
            with contextlib.suppress(OSError):
                p.unlink()
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: a failed first import leaves no folder


def key_status(key: BackupKey) -> dict[str, Any]:
    info = key.info() or {}
    return {"configured": bool(info), "recipient": info.get("recipient"),
            "created_at": info.get("created_at"), "changed_at": info.get("changed_at")}
