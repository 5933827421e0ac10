"""Small templates for the generic golden set (make_chat_template_golden.py writes snippets.json).

Each is (name, template, variables). Together they exercise every construct the Swift
ChatTemplates module implements, beyond what the models' own templates use; several are written
to fail in jinja2 (undefined values used wrongly, raise_exception, type errors), since the errors
are part of the semantics. The last group are chat templates in the styles of well-known model
families, written for these tests.
"""

CHAT = [
    {"role": "system", "content": "Be kind."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "  Bye  "},
]
PLAIN = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
BASE = {"messages": CHAT, "add_generation_prompt": True, "bos_token": "<s>", "eos_token": "</s>"}


def v(**extra):
    return {**BASE, **extra}


SNIPPETS = [
    # Whitespace control, trim_blocks and lstrip_blocks.
    ("ws_trim_and_lstrip", "a\n  {% if true %}\n  x\n  {% endif %}\nb\n", v()),
    ("ws_variables_not_lstripped", "a\n  {{ 1 }}\n  {# c #}\nb", v()),
    ("ws_plus_keeps", "a  {%+ if true %}x{% endif +%}\ny", v()),
    ("ws_minus_both_sides", "  {%- if true -%}  x  {%- endif %}\n\n", v()),
    ("ws_print_minus", "a   {{- 'b' -}}   c\n\n{{- 'd' }}  ", v()),
    ("ws_comment_minus", "a  {#- comment -#}  b {# keep #}\nc", v()),
    ("ws_crlf_template", "x\r\n{% for m in messages %}\r\n[{{ m.role }}]\r\n{% endfor %}\r\ny\r\n", v()),
    ("ws_trailing_newline_dropped", "{{ bos_token }}\n\n", v()),
    ("ws_tab_lstrip", "\t{% if true %}\ty{% endif %}", v()),
    ("ws_text_before_tag_on_line", "x {% if true %}\n{% endif %}z", v()),
    ("ws_set_eats_newline", "{% set x = 1 %}\n\n{{ x }}", v()),
    ("ws_unicode_space_strip", "a\u3000\u00a0 {%- if true %}b{% endif %}", v()),
    ("ws_nested_blocks",
     "{% for m in messages %}\n    {% if m.role == 'user' %}\n        U:{{ m.content }}\n    {% else %}\n"
     "        O:{{ m.content }}\n    {% endif %}\n{% endfor %}", v()),
    ("ws_minus_strips_newlines", "{% for m in messages -%}\n\n  {{ m.role }}\n{%- endfor %}", v()),

    ("ws_lstrip_at_template_start", "  {% if true %}x{% endif %}  {{ 'y' }}  {% if true %}z{% endif %}", v()),
    ("ws_brackets_in_tags", "{{ {'a': {'b': 1}}}}|{{ [[1], [2]]}}|{% set d = {'k': {'v': 2}}%}{{ d.k.v }}", v()),
    ("ws_comment_with_delimiters", "a{# {{ x }} {% if %} }} %} #}b{#- multi\nline\n-#}\n  c", v()),
    ("ws_multiline_tags", "{%\n  if\n  true\n%}\nyes{{\n  'x'\n}}\n{% endif %}", v()),
    ("ws_string_with_newline", "{{ 'line1\nline2' }}|{{ \"a\r\nb\" }}", v()),
    ("ws_unicode_text", "héllo 世界 {{ '🙂' }}\n\t{% if true %}\t→{% endif %}", v()),
    ("ws_minus_at_end", "x {{- 'y' -}}   ", v()),

    # Statements.
    ("if_elif_else", "{% for n in [0, 1, 2, 3] %}{% if n == 0 %}zero{% elif n == 1 %}one{% elif n is even %}even"
     "{% else %}odd{% endif %},{% endfor %}", v()),
    ("for_loop_variables",
     "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
     "{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.depth }};{% endfor %}", v()),
    ("for_previtem_nextitem",
     "{% for x in xs %}{{ loop.previtem is defined }}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b', 'c') }};"
     "{% endfor %}", v(xs=[1, 2, 3, 4])),
    ("for_else", "{% for x in [] %}item{% else %}empty{% endfor %}|{% for x in [1] %}item{% else %}empty{% endfor %}", v()),
    ("for_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}/{{ loop.length }} "
     "{% else %}none{% endfor %}", v()),
    ("for_filter_sees_outer_loop", "{% for a in [1, 2] %}{% for b in [1, 2, 3] if loop.index > 1 %}{{ a }}{{ b }},{% endfor %}"
     "{% endfor %}|{% for b in [1, 2] if loop is defined %}{{ b }}{% endfor %}", v()),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for (a, b) in pairs %}{{ a }}{{ b }}{% endfor %}",
     v(d={"b": 1, "a": [1, 2]}, pairs=[[1, 2], [3, 4]])),
    ("for_over_dict_and_string", "{% for k in d %}{{ k }}{% endfor %}|{% for c in 'héllo' %}{{ c }}.{% endfor %}",
     v(d={"x": 1, "y": 2})),
    ("for_over_undefined", "{% for x in nothing %}x{% else %}no items{% endfor %}", v()),
    ("for_over_none", "{% for x in none %}x{% endfor %}", v()),
    ("break_continue", "{% for x in range(10) %}{% if x is odd %}{% continue %}{% endif %}{% if x > 6 %}{% break %}"
     "{% endif %}{{ x }}{% endfor %}", v()),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}({{ loop.index }})"
     "{% endfor %}", v()),
    ("set_scoping_loop", "{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }},{% endfor %}{{ x }}", v()),
    ("set_scoping_if", "{% if true %}{% set z = 3 %}{% endif %}{{ z }}", v()),
    ("set_per_iteration", "{% for i in range(3) %}{% if i == 1 %}{% set y = 5 %}{% endif %}{{ y }},{% endfor %}{{ y }}", v()),
    ("set_tuple", "{% set a, b = 1, 'two' %}{{ a }}{{ b }}{% set c, d = [3, 4] %}{{ c + d }}", v()),
    ("set_block", "{% set x %}  captured {{ 1 + 1 }}  {% endset %}[{{ x }}]{% set y | trim | upper %}  up  {% endset %}[{{ y }}]", v()),
    ("set_overrides_context", "{% set messages = messages[1:] %}{{ messages | length }}{{ messages[0].role }}", v()),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'user' %}"
     "{% set ns.found = true %}{% set ns.n = ns.n + 1 %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns.missing }}|{{ ns }}",
     v()),
    ("namespace_from_dict", "{% set ns = namespace(d, extra='e') %}{{ ns.a }}{{ ns.extra }}", v(d={"a": 1})),
    ("set_attribute_on_dict", "{% set d.k = 2 %}", v(d={"k": 1})),
    ("macro_basic", "{% macro m(a, b=2) %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, b=3) }}{{ m(a=5) }}{{ m() }}", v()),
    ("macro_scope", "{% set a = 1 %}{% macro m() %}{{ a }}{{ b }}{{ messages | length }}{% endmacro %}{% set b = 2 %}"
     "{{ m() }}{% for i in [1] %}{% set a = 5 %}{{ m() }}{% endfor %}", v()),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}"
     "{{ fact(6) }}", v()),
    ("macro_too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", v()),
    ("macro_unknown_keyword", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}", v()),
    ("for_target_restored", "{% set m = 'outer' %}{% for m in [1, 2] %}{{ m }}{% endfor %}{{ m }}", v()),
    ("for_nested_loop_index", "{% for i in range(3) %}{{ loop.index }}:{% for j in range(loop.index) %}*{% endfor %}"
     "{{ loop.last }} {% endfor %}", v()),
    ("namespace_accumulate", "{% set ns = namespace(total=0, parts=[]) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}"
     "{% set ns.parts = ns.parts + [x * 10] %}{% endfor %}{{ ns.total }} {{ ns.parts }} {{ namespace() }}", v()),
    ("macro_default_from_param", "{% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m('x') }}", v()),
    ("macro_local_set", "{% set x = 1 %}{% macro m() %}{% set x = 2 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}", v()),
    ("macro_output_used_as_value", "{% macro pad(s) %}[{{ s }}]{% endmacro %}{{ pad('a') ~ pad('b') | upper }} {{ pad(1) | length }}", v()),
    ("set_tuple_from_string", "{% set a, b = 'xy' %}{{ b }}{{ a }}", v()),
    ("set_conditional_value", "{% for m in messages %}{% set c = m['content'] if m['content'] is string else '' %}{{ c | length }},"
     "{% endfor %}", v(messages=[{"role": "user", "content": "abc"}, {"role": "user", "content": ["x"]}])),
    ("raise_exception", "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 1) %}"
     "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% endfor %}",
     v(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])),
    ("raise_exception_unicode", "{{ raise_exception('Ünsupported rôle: ' ~ messages[0].role) }}", v()),

    # Expressions.
    ("literals", "{{ 42 }} {{ -7 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 3.5 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 2.0 }} "
     "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }} {{ 'single' }} {{ \"double\" }} {{ 'a' 'b' }}", v()),
    ("string_escapes", "{{ 'tab\\there\\nnewline \\'q\\' \\\"dq\\\" back\\\\slash \\x41\\u00e9\\U0001F600 \\101 \\d \\q' }}", v()),
    ("repr_of_containers", "{{ [1, 'a', none, true, 1.0, [2]] }} {{ {'k': 'it\\'s', 'q': 'say \"x\"', 'n': none} }} {{ (1,) }} "
     "{{ (1, 'b') }} {{ () }} {{ [] }} {{ {} }} {{ ['tab\\t', 'nl\\n', 'bs\\\\', 'uni é', '\\x7f', '\\u200b'] }}", v()),
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} "
     "{{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.5 }} "
     "{{ true + 1 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 123456789.0 * 1000 }} {{ 1 / 3 }} {{ -0.0 }}", v()),
    ("precedence", "{{ 1 + 2 * 3 - 4 / 2 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ not 1 == 2 }} {{ 1 if 0 else 2 if 0 else 3 }} "
     "{{ 'a' ~ 1 ~ none ~ true }} {{ (1 + 2) ~ 3 }} {{ not false and true or false }} {{ 10 - 2 - 3 }} {{ 2 * 3 % 4 }}", v()),
    ("floats", "{{ 1e-4 }} {{ 1e-5 }} {{ 123456789012345678.0 }} {{ 1.7976931348623157e308 }} {{ 5e-324 }} {{ 0.1 + 0.7 }} "
     "{{ 100 / 3 }} {{ 2.5 ~ '' }} {{ 1e400 }} {{ -1e400 }} {{ 1e400 - 1e400 }} {{ [1e400 - 1e400] | tojson }} {{ 1e22 }} "
     "{{ 9007199254740993 / 1 }} {{ 0.000123 }} {{ 1e16 - 1 }} {{ 4.35 * 100 }}", v()),
    ("int_float_mixing", "{{ 3 == 3.0 }} {{ 2 ** 62 < 2.0 ** 63 }} {{ 7 // 2.0 }} {{ 7 % 2.5 }} {{ -7 // 2.0 }} {{ 1.0 % -3 }} "
     "{{ 10 // -3 }} {{ -10 % 3 }} {{ true * 3 }} {{ false - 1 }} {{ 3 / true }}", v()),
    ("zero_division_variants", "{{ 1 // 0 }}", v()),
    ("float_modulo_by_zero", "{{ 1.0 % 0 }}", v()),
    ("unary_minus_filter_binding", "{{ -messages | length }}", v()),
    ("not_and_filters", "{{ not messages | length }} {{ messages | length > 3 }} {{ not nothing is defined }} "
     "{{ xs | join(sep | default(',')) }} {{ ('a', 'b') | join }} {{ [1, 2] | first | string }}", v(xs=[1, 2])),
    ("dict_duplicate_keys", "{{ {'a': 1, 'b': 2, 'a': 3} }} {{ {1: 'x', 1.0: 'y'} }} {{ 1.0 in {1: 'a'} }}", v()),
    ("subscript_chains", "{{ rows.0.1 }} {{ rows[1][0] }} {{ rows[-1][-1] }} {{ 'abc'[1] }} {{ 'abc'[5] }}|{{ messages[0]['role'][0] }}",
     v(rows=[[1, 2], [3, 4]])),
    ("repr_of_messages", "{{ messages[0] }} {{ messages | map(attribute='content') | list }}",
     v(messages=[{"role": "user", "content": "it's \"q\" é\n\u00ff\u0100\U0001f600\x00"}])),
    ("string_compare_unicode", "{{ 'é' == '\u00e9' }} {{ 'Z' < 'a' }} {{ 'ab' < 'abc' }} {{ '' < 'a' }} {{ '😀' > 'ￚ' }} "
     "{{ ['a', 1] == ['a', 1.0] }} {{ (1, 2) < (1, 3) }}", v()),
    ("and_or_none", "{{ true and none }} {{ none or false }} {{ 0 and nothing }}|{{ [] or {} }}|{{ 'x' if none else 'y' }}", v()),
    ("defined_on_attribute_of_undefined", "{{ nothing.attr is defined }}", v()),
    ("dict_views", "{{ d.items() }} {{ d.keys() }} {{ d.values() }} {{ d.items() | length }} {{ 'a' in d.keys() }} "
     "{{ d.keys() == d.keys() }} {{ d.values() == d.values() }} [{{ d.keys()[0] }}] {{ d.items() | list }} {{ d.keys() | last }} "
     "{{ {}.keys() == [] }} {{ d.values() is iterable }} {{ d.keys() is sequence }} {% if {}.items() %}x{% else %}empty{% endif %}",
     v(d={"a": 1, "b": [2]})),
    ("dict_view_tojson_error", "{{ d.keys() | tojson }}", v(d={"a": 1})),
    ("slice_of_dict_error", "{{ d[1:] }}", v(d={"a": 1})),
    ("slice_bound_error", "{{ xs['a':] }}", v(xs=[1])),
    ("slice_of_undefined_error", "{{ nothing[1:] }}", v()),
    ("string_modulo_without_conversions", "{{ 'abc' % () }} {{ 'abc' % {} }} {{ 'abc' % [] }} {{ 'abc' % nothing }}", v()),
    ("string_modulo_error", "{{ 'abc' is odd }}", v()),
    ("unhashable_membership", "{{ [1] in {'a': 1} }}", v()),
    ("float_power_overflow", "{{ 10.0 ** 400 }}", v()),
    ("repetition", "{{ 'ab' * 3 }}|{{ 3 * '-' }}|{{ 'x' * 0 }}|{{ 'x' * -1 }}|{{ [1, 2] * 2 }}|{{ 'ab' * true }}", v()),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} "
     "{{ [1, 2] < [1, 3] }} {{ 1 != 2 }} {{ 2 >= 2 }} {{ 'é' > 'z' }} {{ [1] == [1.0] }} {{ none == none }} {{ x == y }}", v()),
    ("membership", "{{ 'ab' in 'xaby' }} {{ 1 in [1, 2] }} {{ 'a' in d }} {{ 'z' not in d }} {{ 'a' in nothing }} "
     "{{ 'user' in messages | map(attribute='role') }} {{ '' in 'x' }}", v(d={"a": 1})),
    ("and_or_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }} {{ nothing or 'fallback' }}", v()),
    ("conditional_without_else", "[{{ 'a' if false }}] {{ ('a' if false) is defined }} {{ 'yes' if messages else 'no' }}", v()),
    ("attribute_and_item", "{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages[-1].content }} {{ xs.0 }} "
     "{{ d.nested.k }} {{ d['nested']['k'] }} {{ messages[10] }}|{{ d.missing }}|{{ d.items is defined }}",
     v(xs=[5, 6], d={"nested": {"k": "v"}})),
    ("dict_key_shadowed_by_method", "{{ d['items'] }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('keys') }} "
     "{{ d.get('zz', 'dflt') }} {{ d.get('zz') }}", v(d={"items": "stored", "keys": 2})),
    ("slicing", "{{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[-2:] }} {{ xs[1:4:2] }} {{ xs[10:] }} {{ 'héllo'[1:3] }} "
     "{{ 'abc'[::-1] }} {{ messages[1:][0].role }} {{ xs[:-1] }} {{ 'abc'[-1] }}", v(xs=[1, 2, 3, 4, 5])),
    ("dict_literal_and_lookup", "{% set m = {'role': 'user', 'n': 1, 2: 'two'} %}{{ m.role }}{{ m['n'] }}{{ m[2] }}{{ m | length }}",
     v()),
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}", v()),
    ("range_too_big", "{{ range(200000) | length }}", v()),
    ("string_methods", "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  \\n'.rstrip() }}|"
     "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'bc')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|"
     "{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ ' a b '.split(None, 1) }}|{{ 'hello'.upper() }}|"
     "{{ 'HeLLo'.lower() }}|{{ 'hello world-x'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'aaa'.replace('a', 'b', 2) }}|"
     "{{ 'abc'.replace('', '-') }}|{{ ', '.join(['a', 'b']) }}|{{ 'héllo'.find('l') }}|{{ 'x'.find('y') }}", v()),
    ("string_methods_unicode", "{{ 'straße'.upper() }} {{ 'ΟΔΟΣ ΣΑΣ'.lower() }} {{ 'ǆemal'.title() }} {{ 'ǆemal'.capitalize() }} "
     "{{ 'İstanbul'.lower() | length }} {{ 'ﬁne'.upper() }} {{ 'e\u0301' == '\u00e9' }}", v()),
    ("content_split_think", "{% for m in messages %}{% set c = m.content %}{% if '</think>' in c %}"
     "{% set c = c.split('</think>')[-1].lstrip('\\n') %}{% endif %}[{{ c }}]{% endfor %}",
     v(messages=[{"role": "assistant", "content": "<think>\nhmm\n</think>\n\nAnswer"}, {"role": "user", "content": "ok"}])),

    # Filters.
    ("filters_text", "{{ '  pad  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Mixed' | upper }}|{{ 'Mixed' | lower }}|"
     "{{ 5 | upper }}|{{ 'hello wORLD' | capitalize }}|{{ \"they're bill's-friends (x) [y] <z>\" | title }}|"
     "{{ 'a-b' | replace('-', '+') }}|{{ 12 | string }}{{ none | string }}|{{ nothing | trim }}", v()),
    ("filters_length", "{{ messages | length }} {{ 'héllo' | length }} {{ d | count }} {{ nothing | length }} {{ [] | length }}",
     v(d={"a": 1, "b": 2})),
    ("filters_first_last", "{{ xs | first }} {{ xs | last }} {{ 'abc' | first }} {{ 'abc' | last }} {{ d | first }} {{ d | last }} "
     "[{{ [] | first }}] [{{ nothing | last }}]", v(xs=[3, 4, 5], d={"k1": 1, "k2": 2})),
    ("filters_join", "{{ xs | join }} {{ xs | join(', ') }} {{ messages | join(' ', attribute='role') }} {{ [1, none, 'x'] | join('-') }} "
     "[{{ nothing | join(',') }}]", v(xs=[1, 2, 3])),
    ("filters_default", "{{ nothing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | default('d') }} "
     "{{ 0 | d('z', boolean=true) }} {{ 'v' | default('d') }} {{ d.missing | default('m') }}", v(d={})),
    ("filters_int_float", "{{ '42' | int }} {{ '42.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ ' 12 ' | int }} {{ '1_0' | int }} "
     "{{ 3.9 | int }} {{ -3.9 | int }} {{ true | int }} {{ none | int }} {{ '1e3' | int }} {{ '2.5' | float }} {{ 'x' | float }} "
     "{{ 3 | float }} {{ ' inf ' | float }} {{ '1_000.5' | float }}", v()),
    ("filters_list_reverse", "{{ 'ab' | list }} {{ d | list }} {{ xs | reverse | list }} {{ 'abc' | reverse }} "
     "{% for x in xs | reverse %}{{ x }}{% endfor %}", v(xs=[1, 2, 3], d={"p": 1, "q": 2})),
    ("filters_select", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} "
     "{{ messages | rejectattr('role', 'eq', 'user') | list | length }} {{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} "
     "{{ [0, 1, '', 'a', none] | select | list }} {{ messages | selectattr('missing') | list }} "
     "{{ xs | select('>', 2) | list }} {{ xs | select('in', [1, 4]) | list }} {{ xs | map('string') | join('') }}",
     v(xs=[1, 2, 3, 4])),
    ("filters_map", "{{ messages | map(attribute='role') | list }} {{ messages | map(attribute='nope') | list }} "
     "{{ messages | map(attribute='nope', default='q') | list }} {{ ['a', 'B'] | map('upper') | list }} "
     "{{ items | map(attribute='function.name') | join(',') }} {{ rows | map(attribute='0') | list }} "
     "{{ ['x', 'y'] | map('replace', 'x', 'z') | list }}",
     v(items=[{"function": {"name": "f1"}}, {"function": {"name": "f2"}}], rows=[[1, 2], [3, 4]])),
    ("filters_generator_length", "{{ messages | selectattr('role', 'equalto', 'user') | length }}", v()),
    ("filters_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}{{ nothing | items | list }}", v(d={"z": 1, "a": 2})),
    ("filters_abs_indent", "{{ -3 | abs }} {{ -2.5 | abs }}|{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|"
     "{{ 'a\\n\\nb' | indent('> ', blank=true) }}|{{ '' | indent(first=true) }}", v()),
    ("filters_unicode_case", "{{ 'ÉCOLE' | lower }} {{ 'école' | capitalize }} {{ 'ßa' | upper }} {{ 'élan vital-ça' | title }} "
     "{{ 'ΣΑΣ' | lower }} {{ 'x ΣΑΣ.' | title }}", v()),
    ("filters_indent_blank", "{{ '  a\n  b\n\n' | indent(4, true, true) }}|{{ 'a\r\nb\u2028c' | indent(1) }}", v()),
    ("filters_replace_count", "{{ 'aaaa' | replace('a', 'b', 3) }} {{ 'abab' | replace('ab', '') }} {{ 12121 | replace(1, 3) }}", v()),
    ("filters_trim_chars", "{{ '--x--' | trim('-') }}|{{ '\u3000x\u00a0' | trim }}|{{ 'abcxcba' | trim('abc') }}", v()),
    ("filters_on_generators", "{{ xs | select('even') | first }} {{ xs | map('string') | list | last }} "
     "{{ xs | select('odd') | join(',') }} {% for x in xs | reject('even') %}{{ x }}{% endfor %} {{ (xs | select) is iterable }} "
     "{{ xs | select('even') | list | length }}", v(xs=[1, 2, 3, 4])),
    ("filters_last_of_generator", "{{ xs | select('odd') | last }}", v(xs=[1, 2, 3])),
    ("tojson_nested_indent", "{{ messages | tojson(indent=4) }}\n{{ {'a': [[], {}], 'b': [1, [2, [3]]]} | tojson(indent=1) }}"
     "\n{{ {'z': 1, 'a': {'y': 2, 'b': 3}} | tojson(sort_keys=true, indent=2) }}\n{{ 'ctrl\x1f\x08\x0c' | tojson }}", v()),
    ("tojson", "{{ tools | tojson }}\n{{ 'é\"\\\\\\n\\t\\x01\\x7f\u2028' | tojson }}\n{{ [1, 2.5, none, true, 1e20, 0.1] | tojson }}\n"
     "{{ {'b': 1, 'a': [], 'c': {}} | tojson(indent=2) }}\n{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}\n"
     "{{ [1, {'x': 'y'}] | tojson(separators=(',', ':')) }}\n{{ 'é😀' | tojson(ensure_ascii=true) }}\n{{ {1: 'int key', true: 'b'} | tojson }}\n"
     "{{ (1, 'a') | tojson }}\n{{ {'k': [1, {'n': none}]} | tojson(indent='\\t') }}",
     v(tools=[{"type": "function", "function": {"name": "get_weather", "description": "Weather «now»",
                                                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                                 "required": ["city"]}}}])),
    ("tojson_undefined", "{{ nothing | tojson }}", v()),

    # Tests.
    ("tests_types", "{{ x is defined }}{{ nothing is defined }}{{ nothing is undefined }}{{ none is none }}{{ 0 is none }}"
     "{{ 's' is string }}{{ 1 is string }}{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}{{ 's' is number }}"
     "{{ d is mapping }}{{ xs is mapping }}{{ xs is sequence }}{{ 's' is sequence }}{{ d is sequence }}{{ 1 is sequence }}"
     "{{ xs is iterable }}{{ 1 is iterable }}{{ nothing is iterable }}{{ true is boolean }}{{ 1 is integer }}"
     "{{ true is integer }}{{ 1.0 is float }}{{ true is true }}{{ 1 is true }}{{ false is false }}",
     v(x=1, d={}, xs=[])),
    ("tests_values", "{{ 3 is odd }}{{ 3 is even }}{{ 4 is divisibleby 2 }}{{ 4 is divisibleby(3) }}{{ 1 is equalto 1 }}"
     "{{ 1 is eq 2 }}{{ 'a' is in 'cat' }}{{ 2 is in [1, 2] }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'Abc' is lower }}"
     "{{ none is sameas none }}{{ false is sameas false }}{{ 2 is gt 1 }}{{ 2 is lessthan 1 }}{{ x is not defined }}"
     "{{ 2 is ne 2 }}{{ 3 is ge 3 }}", v()),

    # Undefined values.
    ("undefined_prints_empty", "[{{ nothing }}][{{ messages[0].tool_calls }}][{{ d.x }}][{{ none.x }}]", v(d={})),
    ("undefined_is_falsy", "{% if not nothing and not messages[0].tool_calls %}falsy{% endif %}", v()),
    ("undefined_attribute_error", "{{ nothing.attr }}", v()),
    ("undefined_nested_attribute_error", "{{ messages[0].tool_calls.name }}", v()),
    ("undefined_element_error", "{{ messages[9]['role'] }}", v()),
    ("undefined_arithmetic_error", "{{ nothing + 1 }}", v()),
    ("undefined_concat_ok", "{{ nothing ~ 'a' }}{{ 'b' ~ nothing }}", v()),
    ("undefined_call_error", "{{ nothing() }}", v()),
    ("undefined_compare", "{{ nothing == nothing }} {{ nothing == none }} {{ nothing != 1 }}", v()),
    ("undefined_order_error", "{{ nothing < 1 }}", v()),
    ("none_attribute_error", "{{ none.x.y }}", v()),
    ("string_attribute_error", "{{ 'ab'.x.y }}", v()),
    ("dict_element_error", "{{ d[1].y }}", v(d={})),
    ("method_on_str_undefined_call", "{{ 'x'.nosuchmethod() }}", v()),

    # Runtime errors.
    ("type_error_add", "{{ 'a' + 1 }}", v()),
    ("type_error_compare", "{{ 1 < 'a' }}", v()),
    ("zero_division", "{{ 1 / 0 }}", v()),
    ("in_string_type_error", "{{ 1 in 'abc' }}", v()),
    ("length_of_none", "{{ none | length }}", v()),
    ("unpack_mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", v()),
    ("list_append_blocked", "{{ xs.append(1) }}", v(xs=[])),

    # Chat templates in the styles of common model families.
    ("style_chatml",
     "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' + '\\n' }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", v()),
    ("style_llama3",
     "{{- bos_token }}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n"
     "    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n"
     "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{%- if strftime_now is defined %}{{- 'clock' }}{%- endif %}\n"
     "{{- system_message }}\n{{- \"<|eot_id|>\" }}\n{%- for message in messages %}\n"
     "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
     "{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n",
     v()),
    ("style_mistral_alternation",
     "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n"
     "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n"
     "{{- bos_token }}\n{%- for message in loop_messages %}\n"
     "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
     "        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n"
     "    {%- endif %}\n    {%- if message['role'] == 'user' %}\n"
     "        {%- if loop.first and system_message is defined %}\n"
     "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
     "        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n"
     "    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n"
     "    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n"
     "    {%- endif %}\n{%- endfor %}\n", v()),
    ("style_mistral_alternation_rejects", "{%- for message in messages %}{%- if (message['role'] == 'user') != "
     "(loop.index0 % 2 == 0) %}{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
     "{%- endif %}{{ message.content }}{%- endfor %}", v(messages=PLAIN[::-1])),
    ("style_mistral_alternation_ok", "{%- for message in messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{- raise_exception('bad') }}{%- endif %}[{{ message.role }}]{%- endfor %}", v(messages=PLAIN)),
    ("style_gemma",
     "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n"
     "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n"
     "    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n"
     "    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n    {%- else -%}\n"
     "        {%- set role = message['role'] -%}\n    {%- endif -%}\n"
     "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
     "    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n"
     "    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n"
     "            {%- if item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}\n        {%- endfor -%}\n"
     "    {%- else -%}\n        {{ raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n"
     "    {{ '<end_of_turn>\\n' }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n    {{'<start_of_turn>model\\n'}}\n{%- endif -%}\n",
     v()),
    ("style_reverse_scan",
     "{%- set ns = namespace(last_user=-1) %}\n{%- for message in messages[::-1] %}\n"
     "    {%- set index = (messages | length - 1) - loop.index0 %}\n"
     "    {%- if ns.last_user == -1 and message.role == 'user' %}{%- set ns.last_user = index %}{%- endif %}\n"
     "{%- endfor %}\nlast user at {{ ns.last_user }}: {{ messages[ns.last_user].content | trim }}", v()),
    ("style_tools_json",
     "{%- if tools %}\n<tools>\n{%- for tool in tools %}\n{{ tool | tojson }}\n{%- endfor %}\n</tools>\n{%- endif %}\n"
     "{%- for m in messages %}\n{{ m.role }}: {{ m.content }}\n{%- endfor %}",
     v(tools=[{"name": "add", "parameters": {"a": {"type": "number"}, "b": {"type": "number"}}},
              {"name": "now", "parameters": {}}])),
]
