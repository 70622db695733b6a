"""A governance repo on disk or in Git: snapshots, the bundled data, the findings cache, import."""
