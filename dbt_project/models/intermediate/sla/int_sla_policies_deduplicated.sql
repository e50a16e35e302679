{{ latest_per_key(ref('stg_pmo__sla_policies'), ['policy_id', 'priority']) }}
