{#
  A person's pseudonym: HMAC-SHA256 of the name under the warehouse's own key, first 16 hex
  digits. The same person gets the same pseudonym in every mart and every run; without the
  key (raw.pseudonym_key, unreadable by the analyst role) nobody can tell whom it names or
  test a guess. The key is stored as HMAC's padded keys (src/itss_warehouse/warehouse/pseudonym.py).
#}
{% macro pseudonym(value) -%}
    left(encode(sha256(
        (select outer_pad from {{ source('raw', 'pseudonym_key') }})
        || sha256((select inner_pad from {{ source('raw', 'pseudonym_key') }}) || convert_to({{ value }}, 'UTF8'))
    ), 'hex'), 16)
{%- endmacro %}
