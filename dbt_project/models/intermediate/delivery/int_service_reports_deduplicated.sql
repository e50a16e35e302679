{{ latest_per_key(ref('stg_pmo__service_reports'), ['project_id', 'period', 'report_type']) }}
