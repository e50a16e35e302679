"""Customer-facing reports rendered from the marts."""

from itss_warehouse.reports.service_report import RenderedReport, render_service_reports

__all__ = ["RenderedReport", "render_service_reports"]
