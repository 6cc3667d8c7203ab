"""Platform-side trading records: cloids that say who placed an order, fills, trade history."""
