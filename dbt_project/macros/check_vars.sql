{#
  The project's vars are pasted into SQL text (dates, time zone, ids, thresholds): check
  their shape before anything runs, so a mistyped or hostile value stops the run with a
  clear error instead of reaching a query. Called by on-run-start in dbt_project.yml.
#}
{% macro check_vars() %}
    {% set date_pattern = '^\\d{4}-\\d{2}-\\d{2}\\Z' %}
    {% set checks = [
        ('run_date', var('run_date'), date_pattern, true),
        ('calendar_start', var('calendar_start'), date_pattern, false),
        ('calendar_end', var('calendar_end'), date_pattern, false),
        ('timezone', var('timezone'), '^[A-Za-z0-9_+/-]+\\Z', false),
        ('organisation_id', var('organisation_id'), '^[\\w-]+\\Z', false),
        ('organisation_owner', var('organisation_owner'), "^[^'\\\\]+\\Z", false),
        ('improvement_due_days', var('improvement_due_days'), '^\\d+\\Z', false),
        ('audit_planned_month', var('audit_planned_month'), '^(1[0-2]|[1-9])\\Z', false),
        ('sla_review_threshold', var('sla_review_threshold'), '^\\d+(\\.\\d+)?\\Z', false),
        ('low_score_threshold', var('low_score_threshold'), '^\\d+(\\.\\d+)?\\Z', false),
    ] %}
    {% for name, value, pattern, may_be_empty in checks %}
        {% if not (may_be_empty and value is none) and not modules.re.match(pattern, value | string) %}
            {{ exceptions.raise_compiler_error("var('" ~ name ~ "') = " ~ (value | string) ~ " is not valid (expected " ~ pattern ~ ")") }}
        {% endif %}
    {% endfor %}
    {% for rating, points in var('rating_scores').items() %}
        {% if not modules.re.match('^\\w+\\Z', rating) or not modules.re.match('^\\d+(\\.\\d+)?\\Z', points | string) %}
            {{ exceptions.raise_compiler_error("var('rating_scores'): " ~ rating ~ ": " ~ points ~ " is not a rating and its points") }}
        {% endif %}
    {% endfor %}
    select 1
{% endmacro %}
