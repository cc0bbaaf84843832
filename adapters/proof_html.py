"""A consent proof as one self-contained HTML page, laid out for print (a browser's "Save as
PDF" makes the PDF a TCPA or GDPR request asks for): the contact, its states, every update with
provenance and evidence, and the digest that lets the recipient check the JSON export.

Rendered by Jinja2 with autoescaping (every value in a proof came from outside); the `server`
extra installs it. The page holds no script and loads nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["proof_html"]

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Consent proof: {{ p.channel }} {{ p.key }}</title>
<style>
  body { font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 2em; }
  h1 { font-size: 16pt; margin: 0 0 .3em; }
  h2 { font-size: 13pt; margin: 1.4em 0 .4em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #999; padding: .25em .4em; text-align: left;
           vertical-align: top; font-size: 9pt; }
  th { background: #eee; }
  code { font-size: 9pt; word-break: break-all; }
  dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
  dt { font-weight: 600; }
  @page { size: A4 landscape; margin: 12mm; }
  @media print { body { margin: 0; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>Consent proof</h1>
<dl>
  <dt>Contact</dt><dd>{{ p.channel }} <code>{{ p.key }}</code></dd>
  <dt>Contact key SHA-256</dt><dd><code>{{ p.key_sha256 }}</code></dd>
  <dt>As of</dt><dd>{{ p.as_of or "now" }}</dd>
  <dt>Generated</dt><dd>{{ p.generated_at }}</dd>
  <dt>Channel state</dt><dd>{{ state(p.state) }}</dd>
  {% for name, g in p.groups.items() %}
  <dt>Group {{ name }}</dt><dd>{{ state(g) }}</dd>
  {% endfor %}
  <dt>User ids</dt><dd>{{ p.user_ids | join(", ") or "none" }}</dd>
  <dt>Evidence digest</dt><dd><code>{{ p.digest }}</code> (SHA-256 of the JSON export's
    canonical form, without <code>digest</code> and <code>generated_at</code>)</dd>
</dl>
<h2>History ({{ p.history | length }} updates, in the order they take effect)</h2>
<table>
<thead><tr><th>Effective</th><th>Recorded</th><th>Subscription</th><th>Asked</th>
<th>Source</th><th>Outcome</th><th>State after</th><th>Evidence</th></tr></thead>
<tbody>
{% for e in p.history %}
<tr>
  <td>{{ e.effective_at }}{% if e.claimed_at %}<br>(claimed {{ e.claimed_at }}){% endif %}</td>
  <td>{{ e.recorded_at }}</td>
  <td>{{ e.group or "channel" }}</td>
  <td>{{ e.requested }}{% if e.locks %} (the user's own opt-out: locks){% endif %}
      {%- if e.unlocks %} (the user's own opt-in: unlocks){% endif %}</td>
  <td>{{ e.source }}<br><code>{{ e.source_id }}</code>
      {%- if e.user_id %}<br>user {{ e.user_id }}{% endif %}</td>
  <td>{{ e.outcome }}{% if e.error %}: {{ e.error }}{% endif %}</td>
  <td>{{ state(e.after) }}</td>
  <td>{% if e.evidence %}{% for k, v in e.evidence.items() if v %}{{ k }}: {{ v }}<br>
      {% endfor %}{% else %}none recorded{% endif %}</td>
</tr>
{% endfor %}
</tbody>
</table>
</body>
</html>
"""


def _state(state: dict[str, Any]) -> str:
    status = state.get("status") or "no state"
    locked = ", locked by the user's own opt-out" if state.get("locked_by_user") else ""
    since = f" since {state['since']}" if state.get("since") else ""
    return f"{status}{locked}{since}"


def proof_html(document: dict[str, Any]) -> str:
    """The proof document (`EngageApplication.consent_proof`) as a print-ready HTML page.
    `ImportError` without Jinja2 (the `server` extra)."""
    import jinja2  # the server extra; imported here so `engage` without it starts

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(_TEMPLATE)
    return template.render(p=document, state=_state)
