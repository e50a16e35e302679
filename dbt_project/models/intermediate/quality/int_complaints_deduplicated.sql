{{ latest_per_key(ref('stg_quality__complaints'), ['complaint_id']) }}
