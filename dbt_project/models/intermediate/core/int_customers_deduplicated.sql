{{ latest_per_key(ref('stg_pmo__customers'), ['customer_id']) }}
