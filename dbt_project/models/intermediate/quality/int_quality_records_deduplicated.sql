{{ latest_per_key(ref('stg_quality__records'), ['record_type', 'record_id']) }}
