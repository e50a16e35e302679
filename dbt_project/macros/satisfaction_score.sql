{# A satisfaction answer on the 0–100 scale: a numeric score as its share of the scale's
   full mark (1–5: ×20, 1–10: ×10), a rating by var('rating_scores') (DECISIONS.md
   "Satisfaction"). Scores outside their scale are quarantined before they get here. #}
{% macro satisfaction_score(score, scale) -%}
    case {{ scale }}
        when '0-100' then {{ score }}::numeric
        when '1-5' then {{ score }}::numeric * 20
        when '1-10' then {{ score }}::numeric * 10
        when 'rating' then case {{ score }}
            {% for rating, points in var('rating_scores').items() %}
            when '{{ rating }}' then {{ points }}
            {% endfor %}
        end
    end
{%- endmacro %}
