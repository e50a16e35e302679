{# An application is re-exported until it is decided: the latest row of the application
   (project, kind, day applied) carries its decision. #}
{{ latest_per_key(ref('stg_pmo__acceptances'), ['project_id', 'kind', 'applied_date']) }}
