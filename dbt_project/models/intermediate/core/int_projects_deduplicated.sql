{{ latest_per_key(ref('stg_pmo__projects'), ['project_id']) }}
