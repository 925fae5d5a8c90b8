//! The control page at `/control`: buttons for every control action, driven by a few lines of
//! JavaScript over the control API.

use axum::response::Html;

pub async fn control_page() -> Html<&'static str> {
    Html(CONTROL_PAGE)
}

const CONTROL_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keyhole testbed control</title>
<meta name="viewport" content="width=device-width">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2330}
section{border:1px solid #d8dce6;border-radius:8px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left}
button{margin:.15rem}code{background:#f3f3f3;padding:0 .2rem}#status{min-height:1.4rem;color:#185}
</style></head>
<body>
<h1>Keyhole testbed control</h1>
<p id="status" data-testid="control-status"></p>
<section><h2>Tokens</h2>
<button data-testid="control-expire-access" onclick="post('/control/api/tokens/expire',{})">Expire all access tokens</button>
<button data-testid="control-expire-all" onclick="post('/control/api/tokens/expire',{includeRefreshTokens:true})">Expire access and refresh tokens</button>
<table><thead><tr><th>id</th><th>kind</th><th>client</th><th>scopes</th><th>resource</th><th>expires</th><th>state</th><th>sessions</th><th></th></tr></thead>
<tbody id="tokens"></tbody></table></section>
<div id="servers"></div>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
async function post(path, body) {
  const response = await fetch(path, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
  const text = await response.text();
  $('status').textContent = (response.ok ? 'OK: ' : 'Error: ') + path.replace('/control/api/', '') + ' → ' + text;
  refresh();
}
function serverActions(s) {
  const p = (action, body) => `post('/control/api/servers/${s.name}/${action}', ${esc(JSON.stringify(body))})`;
  const tools = s.tools.map((t) => `<tr><td><code>${esc(t.name)}</code></td><td><input size="30" id="scopes-${esc(s.name)}-${esc(t.name)}" value="${esc(t.requiredScopes.join(' '))}" data-testid="control-scopes-${esc(s.name)}-${esc(t.name)}"></td>
    <td><button data-testid="control-set-scopes-${esc(s.name)}-${esc(t.name)}" onclick="setScopes('${esc(s.name)}','${esc(t.name)}')">Set required scopes</button></td></tr>`).join('');
  return `<section><h2>Server <code>${esc(s.name)}</code> (${esc(s.authMode)})</h2><p><code>${esc(s.mcpUrl)}</code></p>
    <button data-testid="control-fail-401-${esc(s.name)}" onclick="${p('fail-next', {status: 401})}">Next request → 401</button>
    <button data-testid="control-fail-403-${esc(s.name)}" onclick="${p('fail-next', {status: 403})}">Next request → 403</button>
    <button data-testid="control-notify-${esc(s.name)}" onclick="${p('notify', {})}">Ambient notification</button>
    <button data-testid="control-ambient-401-${esc(s.name)}" onclick="${p('ambient-challenge', {status: 401})}">Ambient 401 on the GET stream</button>
    <button data-testid="control-ambient-403-${esc(s.name)}" onclick="${p('ambient-challenge', {status: 403})}">Ambient 403 on the GET stream</button>
    <h3>Tools</h3><table>${tools}</table></section>`;
}
function setScopes(server, tool) {
  const scopes = $(`scopes-${server}-${tool}`).value.split(/\s+/).filter(Boolean);
  post(`/control/api/servers/${server}/required-scopes`, {tool, requiredScopes: scopes});
}
async function refresh() {
  const state = await (await fetch('/control/api/state')).json();
  const now = Date.now() / 1000;
  $('tokens').innerHTML = state.tokens.map((t) => `<tr><td>${esc(t.id)}</td><td>${esc(t.kind)}</td><td>${esc(t.clientId)}</td>
    <td>${esc(t.scopes.join(' '))}</td><td>${esc(t.resource)}</td><td>${Math.round(t.expiresAt - now)} s</td>
    <td>${t.revoked ? 'revoked' : (t.expiresAt <= now ? 'expired' : 'active')}</td>
    <td>${esc(t.sessions.map((u) => u.server + '/' + u.sessionId.slice(0, 8)).join(', '))}</td>
    <td><button data-testid="control-revoke-${esc(t.id)}" onclick="post('/control/api/tokens/revoke',{token:'${esc(t.id)}'})">Revoke</button></td></tr>`).join('');
  $('servers').innerHTML = state.servers.map(serverActions).join('');
}
refresh();
setInterval(() => { if (!document.activeElement || document.activeElement.tagName !== 'INPUT') refresh(); }, 3000);
</script>
</body></html>
"#;
