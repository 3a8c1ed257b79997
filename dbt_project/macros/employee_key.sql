{#- The pseudonymous employee key marts and dashboards use instead of the HR id: an md5 of the id salted with the
    database setting `sharewhy.pseudonym_salt` (`alter database … set sharewhy.pseudonym_salt = '…'`), so the salt
    lives with the data it protects and never appears in dbt's compiled SQL or logs; empty when unset (dev). -#}
{% macro employee_key(employee_id) -%}
md5(coalesce(current_setting('sharewhy.pseudonym_salt', true), '') || ':' || {{ employee_id }})
{%- endmacro %}
