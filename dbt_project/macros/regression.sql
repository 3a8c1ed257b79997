{#- Weighted least squares with a few regressors x_1 … x_n and no intercept, in plain SQL: the normal equations'
    sums as aggregates, their solution through the inverse of the symmetric matrix A = Σ w x xᵀ written out as
    cofactors (n! terms: meant for n ≤ 5), and a cluster-robust (sandwich) variance. Column names carry a prefix
    so several fits can sit side by side: <prefix>_a_i_j (i ≤ j), <prefix>_b_i, <prefix>_det, <prefix>_inv_i_j,
    <prefix>_beta_i, <prefix>_meat_i_j, <prefix>_variance_i. -#}

{% macro _symmetric(prefix, name, i, j) -%}
    {{ prefix }}_{{ name }}_{{ [i, j] | min }}_{{ [i, j] | max }}
{%- endmacro %}

{% macro _determinant(prefix, rows, cols) -%}
    {%- if rows | length == 1 -%}
        {{ _symmetric(prefix, 'a', rows[0], cols[0]) }}
    {%- else -%}
        (
        {%- for col in cols -%}
            {{ (' - ' if loop.index is even else ' + ') if not loop.first else '' -}}
            {%- set minor = _determinant(prefix, rows[1:], cols | reject('equalto', col) | list) %}
            {{- _symmetric(prefix, 'a', rows[0], col) }} * {{ minor }}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#- Select-list: the normal equations' sums over the rows of a group (aggregates). -#}
{% macro wls_sums(prefix, n, weight, response) -%}
    {%- for i in range(1, n + 1) %}
    {%- for j in range(i, n + 1) %}
    sum({{ weight }} * x_{{ i }} * x_{{ j }}) as {{ prefix }}_a_{{ i }}_{{ j }},
    {%- endfor %}
    sum({{ weight }} * x_{{ i }} * {{ response }}) as {{ prefix }}_b_{{ i }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Select-list: det(A), from the sums. -#}
{% macro wls_determinant(prefix, n) -%}
    {{ _determinant(prefix, range(1, n + 1) | list, range(1, n + 1) | list) }} as {{ prefix }}_det
{%- endmacro %}

{#- Select-list: A⁻¹ (i ≤ j) from the sums and det(A); null when A is singular (too few distinct profiles). -#}
{% macro wls_inverse(prefix, n) -%}
    {%- set all = range(1, n + 1) | list %}
    {%- for i in all %}
    {%- for j in all if j >= i %}
    {%- set without_row_j = all | reject('equalto', j) | list %}
    {%- set without_column_i = all | reject('equalto', i) | list %}
    {{ '-' if (i + j) is odd else '' }}{{ _determinant(prefix, without_row_j, without_column_i) if n > 1 else '1' }}
        / nullif({{ prefix }}_det, 0) as {{ prefix }}_inv_{{ i }}_{{ j }}{{ "," if not (loop.last and i == n) }}
    {%- endfor %}
    {%- endfor %}
{%- endmacro %}

{#- Select-list: β = A⁻¹ b. -#}
{% macro wls_coefficients(prefix, n) -%}
    {%- for i in range(1, n + 1) %}
    {% for j in range(1, n + 1) -%}
        {{ ' + ' if not loop.first }}{{ _symmetric(prefix, 'inv', i, j) }} * {{ prefix }}_b_{{ j }}
    {%- endfor %} as {{ prefix }}_beta_{{ i }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Expression: a row's fitted value Σ β_i x_i. -#}
{% macro wls_fitted(prefix, n) -%}
    ({% for i in range(1, n + 1) %}{{ ' + ' if not loop.first }}{{ prefix }}_beta_{{ i }} * x_{{ i }}{% endfor %})
{%- endmacro %}

{#- Select-list: one cluster's score vector Σ w x (y − Σ β x) (aggregates over the cluster's rows). -#}
{% macro wls_cluster_scores(prefix, n, weight, response) -%}
    {%- for i in range(1, n + 1) %}
    sum({{ weight }} * x_{{ i }} * ({{ response }} - {{ wls_fitted(prefix, n) }})) as {{ prefix }}_score_{{ i }}
        {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Select-list: the sandwich's meat Σ_clusters score scoreᵀ (aggregates over clusters). -#}
{% macro wls_meat(prefix, n) -%}
    {%- for i in range(1, n + 1) %}
    {%- for j in range(i, n + 1) %}
    sum({{ prefix }}_score_{{ i }} * {{ prefix }}_score_{{ j }}) as {{ prefix }}_meat_{{ i }}_{{ j }}
        {{- "," if not (loop.last and i == n) }}
    {%- endfor %}
    {%- endfor %}
{%- endmacro %}

{#- Select-list: Var(β_i) = (A⁻¹ M A⁻¹)_ii × G / (G − 1), the cluster-robust variance with G clusters. -#}
{% macro wls_variances(prefix, n, clusters) -%}
    {%- for i in range(1, n + 1) %}
    ({% for k in range(1, n + 1) %}{% for l in range(1, n + 1) -%}
        {{ ' + ' if not (loop.first and k == 1) }}{{ _symmetric(prefix, 'inv', i, k) }}
        {{- ' * ' }}{{ _symmetric(prefix, 'meat', k, l) }} * {{ _symmetric(prefix, 'inv', l, i) }}
    {%- endfor %}{% endfor %}) * {{ clusters }} / nullif({{ clusters }} - 1, 0)
        as {{ prefix }}_variance_{{ i }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
