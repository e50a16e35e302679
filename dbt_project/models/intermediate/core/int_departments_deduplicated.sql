{{ latest_per_key(ref('stg_pmo__departments'), ['dept_id']) }}
