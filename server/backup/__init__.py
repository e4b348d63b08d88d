"""Backups that are proven by restore (issue 7, DESIGN.md §4). One module per job; callers
import from the module they need (nothing is re-exported here):

    dumpfile   the database target, ``mariadb-dump`` → scanner → parallel gzip → file, reading
               a dump back, loading SQL, atomic file helpers, ``BackupError``
    catalogue  backup ids and file names, ``BackupInfo``, reading / listing the folder
    retention  which backups to keep (pure)
    verify     the throwaway MariaDB and the test restore of a backup
    restore    restore into the live database, the restores journal
    pitr       point in time: the base backup and the binary-log replay
    schedule   the schedule (pure parts) and the scheduler thread
    jobs       long work for the API as in-memory jobs
    crypt      the owner's key and the encrypted copies in the destinations (age), opening one
    service    ``BackupService``, the façade the CLI, the API and the scheduler use

A backup is two files in the backup folder (``[backup] dir``, default ``<data_dir>/backups``):

    lanpos-20261123-084903Z.sql.gz        mariadb-dump output, gzip (``zcat | mariadb`` reads it)
    lanpos-20261123-084903Z.json          manifest: sha256, size, rows per table, binlog/GTID
                                          position, app version, schema revision, start/end time
    lanpos-20261123-084903Z.verify.json   the result of the last test restore (sidecar)

The folder itself is the catalogue (never the database: a restore replaces the database).

* **Consistency.** ``mariadb-dump --single-transaction --master-data=2 --gtid`` reads one InnoDB
  snapshot whose binlog position is exact (MariaDB's consistent-snapshot binlog position). The
  row counts in the manifest are counted *from the dump stream itself* while it is compressed,
  so they describe exactly that snapshot, and so does the schema revision (the
  ``alembic_version`` row in the dump).
* **Atomicity.** Data and manifest are written to ``.<id>….partial`` names, fsynced, then
  renamed (manifest last). A failed backup (disk full, dump tool missing, database down) removes
  its temp files and never touches other backups; the listing only shows complete pairs.
* **Verify.** Restore into a throwaway MariaDB (``ManagedMariaDB`` in a temp dir on a free
  port), compare the SHA-256, the row count of every table with the manifest, migrate to the
  current schema and run ``server.domain.verify.run_all``. Only a verified backup is "good".
* **Restore.** SHA-256 check, refuse unverified/failed unless forced, safety backup, API
  maintenance (503), drop + recreate the database, load, migrate, invariants, resume.
* **Point in time.** Restore the newest backup whose dump ended before the moment, then replay
  the binary log from the manifest's position with ``mariadb-binlog --stop-datetime``. The
  operator types local (shop) time (``[shop] timezone``, ``server.clock``); it is converted to
  UTC explicitly, and mariadb-binlog runs with ``TZ=UTC`` (it interprets --stop-datetime in its
  own process time zone).

Functions usable by the benchmark harness (issue 8), in ``dumpfile``:
``DbTarget.managed(mdb, "lanpos")`` / ``DbTarget.from_url(url)``, :func:`dump_to_file` (our
backup: dump + scan + parallel gzip + SHA-256), :func:`restore_file` (our restore: gunzip +
``mariadb``), ``DUMP_FLAGS`` (the same flags for a plain ``mariadb-dump | gzip`` next to it).
"""
