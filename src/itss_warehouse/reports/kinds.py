"""The report kinds by the name the command line and the DAGs use."""

from itss_warehouse.reports import annual_report, process_report, quality_report, satisfaction_report, service_report

KINDS = {
    kind.name: kind
    for kind in (
        service_report.KIND,
        process_report.KIND,
        quality_report.KIND,
        annual_report.KIND,
        satisfaction_report.KIND,
    )
}
# The command line's short names: `itss report service --period 2026-10`.
COMMANDS = {name.removesuffix("_report"): name for name in KINDS}
