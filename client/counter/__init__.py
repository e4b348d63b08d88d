"""The counter (收银台): the checkout screen and its flows — cart, payment, member panel,
hold / resume, refund, recharge, shifts, receipts. Views call ``client.api`` only inside
``client.tasks`` background ops; payment rules come from ``common.payment``."""
