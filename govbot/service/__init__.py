"""Orchestration: workers turn stored deliveries into core calls and forge reports."""
