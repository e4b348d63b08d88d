"""Standby server and guided failover (issue 13): what the API says about replication.

Every response of a lanpos server carries ``X-Lanpos-Role`` (primary | standby | stale),
``X-Lanpos-Epoch`` (the cluster epoch it knows) and ``X-Lanpos-Cluster`` (the pair's id); a
counter sends the newest epoch it has seen, with that cluster id, on every request. A server
that learns of a newer epoch of its own cluster has been replaced by a promoted standby: it
refuses writes with ``409 stale_primary``. An epoch sent with another cluster id (or none) is
ignored; a counter that meets a new cluster id starts again from that server's epoch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from common.tlspin import ca_fingerprint

from .base import ApiModel, UtcDatetime

ROLE_HEADER = "X-Lanpos-Role"
EPOCH_HEADER = "X-Lanpos-Epoch"
# the pair's identity (made by the primary, given to its standby at pairing): an epoch counts
# only within its cluster, so a counter that remembers epoch 5 of a shop's old installation
# cannot fence a freshly installed server at epoch 1
CLUSTER_HEADER = "X-Lanpos-Cluster"


class ReplicationHealth(ApiModel):
    """The replication part of ``GET /health`` (public: no sale or member data in it)."""

    state: str = Field(description="none (no standby paired) | streaming (standby: applying the "
                                   "primary's changes; primary: a standby is attached) | "
                                   "connecting | stopped | error | alone (primary: the standby "
                                   "is gone, selling without it)")
    lag_seconds: float | None = Field(None, description="standby: how far behind the primary")
    lag_transactions: int | None = Field(None, description="standby: transactions the primary "
                                                           "has and this server has not applied")
    semi_sync: str = Field("off", description="on (a sale is acknowledged only after the "
                                              "standby has it) | fallen_back (standby gone past "
                                              "the timeout: selling alone) | off")
    semi_sync_since: UtcDatetime | None = Field(None, description="when semi_sync last changed")
    peer: str | None = Field(None, description="the other server's API address")
    gtid: str | None = Field(None, description="this database's replication position")


class SaleRef(ApiModel):
    number: str
    at: UtcDatetime


class ServerFacts(ApiModel):
    """One server of the pair as the owner's dashboard shows it."""

    address: str | None = None
    reachable: bool = True
    role: str | None = None
    epoch: int | None = None
    replication: ReplicationHealth | None = None
    io_thread: str | None = Field(None, description="standby: Yes | No | Connecting")
    sql_thread: str | None = Field(None, description="standby: Yes | No")
    last_error: str | None = None
    last_sale: SaleRef | None = None
    disk_free_bytes: int | None = None
    newest_verified_backup_at: UtcDatetime | None = None
    semi_sync_fallbacks: list[SemiSyncChange] = []
    error: str | None = Field(None, description="why the server could not be asked")
    tls_fingerprint: str | None = Field(
        None, description="its CA's fingerprint: what a counter compares at setup (the other "
                          "server's: the one this server pinned at pairing)")


class SemiSyncChange(ApiModel):
    at: UtcDatetime
    state: str = Field(description="fallen_back | on")


class ReplicationStatusOut(ApiModel):
    """``GET /replication/status``: this server, and the other one as this server sees it."""

    this: ServerFacts
    peer: ServerFacts | None = None
    warnings: list[str] = []


class FailoverCheck(ApiModel):
    code: str = Field(description="primary_unreachable | relay_log_applied | no_errant_gtids | "
                                  "disk_space | is_standby | counter_view")
    ok: bool
    message: str = Field(description="plain words for the owner, in the request's language")
    overridable: bool = False


class PromoteCheckIn(ApiModel):
    counter_last_sale: str | None = Field(None, max_length=40,
                                          description="the newest sale number this counter knows")
    primary_reachable_from_counter: bool | None = Field(
        None, description="did the primary answer this counter (None: not asked)")


class PromoteCheckOut(ApiModel):
    ok: bool
    checks: list[FailoverCheck]
    standby_last_sale: SaleRef | None = None
    counter_last_sale: str | None = None
    summary: str = Field(description="e.g. 备用服务器最后一笔销售是 20261201-02-0042（14:03）")


class PromoteIn(PromoteCheckIn):
    """The owner's password (not a token: the counter may have no login that works here)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    confirm_primary_off: bool = Field(description="the owner confirms the old server is off or "
                                                  "unplugged")
    override_primary_reachable: bool = Field(
        False, description="promote although the primary still answers (a hung machine); "
                           "audited")


class PromoteOut(ApiModel):
    role: str
    epoch: int
    backup_job_id: str | None = Field(None, description="the safety backup started at once")
    checks: list[FailoverCheck]
    seconds: float


ServerFacts.model_rebuild()


class PairIn(ApiModel):
    advertise: str = Field(min_length=1, max_length=200,
                           description="the standby's API address, as the primary reaches it")
    seed: Literal["auto", "dump", "physical", "none"] = Field(
        "auto", description="how the standby wants its copy: a dump it reads over TLS, a "
                            "physical copy (mariadb-backup) streamed over TLS, auto (physical "
                            "for a large database), none (rejoin from its own position)")
    physical_ok: bool = Field(False, description="the standby has mariadb-backup and mbstream")
    pairing_code: str | None = Field(None, max_length=16,
                                     description="instead of the owner's token: the one-time "
                                                 "code from the back office (15 minutes)")
    ca_pem: str | None = Field(None, max_length=8000,
                               description="the standby's own CA certificate (PEM): the primary "
                                           "trusts it for https to the standby, and tells "
                                           "counters about it (GET /health/tls)")

    @field_validator("ca_pem")
    @classmethod
    def _is_a_certificate(cls, pem: str | None) -> str | None:
        if pem:
            try:
                ca_fingerprint(pem)
            except ValueError as e:
                raise ValueError("不是证书（PEM）") from e
        return pem or None


class PairingCodeOut(ApiModel):
    code: str = Field(description="e.g. 7KQ3-M9XD; typed on the standby machine")
    expires_at: UtcDatetime


class PositionOut(ApiModel):
    gtid_binlog_pos: str
    gtid_binlog_state: str
    epoch: int
    role: str


class KnownKeysIn(ApiModel):
    keys: list[str] = Field(max_length=1000)


class KnownKeysOut(ApiModel):
    known: list[str]


class SwitchoverPrepareOut(ApiModel):
    gtid: str = Field(description="the primary's final position: the standby applies up to "
                                  "it before it is promoted")
    epoch: int


class SwitchoverFinishIn(ApiModel):
    new_primary: str = Field(min_length=1, max_length=200)
    advertise: str | None = Field(None, max_length=200)
