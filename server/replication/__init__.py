"""The standby pair: pairing and seeding, the replication monitor, guided failover, rejoin and
switchover (issue 13; README "Standby server and failover"; DESIGN.md §4)."""
