"""The link between a branch's edge and the centre, as the edge's database sees it (docs/architecture.md#topology)."""
